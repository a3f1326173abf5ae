//! Every WGSL module the simulator compiles parses and validates with naga, so a typo fails
//! `cargo test`, not a user's run; the composition of modules from the files' imports puts
//! each import once, before what needs it, and refuses unknown imports and cycles.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use secretome::gpu::shaders::{self, Source};

#[test]
fn every_shader_module_validates() {
    // Both compositions: with subgroup operations (validated with naga's subgroup
    // capabilities, as wgpu does when the device has them) and without (validated with none,
    // so the fallback cannot use them by mistake).
    for subgroups in [true, false] {
        let modules = shaders::modules(subgroups).unwrap();
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
        .unwrap()
        .into_iter()
        .chain(shaders::modules(false).unwrap())
        .map(|(_, s)| s)
        .collect();
    let embedded = shaders::files();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            used.contains(&text),
            "{} is not part of any module",
            path.display()
        );
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            embedded.iter().any(|f| f.file == name && f.text == text),
            "{name} is not embedded as itself"
        );
    }
}

/// Where each file's text starts in a composed module, in order.
fn composed_files(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter_map(|l| l.strip_prefix("// ---- shaders/"))
        .map(|l| l.trim_end_matches(" ----"))
        .collect()
}

#[test]
fn the_modules_list_their_imports_before_them_once() {
    let diffuse = |subgroups| shaders::module("diffuse.wgsl", subgroups).unwrap();
    assert_eq!(
        composed_files(&diffuse(false)),
        [
            "ledger.wgsl",
            "bricks.wgsl",
            "common.wgsl",
            "workgroup_sum.wgsl",
            "ledger_reduce_tree.wgsl",
            "diffuse.wgsl"
        ]
    );
    assert_eq!(
        composed_files(&diffuse(true)),
        [
            "ledger.wgsl",
            "bricks.wgsl",
            "common.wgsl",
            "ledger_reduce_subgroup.wgsl",
            "diffuse.wgsl"
        ]
    );
    // Every module: each file once, every import of a file before it, the module last.
    for subgroups in [true, false] {
        let library = shaders::library(subgroups);
        for (name, source) in shaders::modules(subgroups).unwrap() {
            let files = composed_files(&source);
            assert_eq!(files.last(), Some(&name), "{name}");
            for (i, file) in files.iter().enumerate() {
                assert!(!files[..i].contains(file), "{name}: {file} twice");
                let src = shaders::files()
                    .into_iter()
                    .find(|f| f.file == *file)
                    .unwrap();
                for import in shaders::imports(&src).unwrap() {
                    let dep = library.iter().find(|l| l.name == import).unwrap();
                    assert!(
                        files[..i].contains(&dep.file),
                        "{name}: {file} before its import {}",
                        dep.file
                    );
                }
            }
        }
    }
    // The viewer's modules stand alone.
    assert_eq!(
        composed_files(&shaders::module("view_render.wgsl", true).unwrap()),
        ["view_render.wgsl"]
    );
}

fn src<'a>(name: &'a str, file: &'a str, text: &'a str) -> Source<'a> {
    Source { name, file, text }
}

#[test]
fn imports_come_depth_first_each_once() {
    // a needs b and c, b needs c and d, c needs d: d, c, b, a.
    let library = [
        src(
            "b",
            "b.wgsl",
            "//! #import c\n//! #import d\nconst B: u32 = 1u;\n",
        ),
        src(
            "c",
            "c.wgsl",
            "// c\n//!   #import   d\nconst C: u32 = 2u;\n",
        ),
        src("d", "d.wgsl", "const D: u32 = 3u;\n"),
    ];
    let root = src(
        "a.wgsl",
        "a.wgsl",
        "// a, which needs\n\n//! #import b\n//! #import c\n//! #import b\nconst A: u32 = 0u;",
    );
    let out = shaders::compose(&root, &library).unwrap();
    assert_eq!(
        composed_files(&out),
        ["d.wgsl", "c.wgsl", "b.wgsl", "a.wgsl"]
    );
    for text in [library[0].text, library[1].text, library[2].text, root.text] {
        assert_eq!(out.matches(text).count(), 1, "{text}");
    }
    assert_eq!(shaders::imports(&root).unwrap(), ["b", "c", "b"]);
    // A file without imports is its own module.
    let d = shaders::compose(&library[2], &[]).unwrap();
    assert_eq!(d, "// ---- shaders/d.wgsl ----\nconst D: u32 = 3u;\n");
}

#[test]
fn an_unknown_import_names_its_file() {
    let library = [src("b", "b.wgsl", "//! #import nowhere\n")];
    let root = src("a.wgsl", "a.wgsl", "//! #import b\n");
    let e = shaders::compose(&root, &library).unwrap_err().to_string();
    assert!(e.contains("b.wgsl") && e.contains("nowhere"), "{e}");
    let e = shaders::module("no_such.wgsl", false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no_such.wgsl"), "{e}");
}

#[test]
fn an_import_cycle_is_an_error_naming_the_files() {
    let library = [
        src("b", "b.wgsl", "//! #import c\n"),
        src("c", "c.wgsl", "//! #import b\n"),
        src("s", "s.wgsl", "//! #import s\n"),
    ];
    let root = src("a.wgsl", "a.wgsl", "//! #import b\n");
    let e = shaders::compose(&root, &library).unwrap_err().to_string();
    assert!(e.contains("shader c.wgsl"), "{e}");
    assert!(e.contains("b.wgsl → c.wgsl → b.wgsl"), "{e}");
    let root = src("a.wgsl", "a.wgsl", "//! #import s\n");
    let e = shaders::compose(&root, &library).unwrap_err().to_string();
    assert!(e.contains("s.wgsl → s.wgsl"), "{e}");
}

#[test]
fn directives_are_checked() {
    let library = [src("b", "b.wgsl", "")];
    for (text, line) in [
        // Below the first declaration.
        ("//! #import b\nconst A: u32 = 0u;\n//! #import b\n", 3),
        // Misspelt, or not one name.
        ("//! #imprt b\n", 1),
        ("// a\n//! #import\n", 2),
        ("//! #import b c\n", 1),
    ] {
        let root = src("a.wgsl", "a.wgsl", text);
        let e = shaders::compose(&root, &library).unwrap_err().to_string();
        assert!(e.contains(&format!("a.wgsl:{line}")), "{text:?}: {e}");
    }
    // Other comments, doc-like ones included, are no directives.
    let root = src(
        "a.wgsl",
        "a.wgsl",
        "//! a note\n// #import b\nconst A: u32 = 0u;\n",
    );
    assert!(shaders::imports(&root).unwrap().is_empty());
}

#[test]
fn dump_writes_one_file_per_module() {
    let dir = std::env::temp_dir().join(format!("secretome-shader-dump-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for subgroups in [true, false] {
        let written = shaders::dump(&dir.join("modules"), subgroups).unwrap();
        let modules = shaders::modules(subgroups).unwrap();
        assert_eq!(written.len(), modules.len());
        assert_eq!(
            std::fs::read_dir(dir.join("modules")).unwrap().count(),
            modules.len()
        );
        for (name, source) in modules {
            let text = std::fs::read_to_string(dir.join("modules").join(name)).unwrap();
            assert_eq!(text, source, "{name}");
        }
    }
    // A directory that cannot be made is an error, not a panic.
    std::fs::write(dir.join("file"), "").unwrap();
    assert!(shaders::dump(&dir.join("file"), true).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
