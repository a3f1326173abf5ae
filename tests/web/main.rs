//! The solver inside a real web page: headless Chromium, WebGPU on its software adapter
//! (SwiftShader), through `wasm-bindgen-test` (issue 18). Run with `scripts/web-test.sh`.
//!
//! In the page nothing may wait: `Simulation::new` counts the initial amounts on the host
//! there, every read of the GPU goes through `gpu::web::read_async`, and `Simulation::step`
//! only submits work.
//! The browser's WebGPU gives wgpu no subgroup operations, so these tests run the ledger's
//! workgroup-tree reduction.
//!
//! - [`gpu_matches_cpu_in_the_browser`]: the desktop twin comparison
//!   (`tests/integration/gpu_matches_cpu.rs`) on the same problem, at the same tolerances.
//! - [`default_lesson_closes_its_ledger_in_the_browser`]: the viewer's default scenario runs
//!   60 steps and its whole-body mass ledger closes to 1e-4.
//! - [`steering_in_the_browser_keeps_the_ledger`]: depots placed, moved, refilled and
//!   deleted in the page (from the cells the host last knew) keep the ledger closed.
//! - [`levels_run_in_the_browser`]: a lesson refined around its depot (three levels) on the
//!   GPU in the page vs the CPU twin; its ledger closes; its depot moved, the refinement
//!   follows it (its reads answered across the page's tasks) and the ledger still closes.
//! - [`every_lesson_opens_in_the_browser`]: every preset of the lessons menu builds in the
//!   page, starts a session as the viewer does and runs, its ledger closing to 1e-4.
//!
//! On a desktop target this file is empty (`cfg`), so `cargo test` builds it as an empty test.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The desktop tests' helpers that build for the browser too (grids, the twin problem, the
// ledger and compartment comparisons): one copy, shared by path.
#[allow(dead_code)]
#[path = "../integration/common/portable.rs"]
mod portable;

use std::path::Path;

use portable::{
    assert_compartments_match, assert_ledgers_match, body_closures, max_rel_diff, twin_problem,
    with_compartments,
};
use secretome::gpu::web::read_async;
use secretome::problem::build::build;
use secretome::scenario::{presets::PRESETS, Scenario};
use secretome::session::{PlacedDepot, Session};
use secretome::{CpuReference, GpuContext, Simulation, SpeciesTable};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use web_time::Instant;

wasm_bindgen_test_configure!(run_in_browser);

/// The browser's WebGPU adapter; the test fails (it does not skip) where the page has none.
async fn gpu() -> GpuContext {
    let ctx = GpuContext::open()
        .await
        .expect("WebGPU adapter (Chromium needs --enable-unsafe-webgpu: see webdriver.json)");
    console_log!("adapter: {} (subgroups: {})", ctx.report, ctx.subgroups());
    ctx
}

/// The GPU solver (f32, in the page) and its double-precision CPU twin (compiled to wasm in the
/// same page) agree after 100 steps of the desktop twin problem with every term on: a
/// 26 × 22 × 40 heterogeneous grid at 0.1 mm (every label), dt = 120 s (several RKL1
/// stages), point sources, six depots with autocrine feedback, dynamic plasma fed by a remote
/// site, exposure readouts.
///
/// Tolerances, those of the desktop test: fields within 1e-4 of the field maximum (f32 vs f64
/// over 100 steps); each ledger term within 1e-4 of the species' largest term (f32 sums); the
/// GPU ledger closes to 1e-4, the CPU's to 1e-10; every depot's cells and concentrations, the
/// plasma course and the remote site within 1e-4.
#[wasm_bindgen_test]
async fn gpu_matches_cpu_in_the_browser() {
    let start = Instant::now();
    let ctx = gpu().await;
    let p = with_compartments(twin_problem());
    let mut cpu = CpuReference::new(&p).unwrap();
    let mut sim = Simulation::new(&ctx, &p).unwrap();
    assert!(
        sim.plan().stages() >= 3,
        "the test must exercise several RKL1 stages"
    );
    let opened = start.elapsed();

    let steps = 100;
    let t = Instant::now();
    cpu.step(steps);
    let cpu_time = t.elapsed();
    let t = Instant::now();
    sim.step(steps);
    let g = read_async(&ctx, || sim.read_fields()).await.unwrap();
    let gpu_time = t.elapsed();

    let err = max_rel_diff(&g, cpu.fields());
    console_log!(
        "twin: {} voxels, {} species, {} RKL1 stages, {steps} steps; max |GPU - CPU| = {err:.3e} \
         of the field maximum",
        p.grid.voxel_count(),
        p.n_species(),
        sim.plan().stages()
    );
    assert!(
        err <= 1e-4,
        "GPU vs CPU max difference {err:e} of the field maximum"
    );

    let lg = read_async(&ctx, || sim.ledger()).await.unwrap();
    let lc = cpu.ledger();
    for (s, l) in lg.species.iter().enumerate() {
        console_log!(
            "twin: species {s}: GPU ledger closure {:.3e}",
            l.closure_error(sim.initial_amounts()[s])
        );
    }
    assert_ledgers_match(&lg, &lc, sim.initial_amounts(), cpu.initial_amounts());

    let compartments = read_async(&ctx, || sim.compartments()).await.unwrap();
    assert_compartments_match(&compartments, &cpu.compartments(), 1e-4);
    console_log!(
        "twin: wall {:.2} s (opening the device and uploading {:.2} s, {steps} GPU steps and \
         the read {:.2} s, {steps} CPU steps {:.2} s)",
        start.elapsed().as_secs_f64(),
        opened.as_secs_f64(),
        gpu_time.as_secs_f64(),
        cpu_time.as_secs_f64()
    );
}

/// The viewer's default lesson (`assets/scenarios/intramyocardial.toml`: 2e7 MSCs injected
/// into the border zone of the procedural heart, dynamic plasma) runs 60 steps (1 h) in the
/// page, and its whole-body mass ledger (heart tissue, plasma and remote sites, as the desktop
/// `presets_run` tests compute it) closes to 1e-4 of the largest amount involved for every
/// species, with the depot having secreted each of them.
#[wasm_bindgen_test]
async fn default_lesson_closes_its_ledger_in_the_browser() {
    let start = Instant::now();
    let ctx = gpu().await;
    // Parsed as `viewer::load` does for the default scenario.
    let scenario = lesson("intramyocardial.toml");
    let built = build(&scenario).unwrap();
    assert!(
        built.events.is_empty(),
        "the lesson's injection is at its start: no later event to apply"
    );
    let p = &built.problem;
    let mut sim = Simulation::new(&ctx, p).unwrap();
    let opened = start.elapsed();

    let steps = 60;
    let t = Instant::now();
    sim.step(steps);
    console_log!(
        "lesson: {} voxels at {} mm, {steps} steps of {} s",
        p.grid.voxel_count(),
        scenario.grid_spacing_mm,
        p.dt
    );
    let (heart, _) = assert_body_closes(&ctx, &sim, p, "lesson").await;
    let stepped = t.elapsed();
    assert_eq!(sim.steps_taken(), steps as u64);
    for s in 0..p.n_species() {
        let l = heart.species[s];
        assert!(
            l.secreted > 0.0 && l.in_tissue > 0.0,
            "species {s}: the depot secreted nothing: {l:?}"
        );
    }
    console_log!(
        "lesson: wall {:.2} s (building, opening and uploading {:.2} s, {steps} steps and the \
         ledger {:.2} s)",
        start.elapsed().as_secs_f64(),
        opened.as_secs_f64(),
        stepped.as_secs_f64()
    );
}

/// The whole-body ledger of `sim` (a run of `p` from its start) closes to 1e-4 for every
/// species; `what` names the run in the log and a failure. Returns the heart's and the
/// plasma's ledgers.
async fn assert_body_closes(
    ctx: &GpuContext,
    sim: &Simulation,
    p: &secretome::Problem,
    what: &str,
) -> (secretome::Ledger, Vec<secretome::sim::PlasmaLedger>) {
    let heart = read_async(ctx, || sim.ledger()).await.unwrap();
    let (plasma, _) = read_async(ctx, || sim.plasma_state()).await.unwrap();
    let closures = body_closures(p, sim.initial_amounts(), &heart, &plasma);
    let shown: Vec<String> = closures.iter().map(|e| format!("{e:.1e}")).collect();
    console_log!(
        "{what}: whole-body ledger closure per species {}",
        shown.join(", ")
    );
    for (s, e) in closures.iter().enumerate() {
        assert!(e.abs() < 1e-4, "{what}, species {s}: ledger off by {e:e}");
    }
    (heart, plasma)
}

/// A lesson as the page opens it: the bundled preset, parsed as `viewer::load` does.
fn lesson(file: &str) -> Scenario {
    let text = secretome::scenario::presets::preset(file).unwrap();
    Scenario::parse(
        text,
        file,
        Path::new("assets/scenarios"),
        &SpeciesTable::default_table().unwrap(),
    )
    .unwrap()
}

/// Every lesson of the menu opens in the page: its heart (or box) builds at the preset's own
/// voxel, a `Session` starts on it as the viewer's does (the browser's `Simulation::new`,
/// depots, later injections through the cells the host last knew), and 10 steps later the
/// whole-body ledger closes to 1e-4 for every species, with some factor in the body (the
/// cells' or the bolus's).
#[wasm_bindgen_test]
async fn every_lesson_opens_in_the_browser() {
    let ctx = gpu().await;
    for (_, file, _) in PRESETS {
        let t = Instant::now();
        let scenario = lesson(file);
        let built = build(&scenario).unwrap();
        let mut session = Session::new(&ctx, &built).unwrap();
        session.advance(10).unwrap();
        let p = session.problem();
        console_log!(
            "{file}: {} voxels at {} mm, 10 steps in {:.2} s",
            p.grid.voxel_count(),
            scenario.grid_spacing_mm,
            t.elapsed().as_secs_f64()
        );
        let (heart, plasma) = assert_body_closes(&ctx, session.simulation(), p, file).await;
        let held: f64 = heart.species.iter().map(|l| l.in_tissue).sum::<f64>()
            + plasma
                .iter()
                .map(|l| l.in_plasma + l.at_remote_sites)
                .sum::<f64>();
        assert!(
            held > 0.0,
            "{file}: no factor anywhere in the body after 10 steps"
        );
    }
}

/// Steering in the page, where nothing may wait: a depot placed, moved, given new cells and
/// deleted (each re-uploads every depot's cells from what the host last knew: the last
/// snapshot or upload) on the default lesson at 2 mm. The placed depot secretes while it
/// exists and not after; the whole-body ledger still closes to 1e-4.
#[wasm_bindgen_test]
async fn steering_in_the_browser_keeps_the_ledger() {
    let ctx = gpu().await;
    let mut scenario = lesson("intramyocardial.toml");
    scenario.grid_spacing_mm = 2.0;
    let built = build(&scenario).unwrap();
    let mut session = Session::new(&ctx, &built).unwrap();
    // At the scenario's own depot: tissue.
    let (v, _) = session.depots()[0].voxels[0];
    let g = &session.problem().grid;
    let [x, y, z] = g.coords(v);
    let at = g.centre(x, y, z);
    session.step(3);
    let i = session
        .place_depot(&PlacedDepot {
            name: "clicked".into(),
            at,
            radius_mm: 4.0,
            cells: 1e7,
        })
        .unwrap();
    session.step(5);
    let snapshot = session.simulation().request_snapshot();
    let taken = loop {
        if let Some(s) = session.simulation().take_snapshot(&snapshot) {
            break s.unwrap();
        }
        secretome::gpu::web::next_task().await;
    };
    assert_eq!(taken.depot_cells.len(), 2);
    session.move_depot(i, at, 6.0).unwrap();
    session.set_cells(i, 5e6).unwrap();
    session.step(5);
    let tsg6 = session.problem().species.index_of("TSG6").unwrap();
    let sim = session.simulation();
    let before = read_async(&ctx, || sim.ledger()).await.unwrap().species[tsg6].secreted;
    session.delete_depot(i).unwrap();
    assert_eq!(session.depots().len(), 1);
    session.step(5);
    let sim = session.simulation();
    let (heart, _) = assert_body_closes(&ctx, sim, session.problem(), "steering").await;
    let cells = read_async(&ctx, || sim.depot_cells()).await.unwrap();
    console_log!(
        "steering: TSG-6 secreted {before:.4e} ng before the delete, {:.4e} after; cells {cells:?}",
        heart.species[tsg6].secreted
    );
    assert_eq!(cells.len(), 1, "the deleted depot is gone on the GPU");
    // The scenario's own depot keeps secreting; the deleted one no longer adds.
    assert!(heart.species[tsg6].secreted > before);
}

/// Refinement levels in the page (their kernels bind 5 storage buffers: browsers offer 10):
/// the intramyocardial lesson at 2 mm refined around its depot to 0.5 mm (levels of 2, 1 and
/// 0.5 mm), 10 steps on the GPU in the page vs the CPU twin on the same levels: every voxel of
/// every level within 1e-4 of the field maximum, the whole-body ledger closed to 1e-4.
#[wasm_bindgen_test]
async fn levels_run_in_the_browser() {
    let ctx = gpu().await;
    let mut scenario = lesson("intramyocardial.toml");
    scenario.grid_spacing_mm = 2.0;
    scenario.grid_finest_mm = Some(0.5);
    let built = build(&scenario).unwrap();
    let p = &built.problem;
    let levels = 1 + p.levels.as_ref().map_or(0, |l| l.grids.len());
    assert!(levels >= 3, "{levels} levels");
    let mut cpu = CpuReference::new(p).unwrap();
    let mut sim = Simulation::new(&ctx, p).unwrap();
    let steps = 10;
    cpu.step(steps);
    sim.step(steps);
    let g = read_async(&ctx, || sim.read_fields()).await.unwrap();
    let err = max_rel_diff(&g, cpu.fields());
    console_log!(
        "levels: {levels} levels, {} voxels in all, {steps} steps; max |GPU - CPU| = {err:.3e} of the field maximum",
        p.voxel_count()
    );
    assert!(
        err <= 1e-4,
        "GPU vs CPU on levels: {err:e} of the field maximum"
    );
    assert_body_closes(&ctx, &sim, p, "levels").await;

    // The viewer's regridding in the page: the depot moved by 6 mm, the refinement follows it
    // once every read of the carrying-over has come back, and the run goes on.
    let mut session = Session::new(&ctx, &built).unwrap();
    session.advance(5).unwrap();
    let (v, _) = session.depots()[0].voxels[0];
    let at = p.voxel_centre(v);
    if session
        .move_depot(0, [at[0] + 6.0, at[1], at[2]], 2.0)
        .is_err()
    {
        session
            .move_depot(0, [at[0] - 6.0, at[1], at[2]], 2.0)
            .unwrap();
    }
    assert!(session.regrid_pending());
    let to = session.regrid_target().unwrap().unwrap();
    let mut replay = secretome::gpu::web::Replay::default();
    let mut tasks = 0;
    loop {
        if let Some(r) = replay.attempt(&ctx, || session.regrid_onto(&ctx, &to)) {
            r.unwrap();
            break;
        }
        tasks += 1;
        secretome::gpu::web::next_task().await;
    }
    assert!(!session.regrid_pending() && session.refinements() == 1);
    session.advance(5).unwrap();
    console_log!("levels: regridded after {tasks} tasks");
    assert_body_closes(
        &ctx,
        session.simulation(),
        session.problem(),
        "levels, regridded",
    )
    .await;
}
