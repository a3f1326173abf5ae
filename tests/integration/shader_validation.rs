//! Every WGSL module the simulator compiles parses and validates with naga, so a typo fails
//! `cargo test`, not a user's run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use secretome::gpu::shaders;

#[test]
fn every_shader_module_validates() {
    // Both compositions: with subgroup operations (validated with naga's subgroup
    // capabilities, as wgpu does when the device has them) and without (validated with none,
    // so the fallback cannot use them by mistake).
    for subgroups in [true, false] {
        let modules = shaders::modules(subgroups);
        assert!(modules.len() >= 4);
        let (caps, ops) = if subgroups {
            (
                naga::valid::Capabilities::SUBGROUP,
                naga::valid::SubgroupOperationSet::all(),
            )
        } else {
            (
                naga::valid::Capabilities::default(),
                naga::valid::SubgroupOperationSet::empty(),
            )
        };
        for (name, source) in modules {
            let module = naga::front::wgsl::parse_str(&source)
                .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), caps)
                .subgroup_stages(naga::valid::ShaderStages::COMPUTE)
                .subgroup_operations(ops)
                .validate(&module)
                .unwrap_or_else(|e| {
                    panic!(
                        "{name} (subgroups {subgroups}): {}",
                        e.emit_to_string(&source)
                    )
                });
            assert!(!module.entry_points.is_empty(), "{name} has no entry point");
        }
    }
}

#[test]
fn every_wgsl_file_is_compiled_by_the_simulator() {
    // A shader file that no module includes would never be validated or run.
    let used: String = shaders::modules(true)
        .into_iter()
        .chain(shaders::modules(false))
        .map(|(_, s)| s)
        .collect();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            used.contains(&text),
            "{} is not part of any module",
            path.display()
        );
    }
}
