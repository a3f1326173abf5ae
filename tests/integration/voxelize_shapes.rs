#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Voxelisation of shapes with exact volumes (within 2 % at ≥ 20 voxels across), and
//! geometry that cannot be labelled getting one clear line.

use std::f64::consts::PI;

use secretome::geometry::isosurface::surface_mesh;
use secretome::geometry::{
    label_heart, voxelize, AnatomyHints, BasePlane, GridSpec, NamedMesh, TriMesh,
};
use secretome::TissueLabel;

fn ellipsoid(p: [f64; 3], r: [f64; 3]) -> f64 {
    // Exact sign; ≈ distance near the surface.
    let q = [p[0] / r[0], p[1] / r[1], p[2] / r[2]];
    let k = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).sqrt();
    (k - 1.0) * r[0].min(r[1]).min(r[2])
}

fn volume_of(mesh: &TriMesh, h: f64) -> f64 {
    let (lo, hi) = mesh.bounds().unwrap();
    let spec = GridSpec::covering(lo, hi, h, 2.0 * h);
    let v = voxelize(mesh, &spec);
    assert_eq!(v.leaky_columns, 0);
    v.inside.iter().filter(|&&b| b).count() as f64 * h * h * h
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b
}

#[test]
fn sphere_at_20_voxels_across() {
    let r = 10.0;
    let m = surface_mesh(&|p| ellipsoid(p, [r, r, r]), [-12.0; 3], [12.0; 3], 0.7);
    let exact = 4.0 / 3.0 * PI * r.powi(3);
    let v = volume_of(&m, 1.0);
    assert!(rel(v, exact) < 0.02, "sphere: {v:.0} vs {exact:.0} mm³");
    // The mesh itself is accurate, so the voxel count is what is being tested.
    assert!(rel(m.signed_volume(), exact) < 2e-3);
}

#[test]
fn ellipsoidal_shell() {
    let (out, inn) = ([14.0, 11.0, 20.0], [11.0, 8.0, 17.0]);
    let f = |p: [f64; 3]| ellipsoid(p, out).max(-ellipsoid(p, inn));
    let m = surface_mesh(&f, [-16.0, -13.0, -22.0], [16.0, 13.0, 22.0], 0.5);
    let exact = 4.0 / 3.0 * PI * (out[0] * out[1] * out[2] - inn[0] * inn[1] * inn[2]);
    let v = volume_of(&m, 1.0);
    assert!(rel(v, exact) < 0.02, "shell: {v:.0} vs {exact:.0} mm³");
}

/// A half shell (an LV without an RV): its cavity, open at the cut, is closed by the base plane.
fn half_shell() -> (TriMesh, f64, f64) {
    let (out, inn) = ([14.0, 14.0, 30.0], [11.0, 11.0, 26.0]);
    let f = |p: [f64; 3]| {
        ellipsoid(p, out)
            .max(-ellipsoid(p, inn).max(p[2]))
            .max(p[2])
    };
    let m = surface_mesh(&f, [-16.0, -16.0, -32.0], [16.0, 16.0, 2.0], 0.5);
    let cavity = 2.0 / 3.0 * PI * inn[0] * inn[1] * inn[2];
    let wall = 2.0 / 3.0 * PI * (out[0] * out[1] * out[2]) - cavity;
    (m, cavity, wall)
}

#[test]
fn shell_with_an_open_cap_closed_by_a_plane() {
    let (m, cavity, wall) = half_shell();
    let meshes = vec![NamedMesh {
        name: "myocardium".into(),
        mesh: m.clone(),
    }];
    let h = 1.0; // the cavity is 22 voxels across
    let plane = BasePlane {
        point: [0.0, 0.0, 0.0],
        normal: [0.0, 0.0, 1.0],
    };
    let hints = AnatomyHints {
        base_plane: Some(plane),
        ..Default::default()
    };
    let a = label_heart(&meshes, h, &hints, &[]).unwrap();
    let c = a.grid.label_counts();
    let ml = a.grid.voxel_ml() * 1000.0;
    let lv = c[TissueLabel::BloodLv as usize] as f64 * ml;
    let myo = c[TissueLabel::Myocardium as usize] as f64 * ml;
    assert!(rel(lv, cavity) < 0.02, "cavity {lv:.0} vs {cavity:.0} mm³");
    assert!(rel(myo, wall) < 0.02, "wall {myo:.0} vs {wall:.0} mm³");
    assert_eq!(c[TissueLabel::BloodRv as usize], 0);
    assert!(a.warnings.iter().any(|w| w.contains("no RV")));

    // The same shell with its flat rim removed is open at the base: the plane comes from the
    // open boundary, and the missing rim is decided by the rays that did not pass through it.
    let mut open = m.clone();
    open.triangles
        .retain(|t| !t.iter().all(|&v| m.vertices[v as usize][2].abs() < 1e-9));
    assert!(open.triangles.len() < m.triangles.len());
    let meshes = vec![NamedMesh {
        name: "myocardium".into(),
        mesh: open,
    }];
    let a = label_heart(&meshes, h, &AnatomyHints::default(), &[]).unwrap();
    assert!(
        a.warnings.iter().any(|w| w.contains("not closed")),
        "{:?}",
        a.warnings
    );
    let c = a.grid.label_counts();
    let lv = c[TissueLabel::BloodLv as usize] as f64 * ml;
    let myo = c[TissueLabel::Myocardium as usize] as f64 * ml;
    // The estimated plane sits one voxel below the rim: the cavity loses that slab.
    let slab = PI * 11.0 * 11.0 * h;
    assert!(
        rel(lv, cavity - slab) < 0.03,
        "open: cavity {lv:.0} vs {:.0} mm³",
        cavity - slab
    );
    assert!(
        rel(myo, wall) < 0.03,
        "open: wall {myo:.0} vs {wall:.0} mm³"
    );
}

#[test]
fn geometry_that_cannot_be_labelled_gets_one_line() {
    let sphere = |r: f64| {
        let m = surface_mesh(
            &|p| ellipsoid(p, [r, r, r]),
            [-1.2 * r; 3],
            [1.2 * r; 3],
            r / 10.0,
        );
        vec![NamedMesh {
            name: "myocardium".into(),
            mesh: m,
        }]
    };
    let plane = BasePlane {
        point: [0.0; 3],
        normal: [0.0, 0.0, 1.0],
    };
    let hints = AnatomyHints {
        base_plane: Some(plane),
        ..Default::default()
    };
    let cases: Vec<(Vec<NamedMesh>, f64, &str)> = vec![
        // A solid ball: nothing is enclosed.
        (sphere(20.0), 1.0, "encloses no cavity"),
        // A heart in metres read as mm.
        (sphere(0.05), 1.0, "at least 8 across"),
        // Far too fine a voxel for the mesh.
        (sphere(200.0), 0.01, "use voxels of at least"),
        (sphere(20.0), -1.0, "expected a positive length"),
        (sphere(20.0), f64::NAN, "expected a positive length"),
        (vec![], 1.0, "named like `myocardium`"),
    ];
    for (meshes, h, want) in cases {
        let e = label_heart(&meshes, h, &hints, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "expected '{want}' in: {e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
}

/// A mesh that runs past the grid's edge: the voxels inside the grid are still right.
#[test]
fn mesh_crossing_the_grid_edge() {
    let r = 10.0;
    let m = surface_mesh(&|p| ellipsoid(p, [r, r, r]), [-12.0; 3], [12.0; 3], 0.7);
    // Only the lower half of the sphere's box is gridded.
    let spec = GridSpec {
        dims: [24, 24, 12],
        origin: [-12.0, -12.0, -12.0],
        spacing: 1.0,
    };
    let v = voxelize(&m, &spec);
    assert_eq!(v.leaky_columns, 0);
    let vol = v.inside.iter().filter(|&&b| b).count() as f64;
    let exact = 2.0 / 3.0 * PI * r.powi(3);
    assert!(
        rel(vol, exact) < 0.02,
        "half sphere: {vol:.0} vs {exact:.0} mm³"
    );
}
