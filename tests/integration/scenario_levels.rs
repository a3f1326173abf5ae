//! The scenario on levels (issue 17): `[grid] finest` refines the built problem once around
//! every depot placed at a site (`problem::refinement`), the CPU twin runs it with a closed
//! ledger, and `run` and `converge` run it on the GPU.

use std::path::Path;

use secretome::base::TissueLabel;
use secretome::problem::build::build;
use secretome::problem::refinement::{decay_lengths, REACH_LENGTHS};
use secretome::problem::Problem;
use secretome::scenario::Scenario;
use secretome::sim::cpu_reference::CpuReference;
use secretome::SpeciesTable;

use crate::common;

/// A 12 mm box of myocardium at 1 mm voxels with a 2 mm sphere of cells at its middle and a
/// cell-free dose of VEGF and TSG-6 over the same sphere, and `grid` as the `[grid]` table.
fn box_scenario(grid: &str) -> String {
    format!(
        r#"[scenario]
name = "box levels"
[grid]
{grid}
[geometry]
kind = "box"
size = [12, 12, 12]
[time]
duration = "1 h"
dt = "60 s"
[[depot]]
name = "cells"
route = "intramyocardial"
cells = 1e6
site = [6, 6, 6]
radius = "2 mm"
[[depot]]
name = "dose"
route = "bolus"
site = [6, 6, 6]
radius = "2 mm"
amounts = {{ VEGF = "50 ng", TSG6 = "20 ng" }}
"#
    )
}

fn parse(text: &str) -> secretome::Result<Scenario> {
    Scenario::parse(
        text,
        "levels.toml",
        Path::new("."),
        &SpeciesTable::default_table().unwrap(),
    )
}

fn problem(grid: &str) -> Problem {
    build(&parse(&box_scenario(grid)).unwrap()).unwrap().problem
}

/// `finest` a quarter of the spacing: two levels below the coarse one, the finest leaves within
/// reach of the depot's surface only, the coarse grid far from it, and the amounts in tissue
/// and the depots' shares those of the unrefined problem.
#[test]
fn finest_refines_twice_around_the_depot() {
    let plain = problem("spacing = \"1 mm\"");
    let p = problem("spacing = \"1 mm\"\nfinest = \"250 um\"");
    let levels = p.levels.as_ref().expect("a refined problem");
    assert_eq!(levels.grids.len(), 2);
    assert!(!levels.faces.is_empty());
    let (centre, radius) = ([6.0; 3], 2.0);
    let gap = |v: usize| {
        let c = p.voxel_centre(v);
        let r = (0..3)
            .map(|k| (c[k] - centre[k]).powi(2))
            .sum::<f64>()
            .sqrt();
        (r - radius).abs()
    };
    // Every species is unresolved on the coarse grid and on level 1 (λ/2 < 0.5 mm): each level
    // reaches 3 of the longest decay lengths (TSG-6's) beyond the criterion's half-diagonal.
    let reach = REACH_LENGTHS
        * decay_lengths(&p, &[TissueLabel::Myocardium])
            .into_iter()
            .fold(0.0, f64::max);
    assert!(reach > 0.5 && reach < 1.5, "{reach}");
    let off = p.level_offsets();
    let tissue = |range: std::ops::Range<usize>| -> Vec<usize> {
        range.filter(|&v| p.label_at(v).is_tissue()).collect()
    };
    let (coarse, finest) = (tissue(off[0]..off[1]), tissue(off[2]..off[3]));
    let count: Vec<usize> = (0..3).map(|l| tissue(off[l]..off[l + 1]).len()).collect();
    eprintln!("box, 1 mm to 250 µm: leaves per level {count:?}, reach {reach:.3} mm");
    assert!(!coarse.is_empty() && !finest.is_empty());
    let h1 = 0.5;
    let near = finest.iter().map(|&v| gap(v)).fold(0.0, f64::max);
    assert!(
        near < reach + 0.75 * 3f64.sqrt() * h1,
        "a finest leaf {near} mm from the surface"
    );
    let far = coarse.iter().map(|&v| gap(v)).fold(f64::INFINITY, f64::min);
    assert!(
        far >= reach + 0.5 * 3f64.sqrt(),
        "a coarse voxel {far} mm from the surface"
    );
    // Amounts and shares stay.
    let (a, b) = (
        p.tissue_amounts(&p.initial),
        plain.tissue_amounts(&plain.initial),
    );
    assert!(b[0] > 0.0 && b[3] > 0.0, "{b:?}");
    for s in 0..4 {
        assert!(
            (a[s] - b[s]).abs() <= 1e-12 * b[s].abs(),
            "{s}: {a:?} vs {b:?}"
        );
    }
    assert_eq!(p.depots.len(), plain.depots.len());
    for (d, e) in p.depots.iter().zip(&plain.depots) {
        let (x, y): (f64, f64) = (
            d.voxels.iter().map(|v| v.1).sum(),
            e.voxels.iter().map(|v| v.1).sum(),
        );
        assert!((x - y).abs() <= 1e-12, "{}: {x} vs {y}", d.name);
        assert!(d.voxels.iter().all(|&(v, _)| p.label_at(v).is_tissue()));
        // The sphere on the leaves is the sphere on a uniform grid of the finest voxels where
        // its surface lies: their mean r² (each voxel's over its whole cube, its centre's plus
        // h²/4) agree, and the coarse staircase's is far off.
        let mean_r2 = |q: &Problem, voxels: &[(usize, f64)]| -> f64 {
            voxels
                .iter()
                .map(|&(v, w)| {
                    let c = q.voxel_centre(v);
                    let h = (q.voxel_ml_at(v) * 1e3).cbrt();
                    w * ((0..3).map(|k| (c[k] - centre[k]).powi(2)).sum::<f64>() + h * h / 4.0)
                })
                .sum()
        };
        let uniform = {
            let mut q = plain.clone();
            q.grid = secretome::base::Grid::filled([48; 3], 0.25, TissueLabel::Myocardium);
            let v = secretome::problem::depot::place(
                &q.grid,
                centre,
                radius,
                secretome::problem::depot::Spread::Sphere,
                "uniform",
            )
            .unwrap();
            mean_r2(&q, &v)
        };
        let (fine, staircase) = (mean_r2(&p, &d.voxels), mean_r2(&plain, &e.voxels));
        eprintln!(
            "{}: mean r² {fine:.5} on the leaves, {uniform:.5} on uniform 250 µm voxels, {staircase:.4} on the coarse voxels (3/5 R² = 2.4)",
            d.name
        );
        assert!(
            (fine - uniform).abs() < 1e-3 * uniform,
            "{fine} vs {uniform}"
        );
        assert!((staircase - uniform).abs() > 0.1 * uniform);
    }
}

/// Without `finest`, or with `finest` equal to the spacing, the problem is the unrefined one,
/// and the scenario serialises as before (its hash, which `--resume` checks, stays).
#[test]
fn no_finest_is_no_refinement() {
    let plain = problem("spacing = \"1 mm\"");
    assert!(plain.levels.is_none());
    let sc = parse(&box_scenario("spacing = \"1 mm\"")).unwrap();
    assert_eq!(sc.grid_finest_mm, None);
    let json = serde_json::to_string(&sc).unwrap();
    assert!(!json.contains("finest"), "{json}");
    let same = problem("spacing = \"1 mm\"\nfinest = \"1000 um\"");
    assert!(same.levels.is_none());
    assert_eq!(same.grid, plain.grid);
    assert_eq!(same.initial, plain.initial);
    assert_eq!(same.depots, plain.depots);
    assert_eq!(same.sources.entries, plain.sources.entries);
}

/// Bad values of `finest`: one line naming the key, its value and what was expected.
#[test]
fn bad_finest_values_get_one_line() {
    for (value, says) in [
        ("\"2 mm\"", "got 2 mm"),
        ("\"0 um\"", "got 0 mm"),
        ("\"-1 mm\"", "got -1 mm"),
        ("\"1 um\"", "at most 5 levels below the spacing"),
        ("\"3 ng\"", "a length"),
        ("true", "a length"),
    ] {
        let text = box_scenario(&format!("spacing = \"1 mm\"\nfinest = {value}"));
        let e = parse(&text).unwrap_err().to_string();
        assert!(
            e.starts_with("levels.toml:5:10: grid.finest: expected ") && e.contains(says),
            "{value}: {e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }
    // Five levels are allowed; `--spacing` may push finest beyond them, which `build` refuses.
    let mut sc = parse(&box_scenario("spacing = \"1 mm\"\nfinest = \"31.25 um\"")).unwrap();
    sc.grid_spacing_mm = 2.0;
    let e = build(&sc).unwrap_err().to_string();
    assert!(
        e.starts_with("levels.toml:5:10: grid.finest: 0.03125 mm is more than 5 levels"),
        "{e}"
    );
    // Nothing placed at a site: nothing to refine around, said at the key.
    let text = "[grid]\nfinest = \"250 um\"\n[geometry]\nkind = \"box\"\nsize = [6, 6, 6]\n";
    let e = build(&parse(text).unwrap()).unwrap_err().to_string();
    assert!(
        e.starts_with("levels.toml:2:10: grid.finest: ") && e.contains("has none"),
        "{e}"
    );
}

/// The refined scenario runs on the CPU twin: a few steps, every species' ledger closed.
#[test]
fn the_refined_scenario_runs_on_the_twin() {
    let p = problem("spacing = \"1 mm\"\nfinest = \"250 um\"");
    let mut twin = CpuReference::new(&p).unwrap();
    twin.step(5);
    for (s, l) in twin.ledger().species.iter().enumerate() {
        let e = l.closure_error(twin.initial_amounts()[s]);
        eprintln!("species {s}: closure {e:.1e}");
        assert!(e.abs() < 1e-12, "species {s}: {e:e} ({l:?})");
        assert!(l.secreted > 0.0 && l.in_tissue > 0.0);
    }
}

/// `secretome run` and `converge` on a refined scenario: one line at `[grid] finest` (the GPU
/// solver runs one level so far), no panic.
/// `run` on a refined scenario: the uniform `.vti` at the coarse voxels holds the cell averages,
/// the `.vthb` beside it the levels (its level 0 the same averages, its finest level finer
/// peaks), read back with the independent reader; `converge --finest` runs each finest level.
#[test]
fn a_refined_scenario_runs_and_converges_on_the_gpu() {
    use crate::common::vti_reader::{element, read_array, read_vti};
    let dir = std::env::temp_dir().join(format!("secretome-levels-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("levels.toml");
    std::fs::write(
        &file,
        box_scenario("spacing = \"1 mm\"\nfinest = \"250 um\""),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let (code, _, err) = common::secretome(&["run", f, "--out", o]);
    assert_eq!(code, 0, "{err}");
    let values = |v: &common::vti_reader::Vti, name: &str| -> Vec<f32> {
        let (ty, bits, _) = read_array(v, name);
        assert_eq!(ty, "Float32");
        bits.into_iter().map(|b| f32::from_bits(b as u32)).collect()
    };
    let uniform = read_vti(&out.join("fields/fields_0001.vti"));
    assert_eq!(uniform.image["WholeExtent"], "0 12 0 12 0 12");
    let coarse = values(&uniform, "VEGF");
    assert_eq!(coarse.len(), 12 * 12 * 12);
    let xml = std::fs::read_to_string(out.join("fields/levels_0001.vthb")).unwrap();
    let mut from = 0;
    let mut images = Vec::new();
    while let Some((end, ds)) = element(&xml, "DataSet", from) {
        images.push(read_vti(&out.join("fields").join(&ds["file"])));
        from = end;
    }
    assert_eq!(images.len(), 3, "{xml}");
    // Level 0: the cell averages of the uniform file; the finest level resolves a higher peak.
    assert_eq!(values(&images[0], "VEGF"), coarse);
    let peak = |v: &[f32]| v.iter().copied().fold(0.0f32, f32::max);
    let finest = values(&images[2], "VEGF");
    assert!(
        peak(&finest) > peak(&coarse),
        "{} vs {}",
        peak(&finest),
        peak(&coarse)
    );
    assert_eq!(images[2].image["Spacing"], "0.25 0.25 0.25");
    let (_, labels, _) = read_array(&images[2], "label");
    assert!(labels.contains(&(TissueLabel::Myocardium as u64)));

    let conv = dir.join("conv");
    let (code, stdout, err) = common::secretome(&[
        "converge",
        f,
        "--finest",
        "0.5,0.25",
        "--hours",
        "0.1",
        "--tolerance",
        "100",
        "--out",
        conv.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("converged"), "{stdout}");
    let csv = std::fs::read_to_string(conv.join("converge.csv")).unwrap();
    assert!(csv.starts_with("readout,0.5mm,0.25mm,change"), "{csv}");
    assert!(conv.join("finest_0.25mm/summary.json").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Moving the depot of a refined scenario in a session: the refinement follows it, the run
/// carries over (fields averaged onto the new leaves: the amounts stay; time, steps, cells,
/// plasma and the ledger's totals as they were), and the ledger keeps closing after it.
#[test]
fn the_refinement_follows_a_moved_depot() {
    use secretome::session::Session;
    let sc = parse(&box_scenario("spacing = \"1 mm\"\nfinest = \"250 um\"")).unwrap();
    let built = build(&sc).unwrap();
    assert!(built.refinement.is_some());
    let mut session = Session::new(common::gpu(), &built).unwrap();
    session.advance(20).unwrap();
    let before = session.simulation().ledger().unwrap();
    let cells = session.simulation().depot_cells().unwrap();
    let (t, steps) = (
        session.simulation().time(),
        session.simulation().steps_taken(),
    );
    // Move the cells 3 mm along x; no refinement until asked.
    session.move_depot(0, [8.5, 6.0, 6.0], 1.5).unwrap();
    assert!(session.regrid_pending());
    let mid = session.simulation().ledger().unwrap();
    assert!(session.regrid(common::gpu()).unwrap());
    assert!(!session.regrid_pending() && session.refinements() == 1);
    let p = session.problem();
    // The finest leaves now lie around the new sphere and none around the old one's far side.
    let off = p.level_offsets();
    let finest: Vec<[f64; 3]> = (off[2]..off[3])
        .filter(|&v| p.label_at(v).is_tissue())
        .map(|v| p.voxel_centre(v))
        .collect();
    let dist =
        |c: &[f64; 3], at: [f64; 3]| (0..3).map(|k| (c[k] - at[k]).powi(2)).sum::<f64>().sqrt();
    assert!(finest
        .iter()
        .all(|c| (dist(c, [8.5, 6.0, 6.0]) - 1.5).abs() < 1.6));
    assert!(finest
        .iter()
        .any(|c| (dist(c, [8.5, 6.0, 6.0]) - 1.5).abs() < 0.2));
    assert!(!finest.iter().any(|c| c[0] < 4.0));
    let sim = session.simulation();
    assert_eq!((sim.time(), sim.steps_taken()), (t, steps));
    let after = sim.ledger().unwrap();
    for s in 0..4 {
        let (a, b) = (mid.species[s], after.species[s]);
        eprintln!(
            "species {s}: in tissue {:.6e} before the regrid, {:.6e} after",
            a.in_tissue, b.in_tissue
        );
        assert!((a.in_tissue - b.in_tissue).abs() <= 1e-6 * a.in_tissue.max(1e-30));
        assert!((a.secreted - b.secreted).abs() <= 1e-6 * a.secreted.max(1e-30));
        assert!(b.secreted >= before.species[s].secreted);
    }
    for (c, d) in sim.depot_cells().unwrap().iter().zip(&cells) {
        assert!((c - d).abs() <= 1e-6 * d.max(1.0), "{c} vs {d}");
    }
    session.advance(20).unwrap();
    let end = session.simulation().ledger().unwrap();
    let initial = session.simulation().initial_amounts().to_vec();
    for (s, l) in end.species.iter().enumerate() {
        let e = l.closure_error(initial[s]);
        eprintln!("species {s}: closure {e:.1e} after 20 more steps");
        assert!(e.abs() < 1e-5, "species {s}: {e:e}");
    }
}

/// A refined run stopped at its first output (it checkpoints there) and resumed gives the
/// same results as a run never stopped: the checkpoint holds every level's buffers and the
/// resumed run rebuilds the same levels.
#[test]
fn a_refined_run_stopped_and_resumed_gives_the_same_results() {
    use secretome::batch::{Outcome, RunOptions, Runner};
    use std::sync::atomic::AtomicBool;
    let mut sc = parse(&box_scenario("spacing = \"1 mm\"\nfinest = \"250 um\"")).unwrap();
    sc.output_interval_s = 1200.0;
    let dir = std::env::temp_dir().join(format!("secretome-levels-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (whole, stopped) = (dir.join("whole"), dir.join("stopped"));
    let mut runner = Runner::new(common::gpu(), &sc, &whole, RunOptions::default()).unwrap();
    runner.run(&AtomicBool::new(false), &mut |_| {}).unwrap();
    let mut runner = Runner::new(common::gpu(), &sc, &stopped, RunOptions::default()).unwrap();
    let o = runner.run(&AtomicBool::new(true), &mut |_| {}).unwrap();
    assert!(matches!(o, Outcome::Interrupted { .. }));
    assert!(!stopped.join("fields/fields_0003.vti").exists());
    let opts = RunOptions {
        resume: true,
        ..Default::default()
    };
    let mut runner = Runner::new(common::gpu(), &sc, &stopped, opts).unwrap();
    runner.run(&AtomicBool::new(false), &mut |_| {}).unwrap();
    let read = |p: std::path::PathBuf| std::fs::read(&p).unwrap();
    for f in [
        "stats.csv",
        "fields/fields_0003.vti",
        "fields/levels_0003/levels_0003_2_0.vti",
        "exposure.vti",
    ] {
        assert!(read(whole.join(f)) == read(stopped.join(f)), "{f} differs");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
