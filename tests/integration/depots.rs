#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]
//! Depots of secreting cells as sources: secretion per step is exactly cells × rate × fold
//! (ledger), the GPU agrees with the CPU twin, and a change of cell count takes effect at the
//! next step.

use crate::common::{gpu, max_rel_diff};
use secretome::problem::{Autocrine, DepotSource};
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
            k_death: 0.0,
            cell_free: false,
        },
        DepotSource {
            name: "b".into(),
            voxels: b,
            cells: 5e6,
            secretion: sigma.iter().map(|s| 2.0 * s).collect(),
            k_death: 0.0,
            cell_free: false,
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

/// A depot of `cells` spread evenly over the voxels of a cube of `side` voxels at the centre
/// of a 20³ block of myocardium, with the autocrine feedback of MODEL.md §3.
fn autocrine_problem(side: usize, enabled: bool) -> Problem {
    let n = 20;
    let grid = Grid::filled([n; 3], 0.5, TissueLabel::Myocardium);
    let table = SpeciesTable::default_table().unwrap();
    let mut p = Problem::new(grid, table, 600.0);
    let lo = (n - side) / 2;
    let mut voxels = Vec::new();
    for z in lo..lo + side {
        for y in lo..lo + side {
            for x in lo..lo + side {
                voxels.push((p.grid.index(x, y, z), 1.0 / (side * side * side) as f64));
            }
        }
    }
    let sigma = p
        .species
        .species
        .iter()
        .map(|s| s.secretion.value)
        .collect();
    p.depots = vec![DepotSource {
        name: "cells".into(),
        voxels,
        cells: 2e7,
        secretion: sigma,
        k_death: std::f64::consts::LN_2 / (3.0 * 86400.0),
        cell_free: false,
    }];
    let vegf = p.species.index_of("VEGF").unwrap();
    let hgf = p.species.index_of("HGF").unwrap();
    let mut weights = vec![0.0; p.n_species()];
    weights[vegf] = 0.5;
    weights[hgf] = 0.5;
    p.autocrine = Autocrine {
        enabled,
        a_max: 0.5,
        k_half: 1.0,
        hill: 1.0,
        weights,
    };
    p
}

fn cells_after(p: &Problem, steps: usize) -> (f64, f64) {
    let mut sim = Simulation::new(gpu(), p).unwrap();
    let mut cpu = CpuReference::new(p).unwrap();
    sim.step(steps);
    cpu.step(steps);
    (sim.depot_cells().unwrap()[0], cpu.depot_cells()[0])
}

/// Off: cells follow N₀ e^{−k t}. On: the GPU's cells and depot concentrations follow the CPU
/// twin, and more cells survive; a dense depot survives better than a diluted one.
#[test]
fn autocrine_feedback_keeps_cells_alive() {
    let steps = 288; // 2 days at 600 s
    let t = steps as f64 * 600.0;
    let off = autocrine_problem(2, false);
    let (g_off, c_off) = cells_after(&off, steps);
    let exact = 2e7 * (-off.depots[0].k_death * t).exp();
    assert!(
        (c_off - exact).abs() < 1e-9 * exact,
        "CPU off: {c_off} vs {exact}"
    );
    assert!(
        (g_off - exact).abs() < 1e-4 * exact,
        "GPU off: {g_off} vs {exact}"
    );

    let dense = autocrine_problem(2, true);
    let (g_dense, c_dense) = cells_after(&dense, steps);
    assert!(
        (g_dense - c_dense).abs() < 1e-4 * c_dense,
        "GPU {g_dense} vs CPU {c_dense}"
    );
    assert!(
        g_dense > 1.2 * g_off,
        "feedback on {g_dense:.3e} vs off {g_off:.3e}"
    );
    assert!(g_dense <= 2e7, "cells only die");

    let diluted = autocrine_problem(16, true);
    let (g_dil, c_dil) = cells_after(&diluted, steps);
    assert!(
        (g_dil - c_dil).abs() < 1e-4 * c_dil,
        "GPU {g_dil} vs CPU {c_dil}"
    );
    assert!(
        g_dense > g_dil,
        "dense {g_dense:.3e} vs diluted {g_dil:.3e}"
    );
    assert!(g_dil > g_off, "some protection even diluted");
    eprintln!("cells after 2 d: off {g_off:.3e}, dense {g_dense:.3e}, diluted {g_dil:.3e}");

    // The depot's concentration is what the feedback read.
    let mut sim = Simulation::new(gpu(), &dense).unwrap();
    let mut cpu = CpuReference::new(&dense).unwrap();
    sim.step(10);
    cpu.step(10);
    let g = sim.depot_concentrations().unwrap();
    let c = cpu.depot_concentrations();
    for s in 0..dense.n_species() {
        assert!(
            (g[0][s] - c[0][s]).abs() <= 1e-4 * c[0][s].max(1e-6),
            "{s}: {} vs {}",
            g[0][s],
            c[0][s]
        );
    }
}

/// A source of a species consumed within a fraction of the step (VEGF in the border zone:
/// b = k + P m_P + m_U V/K ≈ 0.05/s, so b·dt = 30 at dt = 600 s) sits at its local equilibrium
/// S/b, as the continuous equation says, whatever the step (GPU and CPU twin, 3 %).
#[test]
fn a_fast_consumed_source_sits_at_its_local_equilibrium() {
    let n = 9;
    let grid = Grid::filled([n; 3], 1.0, TissueLabel::BorderZone);
    let table = SpeciesTable::default_table().unwrap();
    for dt in [600.0, 60.0] {
        let mut p = Problem::new(grid.clone(), table.clone(), dt);
        let centre = p.grid.index(4, 4, 4);
        let sigma: Vec<f64> = p
            .species
            .species
            .iter()
            .map(|s| s.secretion.value)
            .collect();
        p.depots = vec![DepotSource {
            name: "point".into(),
            voxels: vec![(centre, 1.0)],
            cells: 5e3,
            secretion: sigma.clone(),
            k_death: 0.0,
            cell_free: false,
        }];
        let vegf = 0;
        let sp = &p.species.species[vegf];
        let m = p.labels.get(TissueLabel::BorderZone);
        let b = sp.decay_rate()
            + sp.permeability.value * m.perfusion
            + sp.uptake_vmax.value * m.uptake / sp.uptake_km.value;
        assert!(b * dt > 1.0);
        let s =
            5e3 * sigma[vegf] * p.fold(TissueLabel::BorderZone, vegf) / p.interstitial_ml(centre);
        let want = s / b; // c ≪ K, so uptake is linear
        let mut sim = Simulation::new(gpu(), &p).unwrap();
        let mut cpu = CpuReference::new(&p).unwrap();
        let steps = (3600.0 / dt) as usize;
        sim.step(steps);
        cpu.step(steps);
        let g = sim.read_fields().unwrap()[centre] as f64;
        let c = cpu.fields()[centre];
        assert!(want < 0.02 * sp.uptake_km.value, "linear uptake: {want}");
        for (who, v) in [("GPU", g), ("CPU", c)] {
            assert!(
                (v - want).abs() <= 0.03 * want,
                "{who} dt {dt}: {v:.4e} vs S/b {want:.4e}"
            );
        }
    }
}

/// 70 depots of 1–3 voxels each, scattered over a 24³ block (myocardium with a border-zone
/// slab), some sharing voxels, each with its own cells and death rate. Their cell counts sit
/// four to a vec4 in the compartments buffer, so the counts of neighbouring depots share a
/// vector; the update kernel runs 64 depots to a workgroup, so consecutive depots fall in the
/// same workgroup (0–63) and in different ones (63, 64).
fn many_depots(enabled: bool) -> Problem {
    let n = 24;
    let mut grid = Grid::filled([n; 3], 0.5, TissueLabel::Myocardium);
    for z in 0..n {
        for y in 0..n {
            for x in 16..n {
                let i = grid.index(x, y, z);
                grid.labels[i] = TissueLabel::BorderZone;
            }
        }
    }
    let table = SpeciesTable::default_table().unwrap();
    let mut p = Problem::new(grid, table, 60.0);
    let sigma: Vec<f64> = p
        .species
        .species
        .iter()
        .map(|s| s.secretion.value)
        .collect();
    let g = p.grid.clone();
    let day = 86400.0;
    p.depots = (0..70usize)
        .map(|d| {
            let (x, y, z) = (2 + (d * 7) % 20, 2 + (d * 5) % 20, 2 + (d * 3) % 20);
            let mut voxels = vec![(g.index(x, y, z), 1.0)];
            if d % 3 != 0 {
                // A second voxel along x (shared with another depot's first now and then).
                voxels = vec![(g.index(x, y, z), 0.75), (g.index(x + 1, y, z), 0.25)];
            }
            DepotSource {
                name: format!("depot {d}"),
                voxels,
                cells: 1e6 * (1 + d % 7) as f64,
                secretion: sigma.iter().map(|s| s * (1.0 + 0.1 * d as f64)).collect(),
                k_death: std::f64::consts::LN_2 / (3.0 * day) * (1.0 + 0.05 * d as f64),
                cell_free: false,
            }
        })
        .collect();
    let mut weights = vec![0.0; p.n_species()];
    weights[0] = 0.5;
    weights[1] = 0.5;
    p.autocrine = Autocrine {
        enabled,
        a_max: 0.5,
        k_half: 0.01,
        hill: 1.0,
        weights,
    };
    p
}

/// Every depot's own cells: with the feedback off each follows N₀e^{−kt} (1e-5 after 1000
/// steps); with it on each agrees with the CPU twin, cells and sampled concentrations; on one
/// slab with subgroup reductions and with the workgroup tree. (Writing a depot's count as a
/// whole vec4 shared with three others lost their updates: six of ten transendocardial depots
/// never lost a cell.)
#[test]
fn every_depot_keeps_its_own_cells() {
    let steps = 1000;
    let off = many_depots(false);
    let on = many_depots(true);
    let mut cpu_off = CpuReference::new(&off).unwrap();
    cpu_off.step(steps);
    let mut cpu_on = CpuReference::new(&on).unwrap();
    cpu_on.step(200);
    let t = steps as f64 * off.dt;
    let c = cpu_off.depot_cells();
    for (d, dep) in off.depots.iter().enumerate() {
        let exact = dep.cells * (-dep.k_death * t).exp();
        assert!((c[d] - exact).abs() <= 1e-12 * exact, "CPU depot {d}");
    }
    for tree_reduction in [false, true] {
        let opts = secretome::sim::LayoutOptions {
            tree_reduction,
            ..Default::default()
        };
        let mut sim = Simulation::with_layout(gpu(), &off, opts).unwrap();
        sim.step(steps);
        let g = sim.depot_cells().unwrap();
        assert_eq!(g.len(), 70);
        for (d, dep) in off.depots.iter().enumerate() {
            let exact = dep.cells * (-dep.k_death * t).exp();
            assert!(
                (g[d] - exact).abs() <= 1e-5 * exact,
                "tree {tree_reduction}: GPU depot {d}: {} vs N₀e^(−kt) {exact}",
                g[d]
            );
        }

        let mut sim = Simulation::with_layout(gpu(), &on, opts).unwrap();
        sim.step(200);
        let g = sim.depot_cells().unwrap();
        let c = cpu_on.depot_cells();
        let gc = sim.depot_concentrations().unwrap();
        let cc = cpu_on.depot_concentrations();
        let mut protected = 0;
        for d in 0..on.depots.len() {
            assert!(
                (g[d] - c[d]).abs() <= 1e-5 * c[d],
                "tree {tree_reduction}: depot {d}: GPU {} CPU {}",
                g[d],
                c[d]
            );
            let bare = on.depots[d].cells * (-on.depots[d].k_death * 200.0 * on.dt).exp();
            if c[d] > bare * (1.0 + 1e-6) {
                protected += 1;
            }
            for s in 0..on.n_species() {
                let scale = cc.iter().map(|v| v[s]).fold(0.0, f64::max);
                assert!(
                    (gc[d][s] - cc[d][s]).abs() <= 1e-4 * scale,
                    "depot {d} species {s}: GPU {} CPU {}",
                    gc[d][s],
                    cc[d][s]
                );
            }
        }
        assert_eq!(protected, 70, "the feedback acts on every depot");
        crate::common::assert_compartments_match(
            &sim.compartments().unwrap(),
            &cpu_on.compartments(),
            1e-4,
        );
    }
}
