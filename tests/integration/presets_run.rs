#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]
//! Every preset in `assets/scenarios/` builds into a problem and runs a few steps on the GPU
//! (at 3 mm voxels to keep the test quick), with its whole-body ledger closed.

use crate::common::{body_closures, gpu};
use secretome::problem::build::build;
use secretome::scenario::Scenario;
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
        for (s, e) in body_closures(p, sim.initial_amounts(), &heart, &plasma)
            .into_iter()
            .enumerate()
        {
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

/// Injections later than the start: a tissue bolus at 2 h and a plasma bolus at 3 h arrive
/// whole within their step (the ledger counts them as secreted), and a depot of cells waits,
/// with no cells and no secretion, until 3.5 h.
#[test]
fn delayed_injections_start_on_time() {
    let text = r#"
[grid]
spacing = "2 mm"
[geometry]
kind = "box"
size = [20, 20, 30]
blood_pool = true
[time]
duration = "4 h"
output_interval = "1 h"
dt = "60 s"
[[depot]]
name = "cells"
route = "intramyocardial"
cells = 1e6
site = [10, 10, 12]
start = "3.5 h"
[[depot]]
name = "medium"
route = "bolus"
site = [10, 10, 20]
retained = 1
amounts = { VEGF = "10 ng", HGF = "20 ng", SDF1a = "30 ng", TSG6 = "40 ng" }
start = "2 h"
[[depot]]
name = "iv medium"
route = "bolus"
into_plasma = true
amounts = { VEGF = "1 ng", HGF = "2 ng", SDF1a = "3 ng", TSG6 = "4 ng" }
start = "3 h"
"#;
    let table = secretome::SpeciesTable::default_table().unwrap();
    let sc = Scenario::parse(text, "delayed.toml", std::path::Path::new("."), &table).unwrap();
    let built = build(&sc).unwrap();
    let p = &built.problem;
    let steps: Vec<u64> = built.events.iter().map(|e| e.step).collect();
    assert_eq!(steps, vec![120, 121, 180, 181, 210]);
    assert_eq!(p.depots[0].cells, 0.0, "the cells wait for their start");
    let mut sim = Simulation::new(gpu(), p).unwrap();
    let mut done = 0u64;
    let secreted = |sim: &Simulation| -> Vec<f64> {
        sim.ledger()
            .unwrap()
            .species
            .iter()
            .map(|l| l.secreted)
            .collect()
    };
    let mut before = Vec::new();
    for e in &built.events {
        sim.step((e.step - done) as usize);
        done = e.step;
        if e.step == 120 {
            before = secreted(&sim);
            assert!(
                before.iter().all(|&s| s == 0.0),
                "nothing before 2 h: {before:?}"
            );
        }
        if e.step == 121 {
            // One step of the pulse: the whole tissue bolus, f32 ledger (1e-5).
            let after = secreted(&sim);
            for (s, want) in [10.0, 20.0, 30.0, 40.0].into_iter().enumerate() {
                let got = after[s] - before[s];
                assert!(
                    (got - want).abs() < 1e-5 * want,
                    "species {s}: {got} of {want} ng"
                );
            }
        }
        if e.step == 210 {
            assert_eq!(sim.depot_cells().unwrap()[0], 0.0);
            let (plasma, _) = sim.plasma_state().unwrap();
            for (s, want) in [1.0, 2.0, 3.0, 4.0].into_iter().enumerate() {
                let got = plasma[s].remote_secreted;
                assert!(
                    (got - want).abs() < 1e-5 * want,
                    "plasma bolus {s}: {got} of {want} ng"
                );
                assert!(plasma[s].at_remote_sites < 1e-9 * want, "all absorbed");
            }
        }
        e.apply(&mut sim).unwrap();
    }
    assert_eq!(sim.depot_cells().unwrap()[0], 1e6 * sc.depots[0].retained);
    sim.step(30);
    let heart = sim.ledger().unwrap();
    let (plasma, _) = sim.plasma_state().unwrap();
    for s in 0..p.n_species() {
        let e = body_closure(&heart.species[s], &plasma[s], sim.initial_amounts()[s]);
        assert!(
            e.abs() < 1e-4,
            "species {s} ledger off by {e:e}: {:?} {:?} {:?}",
            heart.species[s],
            plasma[s],
            p.plasma
        );
    }
}
