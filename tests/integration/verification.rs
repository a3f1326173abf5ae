//! The GPU solver against the known answers of MODEL.md §7. Each test states its tolerance.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::f64::consts::PI;

use crate::common::{gpu, heterogeneous_grid, Rng};
use secretome::base::{Species, TissueLabel};
use secretome::problem::DepotSource;
use secretome::{Grid, Problem, Simulation, SpeciesTable, Terms};

fn one_species(d: f64, k: f64) -> SpeciesTable {
    SpeciesTable {
        species: vec![Species::simple("X", d, k)],
    }
}

fn box_problem(n: usize, h: f64, table: SpeciesTable, dt: f64, terms: Terms) -> Problem {
    let mut p = Problem::new(
        Grid::filled([n, n, n], h, TissueLabel::Myocardium),
        table,
        dt,
    );
    p.terms = terms;
    p
}

const DIFFUSION_DECAY: Terms = Terms {
    diffusion: true,
    decay: true,
    ..Terms::NONE
};

#[test]
fn steady_point_source_with_decay_matches_the_analytic_profile() {
    // A depot of known strength Q = N σ (and the same through the fixed source map).
    // c(r) = Q/(4πDr)·exp(−r/λ), λ = √(D/k), in a 96³ box (walls ≥ 4.8 λ away).
    let (n, h) = (96usize, 0.1);
    let d = 1e-4; // mm²/s
    let lambda = 10.0 * h; // mm
    let k = d / (lambda * lambda);
    let q = 1e-3; // ng/s
                  // dt = 0.05/k keeps the splitting error of the steady state well under the tolerance;
                  // the run lasts 12/k, so the transient has decayed to e^-12.
    let dt = 0.05 / k;
    let mut p = box_problem(
        n,
        h,
        one_species(d, k),
        dt,
        Terms {
            sources: true,
            ..DIFFUSION_DECAY
        },
    );
    let c = n / 2;
    let centre = p.grid.index(c, c, c);
    // The tissue's interstitial fraction ε: the source spreads through ε of the volume, so
    // c = Q/(4π ε D r)·e^{−r/λ}.
    let eps = p.labels.get(TissueLabel::Myocardium).volume_fraction;
    assert!(eps < 0.5, "the test runs with ε ≠ 1");
    let vol = p.interstitial_ml(centre);
    // Half of Q from the fixed source map, half from a one-voxel depot of cells: a missing
    // path would halve the profile.
    p.sources.add_amount(centre, 0, 0.5 * q, vol);
    let cells = 2e6;
    p.depots.push(DepotSource {
        name: "point".into(),
        voxels: vec![(centre, 1.0)],
        cells,
        secretion: vec![0.5 * q / cells],
        k_death: 0.0,
        cell_free: false,
    });
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    sim.step((12.0 / k / dt).round() as usize);
    let f = sim.read_fields().unwrap();
    let exact = |r: f64| q / (4.0 * PI * eps * d * r) * (-r / lambda).exp() * 1e3; // ng/mm³ → ng/mL
    let mut worst: f64 = 0.0;
    for i in 5..=15 {
        // On the x axis.
        let r = i as f64 * h;
        let v = f[p.grid.index(c + i, c, c)] as f64;
        let e = (v - exact(r)).abs() / exact(r);
        assert!(
            e < 0.03,
            "axis r = {i}h: {v} vs {} ({:.2} %)",
            exact(r),
            e * 100.0
        );
        worst = worst.max(e);
    }
    for i in 3..=9 {
        // On the body diagonal, r = i√3 h from 5.2h to 15.6h.
        let r = i as f64 * 3f64.sqrt() * h;
        let v = f[p.grid.index(c + i, c + i, c + i)] as f64;
        let e = (v - exact(r)).abs() / exact(r);
        assert!(
            e < 0.03,
            "diagonal r = {:.1}h: {v} vs {} ({:.2} %)",
            r / h,
            exact(r),
            e * 100.0
        );
        worst = worst.max(e);
    }
    eprintln!(
        "steady point source: worst relative error {:.3} %",
        worst * 100.0
    );
}

#[test]
fn instantaneous_release_spreads_with_second_moment_6dt() {
    // ⟨r²⟩ = 6Dt for a release at a point, no decay; tolerance 2 %.
    let (n, h) = (64usize, 0.1);
    let d = 1e-4;
    let t_end = 1800.0; // √(6Dt) ≈ 1 mm = 10 h, walls 3.2 mm away
    let mut p = box_problem(
        n,
        h,
        one_species(d, 0.0),
        60.0,
        Terms {
            diffusion: true,
            ..Terms::NONE
        },
    );
    let c = n / 2;
    let nv = p.grid.voxel_count();
    p.initial[p.grid.index(c, c, c)] = 1000.0;
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    sim.step((t_end / 60.0) as usize);
    let f = sim.read_fields().unwrap();
    let (mut m0, mut m2) = (0.0f64, 0.0f64);
    for (v, &fv) in f.iter().enumerate().take(nv) {
        let [x, y, z] = p.grid.coords(v);
        let r2 = ((x as f64 - c as f64).powi(2)
            + (y as f64 - c as f64).powi(2)
            + (z as f64 - c as f64).powi(2))
            * h
            * h;
        m0 += fv as f64;
        m2 += fv as f64 * r2;
    }
    let moment = m2 / m0;
    let expected = 6.0 * d * sim.time();
    let e = (moment - expected).abs() / expected;
    assert!(
        e < 0.02,
        "⟨r²⟩ = {moment} mm², 6Dt = {expected} mm² ({:.3} %)",
        e * 100.0
    );
    assert!((m0 - 1000.0).abs() / 1000.0 < 1e-5, "mass {m0}");
}

fn random_field(p: &mut Problem, seed: u64) {
    let mut rng = Rng(seed);
    for v in p.initial.iter_mut() {
        *v = (1.0 + 9.0 * rng.next_f64()) as f32;
    }
}

#[test]
fn closed_box_without_decay_conserves_mass() {
    // Tolerance: 1e-5 relative over 1000 steps.
    let table = SpeciesTable::default_table().unwrap();
    let mut p = box_problem(
        24,
        0.1,
        table,
        30.0,
        Terms {
            diffusion: true,
            ..Terms::NONE
        },
    );
    random_field(&mut p, 3);
    let m0: Vec<f64> = (0..4)
        .map(|s| {
            p.initial[s * 24 * 24 * 24..(s + 1) * 24 * 24 * 24]
                .iter()
                .map(|&v| v as f64)
                .sum()
        })
        .collect();
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    sim.step(1000);
    let f = sim.read_fields().unwrap();
    let n = p.grid.voxel_count();
    for s in 0..4 {
        let m: f64 = f[s * n..(s + 1) * n].iter().map(|&v| v as f64).sum();
        let e = (m - m0[s]).abs() / m0[s];
        assert!(e < 1e-5, "species {s}: mass {m} vs {} ({e:e})", m0[s]);
        // The field has actually diffused (so the test is not trivially true).
        let spread = f[s * n..(s + 1) * n]
            .iter()
            .fold(0.0f32, |a, &v| a.max((v - (m0[s] / n as f64) as f32).abs()));
        assert!(spread < 1.0, "species {s} did not mix: {spread}");
    }
}

#[test]
fn decay_only_follows_the_exponential() {
    // M(t) = M0·e^{−kt}, tolerance 1e-4 relative, 500 steps (diffusion on: uniform decay
    // commutes with it, so the total still decays exactly exponentially).
    let table = SpeciesTable::default_table().unwrap();
    let mut p = box_problem(20, 0.1, table, 60.0, DIFFUSION_DECAY);
    random_field(&mut p, 5);
    let n = p.grid.voxel_count();
    let m0: Vec<f64> = (0..4)
        .map(|s| {
            p.initial[s * n..(s + 1) * n]
                .iter()
                .map(|&v| v as f64)
                .sum()
        })
        .collect();
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    sim.step(500);
    let f = sim.read_fields().unwrap();
    for s in 0..4 {
        let k = p.species.species[s].decay_rate();
        let expected = m0[s] * (-k * sim.time()).exp();
        let m: f64 = f[s * n..(s + 1) * n].iter().map(|&v| v as f64).sum();
        let e = (m - expected).abs() / expected;
        assert!(e < 1e-4, "species {s}: {m} vs {expected} ({e:e})");
    }
}

#[test]
fn ledger_closes_with_every_term_on() {
    // initial + secreted − degraded − taken up − net exchange = final, within 1e-4,
    // on a grid with blood pools, infarct and border zone, over 200 steps of 10 min.
    let grid = heterogeneous_grid([30, 28, 26], 0.2);
    let mut p = Problem::new(grid, SpeciesTable::default_table().unwrap(), 600.0);
    p.plasma = vec![0.1, 0.3, 0.5, 2.0];
    random_field(&mut p, 11);
    for z in 8..12 {
        let v = p.grid.index(20, 10, z);
        if p.grid.labels[v].is_tissue() {
            let vol = p.interstitial_ml(v);
            for s in 0..4 {
                p.sources.add_amount(v, s, 1e-3, vol);
            }
        }
    }
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    sim.step(200);
    let ledger = sim.ledger().unwrap();
    for (s, l) in ledger.species.iter().enumerate() {
        let e = l.closure_error(sim.initial_amounts()[s]);
        assert!(e.abs() < 1e-4, "species {s}: closure {e:e} ({l:?})");
        assert!(l.secreted > 0.0 && l.degraded > 0.0 && l.taken_up > 0.0);
        assert!(l.to_plasma_capillary != 0.0 && l.to_blood_faces != 0.0);
    }
}

#[test]
fn any_time_step_is_stable() {
    // A rough field (voxel-scale noise) advanced with dt = 10⁵ × the explicit limit: the L2
    // norm of a pure diffusion problem never grows (tolerance 1e-6) and values stay finite and
    // bounded. (RKL1 is stable, not monotone: voxel-scale noise at such steps may undershoot.)
    let grid = heterogeneous_grid([20, 20, 20], 0.1);
    let table = SpeciesTable::default_table().unwrap();
    let mut p = Problem::new(grid, table, 1.0);
    p.terms = Terms {
        diffusion: true,
        ..Terms::NONE
    };
    random_field(&mut p, 9);
    p.dt = p.dt_forward_euler() * 1e5;
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    assert!(sim.plan().stages() > 100);
    let n = p.grid.voxel_count();
    let tissue: Vec<usize> = (0..n).filter(|&v| p.grid.labels[v].is_tissue()).collect();
    let norm = |f: &[f32], s: usize| {
        tissue
            .iter()
            .map(|&v| (f[s * n + v] as f64).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let mut prev: Vec<f64> = (0..4).map(|s| norm(&p.initial, s)).collect();
    for _ in 0..3 {
        sim.step(1);
        let f = sim.read_fields().unwrap();
        for s in 0..4 {
            let now = norm(&f, s);
            assert!(
                now <= prev[s] * (1.0 + 1e-6),
                "species {s}: L2 grew {} → {now}",
                prev[s]
            );
            prev[s] = now;
            for &v in &tissue {
                let x = f[s * n + v];
                assert!(x.is_finite() && x.abs() < 20.0, "species {s}: {x}");
            }
        }
    }
}

/// MODEL.md §2: a bolus of M ng dissolves in the interstitial fluid only. In a closed 4 mm box
/// of tissue with ε = 0.3 (set in the scenario), 50 ng read `c = M/(εV)` everywhere once
/// mixed (1e-4), and the mean reads it at every step (1e-5); the ledger holds M (1e-6).
#[test]
fn a_bolus_in_a_closed_box_reads_its_amount_over_the_interstitial_volume() {
    let text = r#"
[grid]
spacing = "0.5 mm"
[geometry]
kind = "box"
size = [4, 4, 4]
[tissue.myocardium]
volume_fraction = { value = 0.3, source = "test" }
[species.VEGF]
diffusion = "2e-3 mm^2/s"
[terms]
decay = false
uptake = false
exchange = false
[[depot]]
route = "bolus"
site = [2, 2, 2]
amounts = { VEGF = "50 ng" }
"#;
    let species = SpeciesTable::default_table().unwrap();
    let sc =
        secretome::scenario::Scenario::parse(text, "box.toml", std::path::Path::new("."), &species)
            .unwrap();
    let built = secretome::problem::build::build(&sc).unwrap();
    let p = &built.problem;
    let eps = p.labels.get(TissueLabel::Myocardium).volume_fraction;
    assert_eq!(eps, 0.3);
    let n = p.grid.voxel_count();
    let volume_ml = n as f64 * p.grid.voxel_ml(); // 64 mm³ = 0.064 mL
    let want = 50.0 / (eps * volume_ml);
    let mut sim = Simulation::new(gpu(), p).unwrap();
    assert!((sim.initial_amounts()[0] - 50.0).abs() < 1e-6 * 50.0);
    for _ in 0..4 {
        sim.step(50);
        let f = sim.read_fields().unwrap();
        let mean = f[..n].iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        assert!(
            (mean - want).abs() < 1e-5 * want,
            "mean {mean} vs M/(εV) {want}"
        );
        let l = sim.ledger().unwrap();
        assert!(
            (l.species[0].in_tissue - 50.0).abs() < 1e-6 * 50.0,
            "{:?}",
            l.species[0]
        );
    }
    let f = sim.read_fields().unwrap();
    for (v, &c) in f[..n].iter().enumerate() {
        assert!(
            (c as f64 - want).abs() < 1e-4 * want,
            "voxel {v}: {c} vs M/(εV) {want}"
        );
    }
}

/// Two labels with different ε and m_D in one closed box: the amount Σ ε c ΔV is kept (GPU
/// 1e-6, CPU 1e-12) while c evens out to one value, M / Σ ε ΔV, on both sides (1e-4), the
/// equilibrium of ∂(εc)/∂t = ∇·(ε D m_D ∇c); GPU and CPU twin agree (1e-5 of the field max).
#[test]
fn two_interstitial_fractions_keep_mass_and_reach_one_concentration() {
    let n = 12;
    let mut grid = Grid::filled([n; 3], 0.5, TissueLabel::Myocardium);
    for z in 0..n {
        for y in 0..n {
            for x in n / 2..n {
                let i = grid.index(x, y, z);
                grid.labels[i] = TissueLabel::Infarct;
            }
        }
    }
    let mut p = Problem::new(grid, one_species(2e-3, 0.0), 120.0);
    p.terms = Terms {
        diffusion: true,
        ..Terms::NONE
    };
    let (em, ei) = (
        p.labels.get(TissueLabel::Myocardium).volume_fraction,
        p.labels.get(TissueLabel::Infarct).volume_fraction,
    );
    assert!((em - ei).abs() > 0.1, "ε {em} and {ei} differ");
    random_field(&mut p, 9);
    let m0 = p.tissue_amounts(&p.initial)[0];
    let ev: f64 = (0..p.grid.voxel_count())
        .map(|v| p.interstitial_ml(v))
        .sum();
    let want = m0 / ev;
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    let mut cpu = secretome::CpuReference::new(&p).unwrap();
    assert!((sim.initial_amounts()[0] - m0).abs() < 1e-6 * m0);
    for _ in 0..3 {
        sim.step(100);
        cpu.step(100);
        let g = sim.ledger().unwrap().species[0].in_tissue;
        let c = cpu.amounts()[0];
        assert!((g - m0).abs() < 1e-6 * m0, "GPU mass {g} vs {m0}");
        assert!((c - m0).abs() < 1e-12 * m0, "CPU mass {c} vs {m0}");
    }
    let f = sim.read_fields().unwrap();
    let d = crate::common::max_rel_diff(&f, cpu.fields());
    assert!(d < 1e-5, "GPU vs CPU {d:e}");
    for (v, &c) in f.iter().enumerate() {
        assert!(
            (c as f64 - want).abs() < 1e-4 * want,
            "voxel {v} ({:?}): {c} vs {want}",
            p.grid.labels[v]
        );
    }
}
