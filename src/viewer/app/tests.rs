//! The window's logic driven without a window, on the real solver.

#![allow(clippy::unwrap_used)]
use std::time::Instant;

use secretome::geometry::infarct::Territory;
use secretome::problem::build::build;
use secretome::scenario::Scenario;
use secretome::GpuContext;

use super::{Start, ViewerApp, RETAINED};

fn wait_for_rebuild(app: &mut ViewerApp) {
    let start = Instant::now();
    while app.rebuild.is_some() {
        assert!(
            start.elapsed().as_secs() < 300,
            "the rebuild never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        app.poll_rebuild();
    }
}

/// The window on the default scenario at 3 mm, without a window.
fn app_at_3mm(start_at_h: Option<f64>, cut: bool) -> ViewerApp {
    let ctx = GpuContext::new().unwrap();
    let mut scenario = crate::viewer::load(None).unwrap();
    scenario.grid_spacing_mm = 3.0;
    let built = build(&scenario).unwrap();
    let start = Start {
        scenario,
        scenario_text: crate::viewer::DEFAULT_SCENARIO.to_string(),
        path: None,
        built,
        species: None,
        speed: 0.5,
        start_at_h,
        cut,
        capture: None,
    };
    ViewerApp::create(ctx, start).unwrap()
}

/// `--start-at` runs the first hours before the window opens and fills the plots on the
/// way, from t = 0.
#[test]
fn start_at_fills_the_plots_from_zero() {
    let app = app_at_3mm(Some(2.0), false);
    let tsg6 = app.model.table.index_of("TSG6").unwrap();
    let steps = (2.0 * 3600.0 / app.dt()).round() as usize;
    let h = &app.readouts.history;
    // t = 0, then one sample per ceil(steps / 60) steps up to 2 h.
    let every = steps.div_ceil(60);
    assert_eq!(h.t.len(), steps.div_ceil(every) + 1);
    assert_eq!(h.t[0], 0.0);
    assert!((h.t[h.t.len() - 1] - 2.0).abs() < 1e-9, "{:?}", h.t.last());
    // Plasma TSG6 starts at zero and rises as the depot secretes; the depot's cells fall.
    let p = &h.plasma[tsg6];
    assert_eq!(p[0], 0.0);
    assert!(
        p.windows(2).all(|w| w[1] >= w[0]) && p[p.len() - 1] > 0.0,
        "{p:?}"
    );
    let (_, cells) = &h.cells[0];
    assert_eq!(cells.len(), h.t.len());
    assert!(cells[cells.len() - 1][1] < cells[0][1]);
}

/// Paused, the window asks for one snapshot of the state it shows and then none (so it can
/// idle); a step asks again.
#[test]
fn a_paused_window_stops_asking_for_snapshots() {
    let mut app = app_at_3mm(None, false);
    app.pacing.playing = false;
    // Whether the window asked for a snapshot; then lets it arrive.
    fn settle(app: &mut ViewerApp) -> bool {
        app.readouts.last_request = Instant::now() - std::time::Duration::from_secs(1);
        app.poll_snapshot();
        let asked = app.readouts.pending.is_some();
        app.ctx.wait().unwrap();
        app.poll_snapshot();
        assert!(
            app.readouts.pending.is_none(),
            "the snapshot arrives once the GPU is done"
        );
        asked
    }
    assert!(settle(&mut app), "the first state is read");
    assert!(app.readouts.snapshot.is_some());
    assert!(!settle(&mut app), "paused and unchanged: nothing to read");
    app.step(1);
    assert!(settle(&mut app), "a step is read");
    assert_eq!(app.readouts.snapshot.as_ref().unwrap().time, app.dt());
    assert!(!settle(&mut app));
}

/// The window's logic, driven without a window on the same code paths as its buttons:
/// a depot placed by a click, a step, re-voxelising at another spacing and infarct (the
/// placed depot comes back), a lesson from the menu, and the state saved as a scenario
/// that loads again.
#[test]
fn the_window_places_revoxelises_opens_lessons_and_saves() {
    let mut app = app_at_3mm(None, true);
    assert_eq!(app.markers.len(), 1, "the preset's depot");
    let dose = app.placing.dose;
    let at = app.markers[0].centre;
    app.place_at(at);
    assert_eq!(app.session.depots().len(), 2, "{:?}", app.menus.message);
    assert_eq!(app.markers[1].initial_cells, dose * RETAINED);
    app.step(3);
    assert_eq!(app.session.simulation().steps_taken(), 3);

    // Re-voxelise at 2 mm with an RCA infarct.
    app.geometry.spacing = 2.0;
    app.geometry.territory = Some(Territory::Rca);
    app.geometry.transmural = 0.5;
    app.revoxelise();
    wait_for_rebuild(&mut app);
    let grid = &app.session.problem().grid;
    assert_eq!(grid.spacing, 2.0, "{:?}", app.menus.message);
    assert_eq!(app.session.simulation().steps_taken(), 0);
    assert_eq!(
        app.opened.scenario.infarcts[0].segments,
        Territory::Rca.segments()
    );
    assert!(
        app.markers.iter().any(|m| m.placed),
        "the placed depot is placed again: {:?}",
        app.menus.message
    );
    assert_eq!(app.markers.len(), app.session.depots().len());

    // Save, and load what was saved.
    let dir = std::env::temp_dir().join(format!("secretome-app-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("saved.toml");
    app.save_scenario(&path);
    assert_eq!(
        app.menus.message.as_ref().map(|m| m.1),
        Some(false),
        "{:?}",
        app.menus.message
    );
    let saved = Scenario::load(&path).unwrap();
    assert_eq!(saved.grid_spacing_mm, 2.0);
    assert_eq!(saved.depots.len(), app.markers.len());
    let _ = std::fs::remove_dir_all(&dir);

    // A lesson from the menu: its explanation is shown, its remote site runs.
    let (_, file, text) = crate::viewer::lessons::LESSONS
        .iter()
        .find(|(_, f, _)| *f == "endocrine_iv.toml")
        .unwrap();
    app.open_text(text, file);
    wait_for_rebuild(&mut app);
    assert_eq!(
        app.opened.scenario.name, "endocrine_iv",
        "{:?}",
        app.menus.message
    );
    assert!(app
        .menus
        .lesson
        .as_ref()
        .is_some_and(|(_, t)| t.contains("endocrine")));
    assert_eq!(
        app.session.simulation().problem().compartment.remote.len(),
        1
    );
    assert!(
        app.markers.is_empty(),
        "no cells reach the heart in this lesson"
    );
}

/// On a refined scenario, moving a depot refines around it again a moment later: the session
/// carries the run onto the new levels and the picture draws from them.
#[test]
fn the_refinement_follows_a_depot_moved_in_the_window() {
    let ctx = GpuContext::new().unwrap();
    let mut scenario = crate::viewer::load(None).unwrap();
    scenario.grid_spacing_mm = 3.0;
    scenario.grid_finest_mm = Some(0.75);
    let built = build(&scenario).unwrap();
    assert!(built.problem.levels.is_some());
    let start = Start {
        scenario,
        scenario_text: crate::viewer::DEFAULT_SCENARIO.to_string(),
        path: None,
        built,
        species: None,
        speed: 0.5,
        start_at_h: None,
        cut: true,
        capture: None,
    };
    let mut app = ViewerApp::create(ctx, start).unwrap();
    app.step(3);
    app.update_picture([160, 120]);
    let stored = app.session.simulation().stored().0;
    let at = app.markers[0].centre;
    app.move_depot(0, at, 1.0);
    assert!(app.session.regrid_pending());
    // Not before the moment has passed.
    app.poll_regrid();
    assert_eq!(app.session.refinements(), 0);
    app.placing.regrid_at = Some(Instant::now());
    app.poll_regrid();
    assert_eq!(app.session.refinements(), 1);
    // A smaller depot: fewer leaves around it.
    assert!(app.session.simulation().stored().0 < stored);
    app.step(2);
    app.update_picture([160, 120]);
    app.ctx.wait().unwrap();
    assert_eq!(app.session.simulation().steps_taken(), 5);
}
