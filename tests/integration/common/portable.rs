//! Test helpers that need neither files, processes nor a blocking GPU device, so that the
//! browser tests (`tests/web/main.rs`, which includes this file by path) share them with the
//! desktop integration tests (`common/mod.rs` re-exports them).

use secretome::base::TissueLabel;
use secretome::problem::{Autocrine, DepotSource, PlasmaCompartment, RemoteDepot};
use secretome::sim::{body_closure, Ledger, PlasmaLedger, SpeciesLedger};
use secretome::{Grid, Problem, SpeciesTable};

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

/// The problem on which the GPU solver is compared with its CPU twin: a 26 × 22 × 40
/// [`heterogeneous_grid`] at 0.1 mm (every label), smooth pseudo-random initial fields,
/// twelve point sources, exposure readouts on with synthetic AHA segments, dt = 120 s (several
/// RKL1 stages).
pub fn twin_problem() -> Problem {
    let grid = heterogeneous_grid([26, 22, 40], 0.1);
    let species = SpeciesTable::default_table().unwrap();
    // dt = 120 s needs several RKL1 stages at h = 0.1 mm.
    let mut p = Problem::new(grid, species, 120.0);
    p.plasma = vec![0.4, 0.2, 1.5, 3.0];
    let mut rng = Rng(7);
    let n = p.grid.voxel_count();
    for s in 0..p.n_species() {
        for v in 0..n {
            let [x, y, _] = p.grid.coords(v);
            p.initial[s * n + v] = (2.0
                + (x as f64 * 0.3).sin() * (y as f64 * 0.2).cos()
                + 0.5 * rng.next_f64()) as f32
                * (s + 1) as f32;
        }
    }
    // Readouts: exposure on, synthetic AHA segments over the tissue, EC50s that the fields
    // cross.
    p.exposure = true;
    p.segments = (0..n)
        .map(|v| {
            let [x, y, z] = p.grid.coords(v);
            if p.grid.labels[v].is_tissue() {
                (1 + (x / 3 + y / 4 + z / 5) % 17) as u8
            } else {
                0
            }
        })
        .collect();
    for (s, sp) in p.species.species.iter_mut().enumerate() {
        sp.ec50.value = 2.5 * (s + 1) as f64;
    }
    for k in 0..12 {
        let v = p.grid.index(3 + k * 2, 4 + k, 5 + 2 * k);
        if !p.grid.labels[v].is_tissue() {
            continue;
        }
        for s in 0..p.n_species() {
            let vol = p.interstitial_ml(v);
            p.sources.add_amount(v, s, 1e-4 * (k + s + 1) as f64, vol);
        }
    }
    p
}

/// The problem with depots and dynamic plasma: six depots (their cells four to a vec4) with the
/// autocrine feedback, a small plasma volume so the heart's exchange moves it, and a remote
/// site feeding it, so that every compartment slot has something to compare.
pub fn with_compartments(mut p: Problem) -> Problem {
    let sigma: Vec<f64> = p
        .species
        .species
        .iter()
        .map(|s| 50.0 * s.secretion.value)
        .collect();
    for d in 0..6usize {
        let voxels: Vec<(usize, f64)> = (0..3)
            .map(|i| p.grid.index(4 + 3 * d + i, 6 + d, 8 + 4 * d))
            .filter(|&v| p.grid.labels[v].is_tissue())
            .collect::<Vec<_>>()
            .iter()
            .map(|&v| (v, 1.0))
            .collect();
        let w = 1.0 / voxels.len() as f64;
        p.depots.push(DepotSource {
            name: format!("depot {d}"),
            voxels: voxels.into_iter().map(|(v, _)| (v, w)).collect(),
            cells: 1e6 * (d + 1) as f64,
            secretion: sigma.clone(),
            k_death: std::f64::consts::LN_2 / 3600.0 * (1.0 + d as f64),
            cell_free: false,
        });
    }
    let ns = p.n_species();
    p.autocrine = Autocrine {
        enabled: true,
        a_max: 0.5,
        k_half: 5.0,
        hill: 1.0,
        weights: vec![0.25; ns],
    };
    p.compartment = PlasmaCompartment {
        dynamic: true,
        volume_ml: 5.0,
        remote: vec![RemoteDepot {
            name: "lungs".into(),
            cells: 5e7,
            secretion: sigma,
            k_death: std::f64::consts::LN_2 / 7200.0,
            k_abs: std::f64::consts::LN_2 / 600.0,
            bioavailability: 0.9,
            k_local: vec![1e-4; ns],
            volume_ml: 10.0,
            amount: vec![2.0; ns],
        }],
    };
    p
}

/// The GPU's ledger agrees with the CPU twin's term by term (1e-4 of the species' largest
/// term: f32 sums on the GPU), every term the twin problem switches on is active, and both
/// close: the CPU's to 1e-10 (f64), the GPU's to 1e-4. The initial amounts are each solver's
/// own (`initial_amounts()`).
pub fn assert_ledgers_match(gpu: &Ledger, cpu: &Ledger, gpu_initial: &[f64], cpu_initial: &[f64]) {
    assert_eq!(gpu.species.len(), cpu.species.len(), "species");
    for (s, (a, b)) in gpu.species.iter().zip(&cpu.species).enumerate() {
        assert_ledger_terms_match(s, a, b);
        let ec = b.closure_error(cpu_initial[s]);
        let eg = a.closure_error(gpu_initial[s]);
        assert!(ec.abs() < 1e-10, "CPU ledger closure {ec:e}");
        assert!(eg.abs() < 1e-4, "GPU ledger closure {eg:e}");
        assert!(b.to_blood_faces.abs() > 0.0 && b.taken_up > 0.0 && b.secreted > 0.0);
    }
}

/// Species `s`'s ledger on the GPU (`a`) and on the CPU twin (`b`) agree term by term, to
/// 1e-4 of the species' largest term (f32 sums on the GPU).
pub fn assert_ledger_terms_match(s: usize, a: &SpeciesLedger, b: &SpeciesLedger) {
    {
        let scale = [
            b.secreted,
            b.degraded,
            b.taken_up,
            b.to_plasma_capillary.abs(),
            b.to_blood_faces.abs(),
            b.in_tissue,
        ]
        .into_iter()
        .fold(0.0, f64::max);
        for (name, x, y) in [
            ("secreted", a.secreted, b.secreted),
            ("degraded", a.degraded, b.degraded),
            ("taken up", a.taken_up, b.taken_up),
            ("capillary", a.to_plasma_capillary, b.to_plasma_capillary),
            ("blood faces", a.to_blood_faces, b.to_blood_faces),
            ("in tissue", a.in_tissue, b.in_tissue),
        ] {
            assert!(
                (x - y).abs() <= 1e-4 * scale,
                "species {s} {name}: GPU {x} CPU {y}"
            );
        }
    }
}

/// Whole-body balance of each species (heart tissue, plasma and remote sites,
/// [`body_closure`]) of a run of `p` from its start: `tissue_initial` is the solver's
/// `initial_amounts()`, to which the plasma's and the remote sites' starting amounts are added.
pub fn body_closures(
    p: &Problem,
    tissue_initial: &[f64],
    heart: &Ledger,
    plasma: &[PlasmaLedger],
) -> Vec<f64> {
    (0..p.n_species())
        .map(|s| {
            let initial = tissue_initial[s]
                + p.plasma[s] * p.compartment.volume_ml
                + p.compartment
                    .remote
                    .iter()
                    .map(|r| r.amount[s])
                    .sum::<f64>();
            body_closure(&heart.species[s], &plasma[s], initial)
        })
        .collect()
}
