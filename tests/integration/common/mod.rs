//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod vti_reader;

use std::sync::OnceLock;

use secretome::base::TissueLabel;
use secretome::{GpuContext, Grid};

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

/// A small deterministic pseudo-random generator (xorshift), for reproducible test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A grid holding every label: an outside rim, a blood pool, infarct with a border zone,
/// and myocardium, so every branch of the kernels runs.
pub fn heterogeneous_grid(dims: [usize; 3], spacing: f64) -> Grid {
    let mut g = Grid::filled(dims, spacing, TissueLabel::Myocardium);
    let [nx, ny, nz] = dims;
    let c = [nx as f64 / 2.0, ny as f64 / 2.0, nz as f64 / 2.0];
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let i = g.index(x, y, z);
                let d = |cx: f64, cy: f64, cz: f64| {
                    ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2) + (z as f64 - cz).powi(2))
                        .sqrt()
                };
                let label = if x == 0 || y == ny - 1 || (x + y + z) % 29 == 0 {
                    TissueLabel::Outside
                } else if d(c[0] * 0.7, c[1], c[2]) < nx as f64 * 0.15 {
                    TissueLabel::BloodLv
                } else if d(c[0] * 1.4, c[1] * 0.8, c[2]) < nx as f64 * 0.12 {
                    TissueLabel::Infarct
                } else if d(c[0] * 1.4, c[1] * 0.8, c[2]) < nx as f64 * 0.2 {
                    TissueLabel::BorderZone
                } else {
                    TissueLabel::Myocardium
                };
                g.labels[i] = label;
            }
        }
    }
    g
}

/// Largest absolute difference between two fields, relative to the largest value of `b`.
pub fn max_rel_diff(a: &[f32], b: &[f64]) -> f64 {
    let max = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = a
        .iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((*x as f64 - y).abs()));
    diff / max
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

/// Every slot of the compartments agrees between the GPU and the CPU twin: each species'
/// plasma course (now, step mean and end, the three half-step means), each depot's cells and
/// sampled concentrations, each remote site's cells and amounts. `rel` is relative to the
/// largest value of the same kind (per species for concentrations and amounts).
pub fn assert_compartments_match(
    gpu: &secretome::sim::Compartments,
    cpu: &secretome::sim::Compartments,
    rel: f64,
) {
    let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= rel * scale.max(1e-30);
    assert_eq!(gpu.plasma.len(), cpu.plasma.len(), "species");
    for (s, (g, c)) in gpu.plasma.iter().zip(&cpu.plasma).enumerate() {
        let scale = c.values().iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for ((name, a), b) in secretome::sim::PlasmaSteps::NAMES
            .iter()
            .zip(g.values())
            .zip(c.values())
        {
            assert!(
                close(a, b, scale),
                "plasma {name} of species {s}: GPU {a} CPU {b}"
            );
        }
    }
    assert_eq!(gpu.depot_cells.len(), cpu.depot_cells.len(), "depots");
    for (d, (&a, &b)) in gpu.depot_cells.iter().zip(&cpu.depot_cells).enumerate() {
        assert!(close(a, b, b), "cells of depot {d}: GPU {a} CPU {b}");
    }
    assert_eq!(
        gpu.depot_concentrations.len(),
        cpu.depot_concentrations.len(),
        "depot concentrations"
    );
    let ns = cpu.plasma.len();
    for s in 0..ns {
        let scale = cpu
            .depot_concentrations
            .iter()
            .fold(0.0f64, |m, v| m.max(v[s].abs()));
        for (d, (g, c)) in gpu
            .depot_concentrations
            .iter()
            .zip(&cpu.depot_concentrations)
            .enumerate()
        {
            assert!(
                close(g[s], c[s], scale),
                "concentration of species {s} at depot {d}: GPU {} CPU {}",
                g[s],
                c[s]
            );
        }
    }
    assert_eq!(
        gpu.remote_cells.len(),
        cpu.remote_cells.len(),
        "remote sites"
    );
    for (d, (&a, &b)) in gpu.remote_cells.iter().zip(&cpu.remote_cells).enumerate() {
        assert!(close(a, b, b), "cells at remote site {d}: GPU {a} CPU {b}");
    }
    for s in 0..ns {
        let scale = cpu
            .remote_amounts
            .iter()
            .fold(0.0f64, |m, v| m.max(v[s].abs()));
        for (d, (g, c)) in gpu
            .remote_amounts
            .iter()
            .zip(&cpu.remote_amounts)
            .enumerate()
        {
            assert!(
                close(g[s], c[s], scale),
                "species {s} at remote site {d}: GPU {} CPU {}",
                g[s],
                c[s]
            );
        }
    }
}
