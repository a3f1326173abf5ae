//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod picture;
mod portable;
pub mod vti_reader;

pub use portable::*;

use std::sync::OnceLock;

use secretome::GpuContext;

/// One GPU context for the whole test binary (opening a device is slow on lavapipe).
pub fn gpu() -> &'static GpuContext {
    static CTX: OnceLock<GpuContext> = OnceLock::new();
    CTX.get_or_init(|| match GpuContext::new() {
        Ok(c) => {
            eprintln!("adapter: {}", c.report);
            c
        }
        Err(e) => panic!("tests need a GPU adapter (lavapipe in CI): {e}"),
    })
}

/// A PNG of the stated size that is not blank: many colours, and no colour covering almost all
/// of it.
pub fn assert_picture(path: &std::path::Path, size: (u32, u32)) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), size, "{}", path.display());
    let mut counts = std::collections::HashMap::new();
    for p in img.pixels() {
        *counts.entry(p.0).or_insert(0usize) += 1;
    }
    let total = (size.0 * size.1) as usize;
    let top = counts.values().copied().max().unwrap_or(0);
    assert!(
        counts.len() >= 16 && top < total * 97 / 100,
        "{}: {} colours, the commonest covers {:.1} %",
        path.display(),
        counts.len(),
        100.0 * top as f64 / total as f64
    );
}

/// Runs the `secretome` binary: exit code, stdout, stderr.
pub fn secretome(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_secretome"))
        .args(args)
        .output()
        .expect("running the secretome binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
