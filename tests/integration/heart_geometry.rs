#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The default heart and its labelling, against MODEL.md §1 and shapes with exact volumes.

use secretome::geometry::{
    label_heart, stats::HeartStats, AnatomyHints, GridSpec, HeartAnatomy, HeartParams, InfarctSpec,
    NamedMesh, Territory,
};
use secretome::TissueLabel;

fn hints_of(p: &HeartParams) -> AnatomyHints {
    p.hints()
}

fn default_heart(h: f64) -> (HeartAnatomy, HeartStats) {
    let p = HeartParams::default();
    let meshes = p.meshes(HeartParams::MESH_STEP).unwrap();
    let a = label_heart(&meshes, h, &hints_of(&p), &[InfarctSpec::default_lad()]).unwrap();
    let s = HeartStats::of(&a);
    (a, s)
}

fn in_range(what: &str, v: f64, lo: f64, hi: f64) {
    assert!(
        (lo..=hi).contains(&v),
        "{what} = {v:.2}, expected {lo}–{hi}"
    );
}

/// MODEL.md §1 targets, at 1 mm and 0.5 mm voxels, and < 3 % change between the two.
#[test]
fn default_heart_meets_the_model_targets_at_two_resolutions() {
    let (_, s1) = default_heart(1.0);
    let (_, s2) = default_heart(0.5);
    for s in [&s1, &s2] {
        in_range("LV cavity (mL)", s.lv_cavity_ml, 120.0, 180.0);
        in_range("LV myocardium (mL)", s.lv_myocardium_ml, 100.0, 160.0);
        in_range("LV wall median (mm)", s.lv_wall.median, 8.0, 11.0);
        in_range("base–apex (mm)", s.base_apex_mm, 80.0, 100.0);
        in_range("RV cavity (mL)", s.rv_cavity_ml, 130.0, 200.0);
        in_range("RV free wall median (mm)", s.rv_wall.median, 3.0, 5.0);
    }
    for (what, a, b) in [
        ("LV cavity", s1.lv_cavity_ml, s2.lv_cavity_ml),
        ("LV myocardium", s1.lv_myocardium_ml, s2.lv_myocardium_ml),
        ("RV cavity", s1.rv_cavity_ml, s2.rv_cavity_ml),
        ("RV free wall", s1.rv_wall_ml, s2.rv_wall_ml),
    ] {
        let change = (a - b).abs() / b;
        assert!(
            change < 0.03,
            "{what}: {a:.1} mL at 1 mm vs {b:.1} mL at 0.5 mm ({:.1} %)",
            change * 100.0
        );
    }
}

/// All 17 segments non-empty; basal and mid ones 4–12 % of LV myocardium each; LAD 35–55 %;
/// the default infarct 15–25 %.
#[test]
fn aha_segments_territories_and_default_infarct() {
    let (a, s) = default_heart(1.0);
    let total: f64 = s.segment_ml.iter().sum();
    assert!(
        (total - s.lv_myocardium_ml).abs() < 1e-6 * total,
        "every LV voxel has a segment"
    );
    for (k, ml) in s.segment_ml.iter().enumerate() {
        assert!(*ml > 0.0, "segment {} is empty", k + 1);
        if k < 12 {
            in_range(&format!("segment {} share", k + 1), ml / total, 0.04, 0.12);
        }
    }
    in_range(
        "LAD territory share",
        s.share_of_segments(Territory::Lad.segments()),
        0.35,
        0.55,
    );
    in_range("default infarct share", s.infarct_share, 0.15, 0.25);
    // Segments sit where the AHA model puts them: anterior (1) towards +y, septal (2, 3)
    // towards the RV (+x), lateral (5, 6) away from it.
    let centroid = |seg: u8| {
        let mut c = [0.0; 3];
        let mut n = 0.0;
        for (i, &s) in a.aha_segment.iter().enumerate() {
            if s == seg {
                let [x, y, z] = a.grid.coords(i);
                let p = a.grid.centre(x, y, z);
                for k in 0..3 {
                    c[k] += p[k];
                }
                n += 1.0;
            }
        }
        c.map(|v| v / n)
    };
    assert!(
        centroid(1)[1] > 15.0,
        "basal anterior lies anterior (+y): {:?}",
        centroid(1)
    );
    assert!(
        centroid(3)[0] > 10.0,
        "basal inferoseptal lies towards the RV: {:?}",
        centroid(3)
    );
    assert!(
        centroid(4)[1] < -15.0,
        "basal inferior lies inferior (−y): {:?}",
        centroid(4)
    );
    assert!(
        centroid(5)[0] < -10.0,
        "basal inferolateral lies away from the RV: {:?}",
        centroid(5)
    );
    assert!(centroid(17)[2] < centroid(13)[2] && centroid(13)[2] < centroid(7)[2]);
    // Depth runs from the endocardium to the epicardium in the LV wall.
    for (i, &d) in a.depth.iter().enumerate() {
        if a.lv_myocardium[i] && a.grid.labels[i].is_tissue() {
            assert!((0.0..=1.0).contains(&d), "depth {d} at voxel {i}");
        }
    }
    // The infarct core sits in the inner 70 % of its segments; the border zone surrounds it.
    for i in 0..a.grid.voxel_count() {
        if a.grid.labels[i] == TissueLabel::Infarct {
            assert!([7, 8, 13, 14, 17].contains(&a.aha_segment[i]));
            assert!(a.depth[i] <= 0.7 + 1e-6);
        }
    }
}

/// Several infarcts combine; a territory infarct covers its segments.
#[test]
fn infarcts_by_territory_and_combined() {
    let p = HeartParams::default();
    let meshes = p.meshes(HeartParams::MESH_STEP).unwrap();
    let rca = InfarctSpec::territory(Territory::Rca, 1.0, 0.0);
    let lcx = InfarctSpec::territory(Territory::Lcx, 0.5, 3.0);
    let a = label_heart(&meshes, 1.0, &hints_of(&p), &[rca, lcx]).unwrap();
    let s = HeartStats::of(&a);
    let rca_share = s.share_of_segments(Territory::Rca.segments());
    let lcx_share = s.share_of_segments(Territory::Lcx.segments());
    // Fully transmural RCA + half the LCx wall, within the voxel rounding of depth.
    let expect = rca_share + 0.5 * lcx_share;
    assert!(
        (s.infarct_share - expect).abs() < 0.04,
        "{} vs {expect}",
        s.infarct_share
    );
    assert!(s.border_zone_share > 0.02);
    let bad = InfarctSpec {
        segments: vec![18],
        transmural: 0.5,
        border_zone_mm: 1.0,
    };
    let e = label_heart(&meshes, 1.0, &hints_of(&p), &[bad])
        .unwrap_err()
        .to_string();
    assert!(e.contains("segment 18") && e.contains("1–17"), "{e}");
}

/// The myocardium surface alone is enough: cavities are found by closing the base plane
/// (estimated), LV and RV told apart by their walls; the labels match the full description.
#[test]
fn myocardium_alone_gives_the_same_heart() {
    let p = HeartParams::default();
    let meshes = p.meshes(HeartParams::MESH_STEP).unwrap();
    let full = label_heart(&meshes, 1.0, &hints_of(&p), &[]).unwrap();
    let myo: Vec<NamedMesh> = meshes
        .into_iter()
        .filter(|m| m.name == "myocardium")
        .collect();
    let alone = label_heart(&myo, 1.0, &AnatomyHints::default(), &[]).unwrap();
    assert!(alone
        .warnings
        .iter()
        .any(|w| w.contains("base plane estimated")));
    let n = alone.base_plane.normal;
    assert!(n[2] > 0.999, "estimated base normal {n:?}");
    let same = agreement(&full, &alone);
    assert!(
        same > 0.985,
        "labels agree on {:.2} % of voxels",
        same * 100.0
    );
    let s = HeartStats::of(&alone);
    in_range("LV cavity (mL)", s.lv_cavity_ml, 120.0, 180.0);
    in_range("RV cavity (mL)", s.rv_cavity_ml, 130.0, 200.0);
}

/// Share of voxels of `a` whose centre gets the same label in `b` (grids may differ by a voxel).
fn agreement(a: &HeartAnatomy, b: &HeartAnatomy) -> f64 {
    let spec = GridSpec {
        dims: b.grid.dims,
        origin: b.grid.origin,
        spacing: b.grid.spacing,
    };
    let mut same = 0usize;
    let mut total = 0usize;
    for i in 0..a.grid.voxel_count() {
        let [x, y, z] = a.grid.coords(i);
        let la = a.grid.labels[i];
        let p = a.grid.centre(x, y, z);
        let lb = secretome::geometry::anatomy::voxel_at(&spec, p)
            .map_or(TissueLabel::Outside, |j| b.grid.labels[j]);
        if la == TissueLabel::Outside && lb == TissueLabel::Outside {
            continue;
        }
        total += 1;
        if la == lb {
            same += 1;
        }
    }
    same as f64 / total as f64
}

/// The default heart written to OBJ (all three surfaces) and to binary STL (the myocardium
/// alone, f32) and read back gives the same labels.
#[test]
fn exported_heart_reimports_to_the_same_labels() {
    use secretome::geometry::mesh::{load_meshes, write_obj, write_stl};
    let p = HeartParams::default();
    let meshes = p.meshes(HeartParams::MESH_STEP).unwrap();
    let hints = hints_of(&p);
    let infarcts = [InfarctSpec::default_lad()];
    let original = label_heart(&meshes, 1.0, &hints, &infarcts).unwrap();
    let dir = std::env::temp_dir().join(format!("secretome-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let obj = dir.join("heart.obj");
    write_obj(&obj, &meshes).unwrap();
    let (back, _) = load_meshes(&obj).unwrap();
    let names: Vec<&str> = back.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["myocardium", "lv_cavity", "rv_cavity"]);
    let a = label_heart(&back, 1.0, &hints, &infarcts).unwrap();
    let same = agreement(&original, &a);
    assert!(
        same >= 0.99,
        "OBJ: labels agree on {:.3} % of heart voxels",
        same * 100.0
    );
    assert_eq!(
        a.grid.labels, original.grid.labels,
        "OBJ holds the vertices exactly"
    );

    let stl = dir.join("heart.stl");
    write_stl(&stl, &meshes[0], true).unwrap();
    let (back, _) = load_meshes(&stl).unwrap();
    assert_eq!(back.len(), 1);
    let a = label_heart(&back, 1.0, &hints, &infarcts).unwrap();
    let same = agreement(&original, &a);
    assert!(
        same >= 0.99,
        "STL: labels agree on {:.3} % of heart voxels",
        same * 100.0
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `assets/heart.obj` is what `secretome geometry --export-mesh assets/heart.obj` makes now.
#[test]
fn shipped_heart_mesh_matches_the_generator() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/heart.obj");
    let (shipped, _) = secretome::geometry::mesh::load_meshes(std::path::Path::new(path)).unwrap();
    let made = HeartParams::default()
        .meshes(HeartParams::MESH_STEP)
        .unwrap();
    assert_eq!(shipped.len(), made.len());
    for (s, m) in shipped.iter().zip(&made) {
        assert_eq!(s.name, m.name);
        assert_eq!(s.mesh.triangles.len(), m.mesh.triangles.len(), "{}", s.name);
        let rel = (s.mesh.signed_volume() - m.mesh.signed_volume()).abs() / m.mesh.signed_volume();
        assert!(
            rel < 1e-9,
            "{}: regenerate with `secretome geometry --export-mesh assets/heart.obj`",
            s.name
        );
    }
}

/// Delivery sites: transendocardial injections land in LV myocardium of their segments at the
/// depth asked; the border-zone centre is border zone.
#[test]
fn delivery_sites_land_where_asked() {
    use secretome::geometry::anatomy::voxel_at;
    use secretome::geometry::sites::{endocardial_sites, label_centre, segment_voxels};
    let (a, _) = default_heart(1.0);
    let spec = GridSpec {
        dims: a.grid.dims,
        origin: a.grid.origin,
        spacing: a.grid.spacing,
    };
    let segments = [7u8, 8, 13, 14];
    let sites = endocardial_sites(&a, &segments, 10, 3.0).unwrap();
    assert_eq!(sites.len(), 10);
    for (n, p) in sites.iter().enumerate() {
        let i = voxel_at(&spec, *p).unwrap();
        assert!(a.lv_myocardium[i], "site {n} not in LV myocardium");
        assert_eq!(
            a.aha_segment[i],
            segments[n % 4],
            "site {n} in the wrong segment"
        );
        let from_endo = a.depth[i] as f64 * a.wall_thickness[i] as f64;
        assert!(
            (from_endo - 3.0).abs() <= 1.5,
            "site {n} at {from_endo:.1} mm from the endocardium"
        );
    }
    let mut distinct = sites.clone();
    distinct.sort_by(|a, b| a.partial_cmp(b).unwrap());
    distinct.dedup();
    assert_eq!(distinct.len(), 10, "ten different sites");
    let bz = label_centre(&a, TissueLabel::BorderZone).unwrap();
    assert_eq!(
        a.grid.labels[voxel_at(&spec, bz).unwrap()],
        TissueLabel::BorderZone
    );
    assert!(!segment_voxels(&a, Territory::Lad.segments()).is_empty());
    assert!(endocardial_sites(&a, &[], 3, 3.0).is_err());
}
