#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]
//! Every preset in `assets/scenarios/` builds into a problem and runs a few steps on the GPU
//! (at 3 mm voxels to keep the test quick), with its whole-body ledger closed.

mod common;

use common::gpu;
use secretome::model::build::build;
use secretome::model::scenario::Scenario;
use secretome::sim::body_closure;
use secretome::Simulation;

#[test]
fn every_preset_builds_and_runs() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios"));
    let mut ran = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let mut sc = Scenario::load(&path).unwrap();
        sc.grid_spacing_mm = 3.0;
        let built = build(&sc).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let p = &built.problem;
        let mut sim = Simulation::new(gpu(), p).unwrap();
        sim.step(12);
        let heart = sim.ledger().unwrap();
        let (plasma, _) = sim.plasma_state().unwrap();
        let in_plasma0: Vec<f64> = p
            .plasma
            .iter()
            .map(|c| c * p.compartment.volume_ml)
            .collect();
        for s in 0..p.n_species() {
            let initial = sim.initial_amounts()[s]
                + in_plasma0[s]
                + p.compartment
                    .remote
                    .iter()
                    .map(|r| r.amount[s])
                    .sum::<f64>();
            let e = body_closure(&heart.species[s], &plasma[s], initial);
            assert!(
                e.abs() < 1e-4,
                "{}: species {s} ledger off by {e:e}",
                path.display()
            );
        }
        let cells_in_heart: f64 = p.depots.iter().map(|d| d.cells).sum();
        let any_source = cells_in_heart > 0.0
            || !p.compartment.remote.is_empty()
            || p.initial.iter().any(|&c| c > 0.0)
            || p.plasma.iter().any(|&c| c > 0.0);
        assert!(any_source, "{}: delivers nothing", path.display());
        ran += 1;
    }
    assert!(ran >= 12, "only {ran} presets");
}

/// The intravenous preset on the full heart (3 mm voxels) for a simulated week: heart, lungs
/// and plasma together keep every nanogram (1e-4).
#[test]
fn intravenous_week_on_the_heart_closes_the_ledger() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/scenarios/intravenous.toml"
    );
    let mut sc = Scenario::load(std::path::Path::new(path)).unwrap();
    sc.grid_spacing_mm = 3.0;
    sc.dt_s = 600.0;
    let built = build(&sc).unwrap();
    let p = &built.problem;
    assert!(!p.compartment.remote.is_empty(), "lungs");
    let mut sim = Simulation::new(gpu(), p).unwrap();
    sim.step(7 * 24 * 6);
    let heart = sim.ledger().unwrap();
    let (plasma, lungs) = sim.plasma_state().unwrap();
    assert!(
        lungs[0] < 0.01 * p.compartment.remote[0].cells,
        "lung cells die within the week"
    );
    for s in 0..p.n_species() {
        let initial = sim.initial_amounts()[s] + p.plasma[s] * p.compartment.volume_ml;
        let e = body_closure(&heart.species[s], &plasma[s], initial);
        assert!(e.abs() <= 1e-4, "species {s}: week ledger off by {e:e}");
        assert!(heart.species[s].secreted > 0.0 || plasma[s].remote_secreted > 0.0);
    }
}
