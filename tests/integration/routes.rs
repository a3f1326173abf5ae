#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Delivery routes on the default heart: every route places its cells, and the paracrine and
//! endocrine axes show what MODEL.md §3–§4 say they do.

use crate::common::gpu;
use secretome::geometry::sites::label_centre;
use secretome::geometry::{label_heart, HeartAnatomy, HeartParams, InfarctSpec};
use secretome::problem::depot::Spread;
use secretome::problem::route::{deliver, Delivery, F_LUNG, K_ABS_LUNG, K_ABS_MUSCLE, K_ABS_SKIN};
use secretome::sim::Region;
use secretome::{Problem, Simulation, SpeciesTable, TissueLabel};

fn heart(h: f64) -> HeartAnatomy {
    let p = HeartParams::default();
    let hints = p.hints();
    label_heart(
        &p.meshes(HeartParams::MESH_STEP).unwrap(),
        h,
        &hints,
        &[InfarctSpec::default_lad()],
    )
    .unwrap()
}

fn problem(a: &HeartAnatomy) -> Problem {
    Problem::new(
        a.grid.clone(),
        SpeciesTable::default_table().unwrap(),
        600.0,
    )
}

#[test]
fn every_route_places_its_cells() {
    let a = heart(2.0);
    let bz = label_centre(&a, TissueLabel::BorderZone).unwrap();
    let ns = 4;
    let cases: Vec<(Delivery, usize, usize)> = vec![
        (
            Delivery::Intramyocardial {
                at: bz,
                radius_mm: 2.0,
                spread: Spread::Sphere,
            },
            1,
            0,
        ),
        (
            Delivery::Transendocardial {
                segments: vec![7, 8, 13, 14],
                injections: 10,
                depth_mm: 3.0,
                radius_mm: 1.0,
            },
            10,
            0,
        ),
        (
            Delivery::Intracoronary {
                segments: vec![1, 2, 7, 8, 13, 14, 17],
            },
            1,
            0,
        ),
        (
            Delivery::Intravenous {
                heart_fraction: 0.008,
                lung_fraction: 0.55,
                k_abs: K_ABS_LUNG,
                bioavailability: F_LUNG,
            },
            1,
            1,
        ),
        (
            Delivery::Intramuscular {
                k_abs: K_ABS_MUSCLE,
                bioavailability: 0.5,
            },
            0,
            1,
        ),
        (
            Delivery::Subcutaneous {
                k_abs: K_ABS_SKIN,
                bioavailability: 0.5,
            },
            0,
            1,
        ),
        (
            Delivery::Bolus {
                at: bz,
                radius_mm: 2.0,
                spread: Spread::Gaussian,
                amounts: vec![10.0; ns],
            },
            0,
            0,
        ),
    ];
    for (d, depots, remote) in cases {
        let mut p = problem(&a);
        let retained = d.default_retained();
        deliver(&mut p, &a, &d, 1e8, retained, "depot[0]").unwrap();
        assert_eq!(p.depots.len(), depots, "{}", d.route_name());
        assert_eq!(p.compartment.remote.len(), remote, "{}", d.route_name());
        p.validate().unwrap();
        let in_heart: f64 = p.depots.iter().map(|x| x.cells).sum();
        let expect = match &d {
            Delivery::Intravenous { heart_fraction, .. } => 1e8 * heart_fraction,
            Delivery::Intramuscular { .. }
            | Delivery::Subcutaneous { .. }
            | Delivery::Bolus { .. } => 0.0,
            _ => 1e8 * retained,
        };
        assert!(
            (in_heart - expect).abs() <= 1e-6 * expect.max(1.0),
            "{}: {in_heart}",
            d.route_name()
        );
        if let Delivery::Bolus { .. } = d {
            // 10 ng of each species placed in tissue (Σ ε c ΔV).
            let placed = p.tissue_amounts(&p.initial)[0];
            assert!((placed - 10.0).abs() < 1e-4, "bolus placed {placed} ng");
        }
    }
    // A depot in the blood pool is refused by name.
    let lv = label_centre(&a, TissueLabel::BloodLv).unwrap();
    let mut p = problem(&a);
    let d = Delivery::Intramyocardial {
        at: lv,
        radius_mm: 1.0,
        spread: Spread::Sphere,
    };
    let e = deliver(&mut p, &a, &d, 1e7, 0.15, "depot[3]")
        .unwrap_err()
        .to_string();
    assert!(e.contains("depot[3]") && e.contains("blood_lv"), "{e}");
}

/// Mean concentration (ng/mL) of species `s` over voxels of `label`.
fn mean_in(sim: &Simulation, p: &Problem, label: TissueLabel, s: usize) -> f64 {
    let f = sim.read_fields().unwrap();
    let n = p.grid.voxel_count();
    let (mut sum, mut count) = (0.0, 0.0);
    for v in 0..n {
        if p.grid.labels[v] == label {
            sum += f[s * n + v] as f64;
            count += 1.0;
        }
    }
    sum / count
}

/// Paracrine: the same dose in the border zone gives far more border-zone exposure than given
/// intravenously. Endocrine: with no cells homing to the heart, lung-trapped cells still raise
/// plasma and myocardial TSG-6, and the heart's gain is exactly what its exchange terms say.
#[test]
fn paracrine_beats_intravenous_and_endocrine_reaches_the_heart() {
    let a = heart(2.0);
    let bz = label_centre(&a, TissueLabel::BorderZone).unwrap();
    let vegf = 0;
    let hours = 12;
    // Border-zone exposure from the GPU readouts: the region's mean ∫c dt.
    let exposure = |d: &Delivery| {
        let mut p = problem(&a);
        p.exposure = true;
        p.segments = a.aha_segment.clone();
        deliver(&mut p, &a, d, 2e7, d.default_retained(), "depot[0]").unwrap();
        let mut sim = Simulation::new(gpu(), &p).unwrap();
        sim.step(6 * hours);
        let stats = sim.region_stats().unwrap();
        let bz = stats
            .iter()
            .find(|r| r.region == Region::Label(TissueLabel::BorderZone))
            .unwrap();
        // The GPU's regional mean agrees with the mean read back from the fields.
        let mean = mean_in(&sim, &p, TissueLabel::BorderZone, vegf);
        assert!((bz.species[vegf].mean - mean).abs() <= 1e-4 * mean);
        bz.species[vegf].auc
    };
    let local = exposure(&Delivery::Intramyocardial {
        at: bz,
        radius_mm: 2.0,
        spread: Spread::Sphere,
    });
    let iv = exposure(&Delivery::Intravenous {
        heart_fraction: 0.008,
        lung_fraction: 0.55,
        k_abs: K_ABS_LUNG,
        bioavailability: F_LUNG,
    });
    assert!(
        local > 5.0 * iv,
        "border-zone VEGF exposure: intramyocardial {local:.3e} vs IV {iv:.3e} ng·s/mL"
    );

    let mut p = problem(&a);
    deliver(
        &mut p,
        &a,
        &Delivery::Intravenous {
            heart_fraction: 0.0,
            lung_fraction: 0.55,
            k_abs: K_ABS_LUNG,
            bioavailability: F_LUNG,
        },
        1e8,
        1.0,
        "iv",
    )
    .unwrap();
    assert!(p.depots.is_empty());
    let tsg6 = p.species.index_of("TSG6").unwrap();
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    sim.step(36);
    let plasma = sim.plasma_state().unwrap().0[tsg6].concentration;
    assert!(plasma > 0.0, "plasma TSG-6 rises");
    let myo = mean_in(&sim, &p, TissueLabel::Myocardium, tsg6);
    assert!(myo > 0.0, "myocardial TSG-6 rises");
    let l = sim.ledger().unwrap().species[tsg6];
    assert_eq!(l.secreted, 0.0);
    let predicted = -l.net_exchange() - l.degraded - l.taken_up;
    assert!(
        (l.in_tissue - predicted).abs() <= 1e-4 * l.in_tissue,
        "heart TSG-6 {} ng vs exchange − losses {predicted} ng",
        l.in_tissue
    );
}

/// Remote cells secrete as their site activates them (MODEL.md §4): lung-entrapped cells with
/// each species' `lung_fold` (TSG-6 30×, Lee 2009), muscle and skin with theirs; the lungs'
/// absorption and bioavailability are the route's, editable in a scenario.
#[test]
fn remote_sites_secrete_with_their_own_folds() {
    let a = heart(4.0);
    let mut p = problem(&a);
    let tsg6 = p.species.index_of("TSG6").unwrap();
    let vegf = p.species.index_of("VEGF").unwrap();
    p.species.species[vegf].muscle_fold.value = 2.0;
    p.species.species[tsg6].skin_fold.value = 0.0;
    let sigma: Vec<f64> = p
        .species
        .species
        .iter()
        .map(|s| s.secretion.value)
        .collect();
    let lung_fold = p.species.species[tsg6].lung_fold.value;
    assert_eq!(lung_fold, 30.0);
    for (d, what) in [
        (
            Delivery::Intravenous {
                heart_fraction: 0.0,
                lung_fraction: 0.8,
                k_abs: 1e-3,
                bioavailability: 0.7,
            },
            "iv",
        ),
        (
            Delivery::Intramuscular {
                k_abs: K_ABS_MUSCLE,
                bioavailability: 0.5,
            },
            "im",
        ),
        (
            Delivery::Subcutaneous {
                k_abs: K_ABS_SKIN,
                bioavailability: 0.5,
            },
            "sc",
        ),
    ] {
        deliver(&mut p, &a, &d, 1e8, 1.0, what).unwrap();
    }
    let [lungs, muscle, skin] = [0, 1, 2].map(|i| p.compartment.remote[i].clone());
    assert_eq!(lungs.secretion[tsg6], sigma[tsg6] * lung_fold);
    assert_eq!(lungs.secretion[vegf], sigma[vegf]);
    assert_eq!((lungs.k_abs, lungs.bioavailability), (1e-3, 0.7));
    assert_eq!(lungs.cells, 0.8e8);
    assert_eq!(muscle.secretion[vegf], 2.0 * sigma[vegf]);
    assert_eq!(muscle.secretion[tsg6], sigma[tsg6]);
    assert_eq!(skin.secretion[tsg6], 0.0);
    // A bad lung absorption is refused by name.
    let e = deliver(
        &mut p,
        &a,
        &Delivery::Intravenous {
            heart_fraction: 0.0,
            lung_fraction: 0.8,
            k_abs: 1e-3,
            bioavailability: 1.5,
        },
        1e8,
        1.0,
        "bad iv",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("bad iv") && e.contains("bioavailability 1.5"),
        "{e}"
    );

    // Through a scenario: the fold is a species parameter, the absorption the route's.
    let text = r#"
[grid]
spacing = "4 mm"
[species.TSG6]
lung_fold = { value = 12, source = "a lab's own measurement" }
[[depot]]
route = "intravenous"
cells = "1e8"
heart_fraction = 0
lung_absorption_half_life = "30 min"
lung_bioavailability = 0.6
"#;
    let table = SpeciesTable::default_table().unwrap();
    let sc =
        secretome::scenario::Scenario::parse(text, "iv.toml", std::path::Path::new("."), &table)
            .unwrap();
    let built = secretome::problem::build::build(&sc).unwrap();
    let lungs = &built.problem.compartment.remote[0];
    assert!((lungs.secretion[tsg6] - 12.0 * sigma[tsg6]).abs() < 1e-12 * sigma[tsg6]);
    assert!((lungs.k_abs - std::f64::consts::LN_2 / 1800.0).abs() < 1e-15);
    assert_eq!(lungs.bioavailability, 0.6);
    assert_eq!(
        built.problem.species.species[tsg6].lung_fold.source,
        "a lab's own measurement"
    );
}

/// `site = "remote"` is remote myocardium: healthy LV wall far from the infarct, farther from
/// the border zone than 95 % of the LV's myocardium (the myocardium's centroid, used before,
/// can lie in the RV or beside the infarct).
#[test]
fn the_remote_site_is_lv_myocardium_far_from_the_border_zone() {
    let a = heart(2.0);
    let p = secretome::geometry::sites::remote_myocardium(&a).unwrap();
    let g = &a.grid;
    let at = (0..g.voxel_count())
        .min_by(|&i, &j| {
            let d = |v: usize| {
                let [x, y, z] = g.coords(v);
                let c = g.centre(x, y, z);
                (0..3).map(|k| (c[k] - p[k]).powi(2)).sum::<f64>()
            };
            d(i).total_cmp(&d(j))
        })
        .unwrap();
    assert!(a.lv_myocardium[at] && g.labels[at] == TissueLabel::Myocardium);
    let injured: Vec<bool> = g
        .labels
        .iter()
        .map(|l| matches!(l, TissueLabel::BorderZone | TissueLabel::Infarct))
        .collect();
    let dist = secretome::geometry::distance::distance_to(&injured, g.dims, g.spacing);
    let mut lv: Vec<f64> = (0..g.voxel_count())
        .filter(|&i| a.lv_myocardium[i] && g.labels[i] == TissueLabel::Myocardium)
        .map(|i| dist[i])
        .collect();
    lv.sort_by(f64::total_cmp);
    let p95 = lv[lv.len() * 95 / 100];
    eprintln!(
        "remote site {:?}: {:.1} mm from the border zone (LV myocardium 95th percentile {p95:.1} mm, depth {:.2}, segment {})",
        p, dist[at], a.depth[at], a.aha_segment[at]
    );
    assert!(dist[at] >= p95, "{} mm from the border zone", dist[at]);
    assert!(dist[at] >= 30.0, "{} mm from the border zone", dist[at]);
    // Through a scenario (the paracrine_remote preset's site): every voxel of the depot is LV
    // myocardium at least 30 mm from the border zone.
    let text = r#"
[grid]
spacing = "2 mm"
[[depot]]
route = "intramyocardial"
cells = "2e7"
site = "remote"
"#;
    let table = SpeciesTable::default_table().unwrap();
    let sc =
        secretome::scenario::Scenario::parse(text, "r.toml", std::path::Path::new("."), &table)
            .unwrap();
    let built = secretome::problem::build::build(&sc).unwrap();
    let ba = built.anatomy.as_ref().unwrap();
    assert_eq!(ba.grid.labels, g.labels);
    for &(v, _) in &built.problem.depots[0].voxels {
        assert!(
            a.lv_myocardium[v],
            "depot voxel {:?} outside the LV",
            g.coords(v)
        );
        assert!(
            dist[v] >= 30.0,
            "depot voxel {:?} {} mm from the border zone",
            g.coords(v),
            dist[v]
        );
    }
}
