#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]
//! The readouts of MODEL.md §5 against answers known in closed form: exposure (AUC, time above
//! EC50) of a decaying bolus, and regional statistics of a field known voxel by voxel.

use crate::common::gpu;
use secretome::sim::{LayoutOptions, Region};
use secretome::{CpuReference, Grid, Problem, Simulation, SpeciesTable, Terms, TissueLabel};

/// A uniform bolus c₀ that only decays: c = c₀ e^{−kt}, so AUC(T) = c₀ (1 − e^{−kT}) / k, with
/// EC50 = c₀ e^{−kT/2} the time above EC50 is T/2, and the receptor occupancy's integral is
/// ∫ c/(c + K_d) dt = ln((c₀ + K_d)/(c(T) + K_d))/k. Each species has its own k.
#[test]
fn exposure_of_a_decaying_bolus_is_the_analytic_integral() {
    let grid = Grid::filled([6, 5, 7], 1.0, TissueLabel::Myocardium);
    let table = SpeciesTable::default_table().unwrap();
    let dt = 60.0;
    let steps = 600;
    let t_end = dt * steps as f64;
    let mut p = Problem::new(grid, table, dt);
    p.terms = Terms {
        decay: true,
        ..Terms::NONE
    };
    p.exposure = true;
    let c0 = 20.0;
    let n = p.grid.voxel_count();
    p.initial = vec![c0 as f32; n * p.n_species()];
    let rates: Vec<f64> = p.species.species.iter().map(|s| s.decay_rate()).collect();
    for (s, sp) in p.species.species.iter_mut().enumerate() {
        sp.ec50.value = c0 * (-rates[s] * t_end / 2.0).exp();
    }
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    let mut cpu = CpuReference::new(&p).unwrap();
    // Two calls: exposure must not depend on how steps are batched.
    sim.step(steps / 3);
    sim.step(steps - steps / 3);
    cpu.step(steps);
    let e = sim.exposure().unwrap();
    let ce = cpu.exposure();
    let (cpu_auc, cpu_above) = (ce.auc, ce.above);
    for s in 0..p.n_species() {
        let k = rates[s];
        let auc = c0 * -(-k * t_end).exp_m1() / k;
        for v in [0, n / 2, n - 1] {
            let i = s * n + v;
            // The reaction sub-steps integrate c exactly: f32 accumulation only (1e-5).
            let g = e.auc[i] as f64;
            assert!(
                (g - auc).abs() <= 1e-5 * auc,
                "species {s}: GPU AUC {g} vs {auc} ng·s/mL"
            );
            assert!(
                (cpu_auc[i] - auc).abs() <= 1e-10 * auc,
                "species {s}: CPU AUC {} vs {auc}",
                cpu_auc[i]
            );
            // Time above: the crossing is interpolated linearly within one 30 s half-step
            // (error ≤ k τ² / 8 · …, far below 0.1 s here).
            let g = e.above[i] as f64;
            assert!(
                (g - t_end / 2.0).abs() <= 0.1,
                "species {s}: GPU time above {g} s vs {} s",
                t_end / 2.0
            );
            assert!((cpu_above[i] - t_end / 2.0).abs() <= 0.1);
            // Occupancy: each sub-step at its mean c (error ≤ (kτ)²/48 relative), 1e-4.
            let kd = p.species.species[s].kd.value;
            let occ = ((c0 + kd) / (c0 * (-k * t_end).exp() + kd)).ln() / k;
            let g = e.occupancy[i] as f64;
            assert!(
                (g - occ).abs() <= 1e-4 * occ,
                "species {s}: GPU occupancy integral {g} s vs {occ} s"
            );
            assert!((ce.occupancy[i] - occ).abs() <= 1e-4 * occ);
        }
    }
    // Reset starts the integrals again; set_exposure restores them.
    sim.reset_exposure().unwrap();
    assert!(sim.exposure().unwrap().auc.iter().all(|&a| a == 0.0));
    sim.set_exposure(&e).unwrap();
    assert_eq!(sim.exposure().unwrap(), e);
}

/// A ramp c = x (ng/mL) on a 10³ box: myocardium for x < 5, border zone for x ≥ 5, AHA
/// segment 1 + z. Nothing moves (every term off), so after time T each voxel has AUC = x T and
/// time above EC50 = T where x > EC50. Regional means, maxima, AUCs and fractions follow by
/// counting; checked on one slab and across four.
#[test]
fn region_statistics_of_a_ramp_are_counted_exactly() {
    let n = 10;
    let mut grid = Grid::filled([n; 3], 1.0, TissueLabel::Myocardium);
    for v in 0..grid.voxel_count() {
        if grid.coords(v)[0] >= 5 {
            grid.labels[v] = TissueLabel::BorderZone;
        }
    }
    let table = SpeciesTable::default_table().unwrap();
    let mut p = Problem::new(grid, table, 100.0);
    p.terms = Terms::NONE;
    p.exposure = true;
    let nv = p.grid.voxel_count();
    p.segments = (0..nv).map(|v| 1 + p.grid.coords(v)[2] as u8).collect();
    for s in 0..p.n_species() {
        for v in 0..nv {
            // Species s: c = (s + 1) x.
            p.initial[s * nv + v] = ((s + 1) * p.grid.coords(v)[0]) as f32;
        }
        // EC50 = 2.5 (s + 1): voxels x ≥ 3 are above.
        p.species.species[s].ec50.value = 2.5 * (s + 1) as f64;
    }
    for opts in [
        LayoutOptions::default(),
        LayoutOptions {
            // One brick layer (4 planes) and its ghosts per slab.
            max_slab_bytes: Some(10 * 10 * 16 * 3 * 12),
            ..Default::default()
        },
    ] {
        let mut sim = Simulation::with_layout(gpu(), &p, opts).unwrap();
        let steps = 7;
        sim.step(steps);
        let t = 100.0 * steps as f64;
        let stats = sim.region_stats().unwrap();
        let names: Vec<String> = stats.iter().map(|r| r.region.name()).collect();
        assert_eq!(names.len(), 2 + 10, "regions {names:?}");
        for r in &stats {
            // x range of the region.
            let xs: Vec<f64> = match r.region {
                Region::Label(TissueLabel::Myocardium) => (0..5).map(f64::from).collect(),
                Region::Label(TissueLabel::BorderZone) => (5..10).map(f64::from).collect(),
                Region::Segment(_) => (0..10).map(f64::from).collect(),
                other => panic!("unexpected region {other:?}"),
            };
            let per_x = if matches!(r.region, Region::Segment(_)) {
                10
            } else {
                100
            };
            assert_eq!(r.voxels, xs.len() * per_x);
            let mean_x = xs.iter().sum::<f64>() / xs.len() as f64;
            let max_x = xs.iter().fold(0.0f64, |m, &x| m.max(x));
            let above = xs.iter().filter(|&&x| x > 2.5).count() as f64 / xs.len() as f64;
            for s in 0..p.n_species() {
                let f = (s + 1) as f64;
                let st = r.species[s];
                let name = r.region.name();
                assert!(
                    (st.mean - f * mean_x).abs() < 1e-5 * f * mean_x,
                    "{name} mean {st:?}"
                );
                assert_eq!(st.max, f * max_x, "{name} max");
                assert!(
                    (st.auc - f * mean_x * t).abs() < 1e-5 * f * mean_x * t,
                    "{name} AUC {st:?}"
                );
                assert!(
                    (st.fraction_above - above).abs() < 1e-12,
                    "{name} fraction {st:?}"
                );
                assert!(
                    (st.time_above - above * t).abs() < 1e-4 * t,
                    "{name} time above {st:?}"
                );
                // Occupancy c/(c + K_d) averaged over the region, and its time integral.
                let kd = p.species.species[s].kd.value;
                let occ = xs.iter().map(|&x| f * x / (f * x + kd)).sum::<f64>() / xs.len() as f64;
                assert!(
                    (st.occupancy - occ).abs() < 1e-5 * occ,
                    "{name} occupancy {st:?} vs {occ}"
                );
                assert!(
                    (st.occupancy_auc - occ * t).abs() < 1e-5 * occ * t,
                    "{name} occupancy integral {st:?}"
                );
            }
        }
    }
}

/// Without `Problem::exposure` the simulator keeps no exposure and says so.
#[test]
fn exposure_is_refused_when_not_enabled() {
    let grid = Grid::filled([4, 4, 4], 1.0, TissueLabel::Myocardium);
    let p = Problem::new(grid, SpeciesTable::default_table().unwrap(), 60.0);
    let sim = Simulation::new(gpu(), &p).unwrap();
    let err = sim.exposure().unwrap_err().to_string();
    assert!(err.contains("exposure readouts were not enabled"), "{err}");
    // Regional statistics still work (AUC and time above are zero).
    let stats = sim.region_stats().unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].species[0].auc, 0.0);
}
