//! The module layering of the library (see `src/lib.rs` and docs/architecture.md): every
//! `crate::` path in a module names a module of the same layer or a lower one, so the imports
//! follow the data path scenario → geometry → problem → solver → outputs / viewer and no module
//! cycle can form between layers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The library's top-level modules, lowest layer first; modules on one line share a layer
/// (and may not use one another).
const LAYERS: [&[&str]; 9] = [
    &["error"],
    &["base"],
    &["scenario"],
    &["geometry"],
    &["problem"],
    &["gpu"],
    &["sim"],
    &["output"],
    &["batch", "session", "render", "bench"],
];

/// What the crate root re-exports, by the module it comes from.
const ROOT_REEXPORTS: [(&str, &str); 13] = [
    ("Result", "error"),
    ("SimError", "error"),
    ("InputError", "error"),
    ("Grid", "base"),
    ("LabelTable", "base"),
    ("Species", "base"),
    ("SpeciesTable", "base"),
    ("TissueLabel", "base"),
    ("GpuContext", "gpu"),
    ("Problem", "problem"),
    ("SourceMap", "problem"),
    ("Terms", "problem"),
    ("CpuReference", "sim"),
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The first segment of every path after `crate::` in `text` (both `crate::a::b` and each item
/// of `crate::{a, b::c}`).
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            for c in inner.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.push(name);
                    }
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else {
                    item.push(c);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn no_module_uses_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    // Every top-level module of the library has a layer.
    for line in lib.lines() {
        if let Some(m) = line
            .strip_prefix("pub mod ")
            .and_then(|l| l.strip_suffix(';'))
        {
            assert!(
                layer(m).is_some(),
                "src/lib.rs: module {m} has no layer in LAYERS"
            );
        }
    }
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = BTreeMap::new();
    let mut checked = 0;
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel.iter().next().unwrap().to_string_lossy().to_string();
        let own = first.trim_end_matches(".rs").to_string();
        // The binary (main.rs, cli/, viewer/) sits above the library; lib.rs is its root.
        let Some(own_layer) = layer(&own) else {
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(&f).unwrap();
        for name in crate_paths(&text) {
            let target = ROOT_REEXPORTS
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(name.as_str(), |(_, m)| m);
            let Some(l) = layer(target) else {
                panic!(
                    "{}: crate::{name} is neither a module nor a root re-export",
                    rel.display()
                );
            };
            if target != own && l >= own_layer {
                wrong
                    .entry(format!("{} ({own})", rel.display()))
                    .or_insert_with(Vec::new)
                    .push(format!("{name} ({target})"));
            }
        }
    }
    assert!(checked > 40, "only {checked} files checked");
    assert!(
        wrong.is_empty(),
        "modules using their own or a higher layer: {wrong:#?}"
    );
}

#[test]
fn crate_paths_are_read_from_use_lists_and_inline_paths() {
    let text = "use crate::base::{Grid, TissueLabel};\nuse crate::{error::Result, GpuContext};\nlet x = crate::sim::Simulation::new();";
    assert_eq!(crate_paths(text), ["base", "error", "GpuContext", "sim"]);
}
