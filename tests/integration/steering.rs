#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A scripted steering session, driving the viewer's state without a window: a click on the
//! heart picks a surface point, a depot placed there makes the concentration at that point
//! rise while the simulation runs, and deleting it stops its secretion.

use crate::common::gpu;
use glam::DVec3;
use secretome::geometry::HeartParams;
use secretome::problem::build::build;
use secretome::render::camera::OrbitCamera;
use secretome::render::{ClipPlane, Scene};
use secretome::scenario::Scenario;
use secretome::session::{PlacedDepot, Session};
use secretome::SpeciesTable;

#[test]
fn a_depot_placed_by_a_click_secretes_until_deleted() {
    let text = "[grid]\nspacing = \"3 mm\"\n[geometry]\nkind = \"default_heart\"\n[time]\ndt = \"300 s\"\n";
    let table = SpeciesTable::default_table().unwrap();
    let sc = Scenario::parse(text, "steer.toml", std::path::Path::new("."), &table).unwrap();
    let built = build(&sc).unwrap();
    let mut session = Session::new(gpu(), &built).unwrap();
    assert!(session.depots().is_empty());

    // The click: the centre pixel of a camera on the LV free-wall side, picked on what the
    // viewer draws (the surface of the grid's tissue).
    let h = HeartParams::default();
    let scene = Scene::new(&built.problem.grid);
    let centre = DVec3::new(0.0, 0.0, -h.base_above_equator);
    let cam = OrbitCamera::looking_from(centre, DVec3::NEG_X, 250.0, 0.5);
    let ray = cam.ray(400.0, 300.0, 800.0, 600.0);
    let hit = scene.pick(&ray, None).unwrap();
    // The epicardium of the free wall, within the grid's voxel (3 mm) of the ellipsoid.
    let r = h.lv_cavity_radius + h.lv_wall;
    assert!(
        (hit.x + r).abs() < 3.0 && hit.y.abs() < 1.5,
        "hit {hit:?}, expected near ({}, 0, …)",
        -r
    );
    // Half a wall inwards from the epicardium, where the tissue is.
    let at = (hit + ray.dir * 4.0).to_array();
    assert!(scene.is_tissue(DVec3::from_array(at)));

    // With the heart cut open at the equator, a click from above lands on the slice, in the
    // wall: the surface above the plane is cut away.
    let clip = ClipPlane {
        point: centre,
        normal: DVec3::Z,
    };
    let above = OrbitCamera::looking_from(centre, DVec3::new(-0.3, 0.0, 1.0), 250.0, 0.5);
    let (px, py, _) = above
        .project(
            DVec3::from_array(at) * DVec3::new(1.0, 1.0, 0.0) + centre * DVec3::Z,
            800.0,
            600.0,
        )
        .unwrap();
    let on_slice = scene
        .pick(&above.ray(px, py, 800.0, 600.0), Some(&clip))
        .unwrap();
    assert!(
        (on_slice.z - centre.z).abs() < 1e-6 && scene.is_tissue(on_slice),
        "slice pick {on_slice:?}"
    );

    let tsg6 = built.problem.species.index_of("TSG6").unwrap();
    let before = session.concentration_at(at, tsg6).unwrap();
    let i = session
        .place_depot(&PlacedDepot {
            name: "clicked".into(),
            at,
            radius_mm: 4.0,
            cells: 1e7,
        })
        .unwrap();
    session.step(12);
    let after = session.concentration_at(at, tsg6).unwrap();

    // The live view's snapshot (read without waiting) says what the blocking readbacks say.
    let pending = session.simulation().request_snapshot();
    gpu().wait().unwrap();
    let snap = loop {
        if let Some(s) = session.simulation().take_snapshot(&pending) {
            break s.unwrap();
        }
        gpu().wait().unwrap();
    };
    let sim = session.simulation();
    assert_eq!(snap.steps, sim.steps_taken());
    assert_eq!(snap.depot_cells, sim.depot_cells().unwrap());
    let (plasma, _) = sim.plasma_state().unwrap();
    let want: Vec<f64> = plasma.iter().map(|p| p.concentration).collect();
    assert_eq!(snap.plasma, want);
    assert_eq!(snap.regions, sim.region_stats().unwrap());
    assert!(
        after > before + 1e-3,
        "TSG-6 at the click: {before} → {after} ng/mL"
    );
    let secreted = |s: &Session| s.simulation().ledger().unwrap().species[tsg6].secreted;
    let s1 = secreted(&session);
    session.step(2);
    assert!(
        secreted(&session) > s1,
        "it keeps secreting while it exists"
    );

    // Move it, change its cells, then delete it: no more secretion.
    session.move_depot(i, at, 6.0).unwrap();
    session.set_cells(i, 5e6).unwrap();
    session.step(1);
    session.delete_depot(i).unwrap();
    let s2 = secreted(&session);
    session.step(6);
    let s3 = secreted(&session);
    assert_eq!(s3, s2, "a deleted depot secretes nothing");
    let later = session.concentration_at(at, tsg6).unwrap();
    assert!(
        later < after,
        "the factor clears once the depot is gone: {after} → {later}"
    );
    // A depot in the blood pool (the LV centre) is refused with its reason.
    let err = session
        .place_depot(&PlacedDepot {
            name: "in the cavity".into(),
            at: centre.to_array(),
            radius_mm: 2.0,
            cells: 1e6,
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("in the cavity"), "{err}");
}

/// A later injection reaches its own depots after others were deleted and placed in the
/// session (indices shift), and a deleted one does not come back.
#[test]
fn a_later_injection_finds_its_depots_after_steering() {
    let text = r#"
[grid]
spacing = "3 mm"
[time]
dt = "300 s"
[[depot]]
name = "early"
route = "intramyocardial"
site = "remote"
cells = "1e7"
start = "1 h"
[[depot]]
name = "late"
route = "intramyocardial"
site = "border_zone"
cells = "2e7"
start = "1 h"
"#;
    let table = SpeciesTable::default_table().unwrap();
    let sc = Scenario::parse(text, "later.toml", std::path::Path::new("."), &table).unwrap();
    let built = build(&sc).unwrap();
    assert_eq!(built.events.len(), 2, "{:?}", built.events);
    let mut session = Session::new(gpu(), &built).unwrap();
    assert_eq!(session.simulation().depot_cells().unwrap(), vec![0.0, 0.0]);
    // Delete "early" before its start; place one of our own.
    let at = {
        let g = &built.problem.grid;
        let (v, _) = built.problem.depots[1].voxels[0];
        let [x, y, z] = g.coords(v);
        g.centre(x, y, z)
    };
    session.delete_depot(0).unwrap();
    session
        .place_depot(&PlacedDepot {
            name: "mine".into(),
            at,
            radius_mm: 3.0,
            cells: 5e6,
        })
        .unwrap();
    session.advance(14).unwrap();
    let names: Vec<&str> = session.depots().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["late", "mine"]);
    let cells = session.simulation().depot_cells().unwrap();
    let retained = 2e7 * 0.15;
    assert!(
        cells[0] > 0.95 * retained && cells[0] <= retained,
        "late: {cells:?}"
    );
    assert!(cells[1] > 0.95 * 5e6 && cells[1] < 5e6, "mine: {cells:?}");
}
