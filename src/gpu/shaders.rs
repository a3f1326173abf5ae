//! WGSL sources and their composition into the modules the simulator and the viewer compile.
//!
//! Every file under `shaders/` is embedded here. A file states what it needs with directive
//! lines at its top, one import per line:
//!
//! ```text
//! //! #import common
//! //! #import ledger_reduce
//! ```
//!
//! (a WGSL line comment, so naga, editors and other tools read the rest of the file as it is).
//! An import names a library file by its stem (`common` is `shaders/common.wgsl`), except
//! `ledger_reduce`, a variant: `ledger_reduce_subgroup.wgsl` where the device has subgroup
//! operations, `ledger_reduce_tree.wgsl` elsewhere. [`compose`] writes a module as its imports,
//! depth first, each library file once and before every file that imports it, then the file
//! itself; an unknown import, an import cycle or a directive below the file's first declaration
//! is an error that names the file.
//!
//! Setting `SECRETOME_DUMP_SHADERS=DIR` ([`DUMP_ENV`]) writes the composed source of each
//! module to `DIR/<module name>` whenever the program composes it ([`modules`] writes every
//! module, [`module`] the one asked for), for reading what the driver was given; a failure to
//! write there is logged as a warning and changes nothing else. [`dump`] does the same for a
//! directory given as an argument.

use std::path::{Path, PathBuf};

use crate::error::{Result, SimError};

/// The environment variable naming a directory to write every composed module to (see the
/// module documentation).
pub const DUMP_ENV: &str = "SECRETOME_DUMP_SHADERS";

/// A directive line is this comment marker, then `#` and the directive (`//! #import NAME`;
/// blanks between the parts are allowed).
const DIRECTIVE: &str = "//!";

/// One WGSL file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source<'a> {
    /// The name it is imported by (`common`), or compiled as for a module (`diffuse.wgsl`).
    pub name: &'a str,
    /// Its path under `shaders/`, as error messages and the composed text name it.
    pub file: &'a str,
    pub text: &'a str,
}

macro_rules! wgsl {
    ($name:literal, $file:literal) => {
        Source {
            name: $name,
            file: $file,
            text: include_str!(concat!("../../shaders/", $file)),
        }
    };
}

/// The modules with entry points, as the simulator and the viewer compile them.
const MODULES: [Source<'static>; 11] = [
    wgsl!("diffuse.wgsl", "diffuse.wgsl"),
    wgsl!("react.wgsl", "react.wgsl"),
    wgsl!("mass.wgsl", "mass.wgsl"),
    wgsl!("reduce.wgsl", "reduce.wgsl"),
    wgsl!("depot_sample.wgsl", "depot_sample.wgsl"),
    wgsl!("depot_update.wgsl", "depot_update.wgsl"),
    wgsl!("plasma_update.wgsl", "plasma_update.wgsl"),
    wgsl!("regions.wgsl", "regions.wgsl"),
    wgsl!("levels.wgsl", "levels.wgsl"),
    wgsl!("view_extract.wgsl", "view_extract.wgsl"),
    wgsl!("view_render.wgsl", "view_render.wgsl"),
];

/// The files that are only imported, by import name (the variants of `ledger_reduce` apart).
const LIBRARY: [Source<'static>; 4] = [
    wgsl!("ledger", "ledger.wgsl"),
    wgsl!("bricks", "bricks.wgsl"),
    wgsl!("common", "common.wgsl"),
    wgsl!("workgroup_sum", "workgroup_sum.wgsl"),
];

/// `ledger_reduce` with subgroup operations.
const LEDGER_REDUCE_SUBGROUP: Source<'static> =
    wgsl!("ledger_reduce", "ledger_reduce_subgroup.wgsl");
/// `ledger_reduce` with a workgroup tree in shared memory.
const LEDGER_REDUCE_TREE: Source<'static> = wgsl!("ledger_reduce", "ledger_reduce_tree.wgsl");

/// Every embedded WGSL file, modules, library and both variants.
pub fn files() -> Vec<Source<'static>> {
    MODULES
        .iter()
        .chain(&LIBRARY)
        .chain([&LEDGER_REDUCE_SUBGROUP, &LEDGER_REDUCE_TREE])
        .copied()
        .collect()
}

/// The names of the modules, in the order [`modules`] returns them.
pub fn module_names() -> Vec<&'static str> {
    MODULES.iter().map(|m| m.name).collect()
}

/// What the imports resolve to. `subgroups`: the device has wgpu's `SUBGROUP` feature, so
/// `ledger_reduce` is the subgroup reduction instead of the workgroup tree (the same function,
/// two bodies).
pub fn library(subgroups: bool) -> Vec<Source<'static>> {
    let reduce = if subgroups {
        LEDGER_REDUCE_SUBGROUP
    } else {
        LEDGER_REDUCE_TREE
    };
    LIBRARY.iter().copied().chain([reduce]).collect()
}

fn error(file: &str, message: impl std::fmt::Display) -> SimError {
    SimError::Gpu(format!("shader {file}: {message}"))
}

/// The names a file imports, in the order its directives give them. Directives belong to the
/// file's head (blank and comment lines before its first declaration).
pub fn imports<'a>(src: &Source<'a>) -> Result<Vec<&'a str>> {
    let mut names = Vec::new();
    let mut in_head = true;
    for (i, line) in src.text.lines().enumerate() {
        let line = line.trim();
        let at = format!("{}:{}", src.file, i + 1);
        let directive = line
            .strip_prefix(DIRECTIVE)
            .and_then(|rest| rest.trim_start().strip_prefix('#'));
        let Some(directive) = directive else {
            if !line.is_empty() && !line.starts_with("//") {
                in_head = false;
            }
            continue;
        };
        let mut words = directive.split_whitespace();
        let name = match (words.next(), words.next(), words.next()) {
            (Some("import"), Some(name), None) => name,
            _ => {
                return Err(error(
                    &at,
                    format!("`{line}` is no directive; expected `{DIRECTIVE} #import NAME`"),
                ))
            }
        };
        if !in_head {
            return Err(error(
                &at,
                format!("`{line}` comes after a declaration; imports belong at the file's top"),
            ));
        }
        names.push(name);
    }
    Ok(names)
}

/// A module's full source: `root`'s imports, resolved in `library` by name, depth first, each
/// file once and before every file that imports it, then `root` itself. Each file's text comes
/// whole, after a comment line naming it.
pub fn compose(root: &Source<'_>, library: &[Source<'_>]) -> Result<String> {
    let mut out = String::new();
    let mut done = Vec::new();
    let mut open = Vec::new();
    include(root, library, &mut open, &mut done, &mut out)?;
    Ok(out)
}

/// Appends `src` after its imports. `open`: the files being included, outermost first (an
/// import of one of them closes a cycle); `done`: the names already in `out`.
fn include<'a>(
    src: &Source<'a>,
    library: &[Source<'a>],
    open: &mut Vec<Source<'a>>,
    done: &mut Vec<&'a str>,
    out: &mut String,
) -> Result<()> {
    open.push(*src);
    for name in imports(src)? {
        if done.contains(&name) {
            continue;
        }
        if let Some(at) = open.iter().position(|s| s.name == name) {
            let cycle: Vec<&str> = open[at..]
                .iter()
                .chain([&open[at]])
                .map(|s| s.file)
                .collect();
            return Err(error(
                src.file,
                format!("import cycle {}", cycle.join(" → ")),
            ));
        }
        let dep = library.iter().find(|s| s.name == name).ok_or_else(|| {
            let known: Vec<&str> = library.iter().map(|s| s.name).collect();
            error(
                src.file,
                format!(
                    "imports `{name}`, which is not in the shader library ({})",
                    known.join(", ")
                ),
            )
        })?;
        include(dep, library, open, done, out)?;
    }
    open.pop();
    done.push(src.name);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("// ---- shaders/{} ----\n", src.file));
    out.push_str(src.text);
    Ok(())
}

/// Every module, composed: (name, source).
fn compose_all(subgroups: bool) -> Result<Vec<(&'static str, String)>> {
    let library = library(subgroups);
    MODULES
        .iter()
        .map(|m| Ok((m.name, compose(m, &library)?)))
        .collect()
}

/// Every shader module as compiled: (name, full source). `subgroups` picks the ledger
/// reduction (see [`library`]). Writes them to `$SECRETOME_DUMP_SHADERS` where that is set.
pub fn modules(subgroups: bool) -> Result<Vec<(&'static str, String)>> {
    let modules = compose_all(subgroups)?;
    dump_to_env(&modules);
    Ok(modules)
}

/// One module (`view_render.wgsl`), composed as [`modules`] would. Writes it to
/// `$SECRETOME_DUMP_SHADERS` where that is set.
pub fn module(name: &str, subgroups: bool) -> Result<String> {
    let root = MODULES
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| error(name, "no such shader module"))?;
    let source = compose(root, &library(subgroups))?;
    dump_to_env(&[(root.name, source.clone())]);
    Ok(source)
}

/// Writes every module, composed for `subgroups`, to `dir` (created if missing), one file per
/// module named as the module; returns the files written. What `SECRETOME_DUMP_SHADERS` does.
pub fn dump(dir: &Path, subgroups: bool) -> Result<Vec<PathBuf>> {
    write_modules(dir, &compose_all(subgroups)?)
}

fn write_modules(dir: &Path, modules: &[(&str, String)]) -> Result<Vec<PathBuf>> {
    let io = |path: &Path, e: std::io::Error| SimError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    modules
        .iter()
        .map(|(name, source)| {
            let path = dir.join(name);
            std::fs::write(&path, source).map_err(|e| io(&path, e))?;
            Ok(path)
        })
        .collect()
}

/// Writes `modules` to `$SECRETOME_DUMP_SHADERS` where that is set; a failure is a warning.
fn dump_to_env(modules: &[(&str, String)]) {
    let Some(dir) = std::env::var_os(DUMP_ENV).filter(|d| !d.is_empty()) else {
        return;
    };
    if let Err(e) = write_modules(Path::new(&dir), modules) {
        log::warn!("{DUMP_ENV}: could not write the composed shaders: {e}");
    }
}
