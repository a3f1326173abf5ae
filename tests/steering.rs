#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A scripted steering session, driving the viewer's state without a window: a click on the
//! heart picks a surface point, a depot placed there makes the concentration at that point
//! rise while the simulation runs, and deleting it stops its secretion.

mod common;

use common::gpu;
use glam::DVec3;
use secretome::geometry::HeartParams;
use secretome::model::build::build;
use secretome::model::scenario::Scenario;
use secretome::view::camera::{pick, OrbitCamera};
use secretome::view::session::{PlacedDepot, Session};
use secretome::SpeciesTable;

#[test]
fn a_depot_placed_by_a_click_secretes_until_deleted() {
    let text = "[grid]\nspacing = \"3 mm\"\n[geometry]\nkind = \"default_heart\"\n[time]\ndt = \"300 s\"\n";
    let table = SpeciesTable::default_table().unwrap();
    let sc = Scenario::parse(text, "steer.toml", std::path::Path::new("."), &table).unwrap();
    let built = build(&sc).unwrap();
    let mut session = Session::new(gpu(), &built).unwrap();
    assert!(session.depots().is_empty());

    // The click: the centre pixel of a camera on the LV free-wall side.
    let h = HeartParams::default();
    let meshes = h.meshes(HeartParams::MESH_STEP).unwrap();
    let myo = meshes.iter().find(|m| m.name == "myocardium").unwrap();
    let centre = DVec3::new(0.0, 0.0, -h.base_above_equator);
    let cam = OrbitCamera::looking_from(centre, DVec3::NEG_X, 250.0, 0.5);
    let ray = cam.ray(400.0, 300.0, 800.0, 600.0);
    let hit = pick(&ray, &myo.mesh.vertices, &myo.mesh.triangles).unwrap();
    // Half a wall inwards from the epicardium, where the tissue is.
    let at = (hit + ray.dir * 4.0).to_array();

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
