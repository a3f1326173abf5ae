#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]
//! Depots of secreting cells as sources: secretion per step is exactly cells × rate × fold
//! (ledger), the GPU agrees with the CPU twin, and a change of cell count takes effect at the
//! next step.

mod common;

use common::{gpu, max_rel_diff};
use secretome::sim::DepotSource;
use secretome::{CpuReference, Grid, Problem, Simulation, SpeciesTable, TissueLabel};

/// A 20³ block of myocardium at 0.5 mm with a border-zone slab (x ≥ 10) and two overlapping
/// depots, one straddling the border.
fn problem() -> Problem {
    let n = 20;
    let mut grid = Grid::filled([n; 3], 0.5, TissueLabel::Myocardium);
    for z in 0..n {
        for y in 0..n {
            for x in 10..n {
                let i = grid.index(x, y, z);
                grid.labels[i] = TissueLabel::BorderZone;
            }
        }
    }
    let table = SpeciesTable::default_table().unwrap();
    let mut p = Problem::new(grid, table, 60.0);
    let g = &p.grid;
    // Depot a: 8 voxels around the border, equal weights.
    let mut a = Vec::new();
    for z in 9..11 {
        for y in 9..11 {
            for x in 9..11 {
                a.push((g.index(x, y, z), 1.0 / 8.0));
            }
        }
    }
    // Depot b: 3 voxels, one shared with depot a, unequal weights.
    let b = vec![
        (g.index(9, 9, 9), 0.5),
        (g.index(8, 9, 9), 0.3),
        (g.index(7, 9, 9), 0.2),
    ];
    let sigma: Vec<f64> = p
        .species
        .species
        .iter()
        .map(|s| s.secretion.value)
        .collect();
    assert!(
        sigma.iter().all(|&v| v > 1e-12 && v < 1e-6),
        "σ in ng/cell/s: {sigma:?}"
    );
    p.depots = vec![
        DepotSource {
            name: "a".into(),
            voxels: a,
            cells: 2e7,
            secretion: sigma.clone(),
        },
        DepotSource {
            name: "b".into(),
            voxels: b,
            cells: 5e6,
            secretion: sigma.iter().map(|s| 2.0 * s).collect(),
        },
    ];
    p
}

/// What the depots secrete in one step of `dt` s: Σ cells · σ · Σ w · fold(label) · dt, ng.
fn expected_secretion(p: &Problem) -> Vec<f64> {
    (0..p.n_species())
        .map(|s| {
            p.depots
                .iter()
                .map(|d| {
                    let folded: f64 = d
                        .voxels
                        .iter()
                        .map(|&(v, w)| w * p.fold(p.grid.labels[v], s))
                        .sum();
                    d.cells * d.secretion[s] * folded * p.dt
                })
                .sum()
        })
        .collect()
}

#[test]
fn secretion_per_step_is_cells_times_rate_times_fold() {
    let mut p = problem();
    // Secretion alone, so the ledger's secreted term is the only one.
    p.terms = secretome::Terms {
        sources: true,
        ..secretome::Terms::NONE
    };
    let want = expected_secretion(&p);
    // The border-zone fold is in play (VEGF's is 5).
    assert!(p.fold(TissueLabel::BorderZone, 0) > 1.0);
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    let mut cpu = CpuReference::new(&p).unwrap();
    sim.step(1);
    cpu.step(1);
    let gl = sim.ledger().unwrap();
    let cl = cpu.ledger();
    for s in 0..p.n_species() {
        let g = gl.species[s].secreted;
        let c = cl.species[s].secreted;
        assert!(
            (c - want[s]).abs() <= 1e-12 * want[s],
            "CPU {s}: {c} vs {}",
            want[s]
        );
        assert!(
            (g - want[s]).abs() <= 1e-5 * want[s],
            "GPU {s}: {g} vs {}",
            want[s]
        );
    }
    // Halving the cells halves the next step's secretion.
    let cells: Vec<f64> = p.depots.iter().map(|d| 0.5 * d.cells).collect();
    sim.set_depot_cells(&cells).unwrap();
    cpu.set_depot_cells(&cells).unwrap();
    sim.step(1);
    cpu.step(1);
    let g2 = sim.ledger().unwrap();
    for s in 0..p.n_species() {
        let step2 = g2.species[s].secreted - gl.species[s].secreted;
        assert!(
            (step2 - 0.5 * want[s]).abs() <= 1e-5 * want[s],
            "after halving: {step2}"
        );
    }
}

#[test]
fn depots_on_gpu_match_the_cpu_twin_with_every_term_on() {
    let p = problem();
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    let mut cpu = CpuReference::new(&p).unwrap();
    sim.step(30);
    cpu.step(30);
    let f = sim.read_fields().unwrap();
    let d = max_rel_diff(&f, cpu.fields());
    assert!(d < 1e-4, "GPU vs CPU: {d:e} of the field max");
    assert!(f.iter().any(|&v| v > 0.0));
}

#[test]
fn bad_depots_are_refused() {
    let p = problem();
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    let mut d = p.depots[0].clone();
    d.voxels[0].1 = 0.5; // weights no longer sum to 1
    let e = sim.set_depots(&[d]).unwrap_err().to_string();
    assert!(e.contains("sum to") && e.contains("expected 1"), "{e}");
    let e = sim.set_depot_cells(&[1.0]).unwrap_err().to_string();
    assert!(e.contains("2 depots"), "{e}");
    let e = sim
        .set_depot_cells(&[1.0, f64::NAN])
        .unwrap_err()
        .to_string();
    assert!(e.contains("≥ 0"), "{e}");
}
