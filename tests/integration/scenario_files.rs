//! Scenario files: every preset loads and resolves, values come out in internal units with
//! every default filled in, and each kind of bad input gets one line naming the file, line,
//! key path and what was expected — never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::f64::consts::LN_2;
use std::path::{Path, PathBuf};

use secretome::geometry::{HeartParams, InfarctSpec, Territory};
use secretome::scenario::{
    ColourScale, DepotShape, GeometrySpec, Route, Scenario, Site, TermSwitches, ViewCamera,
    ViewCut, ViewPoint,
};
use secretome::SpeciesTable;

fn presets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios")
}

fn table() -> SpeciesTable {
    SpeciesTable::default_table().unwrap()
}

pub(crate) fn parse(text: &str) -> Result<Scenario, String> {
    Scenario::parse(text, "test.toml", &presets_dir(), &table()).map_err(|e| e.to_string())
}

fn close(a: f64, b: f64) -> bool {
    a == b || ((a - b) / b).abs() < 1e-12
}

fn get(list: &[(String, f64)], id: &str) -> f64 {
    list.iter().find(|(s, _)| s == id).unwrap().1
}

#[test]
fn every_preset_loads_and_resolves() {
    let mut names: Vec<String> = std::fs::read_dir(presets_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for wanted in [
        "intramyocardial",
        "transendocardial",
        "intracoronary",
        "intravenous",
        "intramuscular",
        "subcutaneous",
        "bolus",
        "autocrine_on",
        "autocrine_off",
        "paracrine_border_zone",
        "paracrine_remote",
        "endocrine_iv",
    ] {
        assert!(names.iter().any(|n| n == wanted), "missing preset {wanted}");
    }
    let readme = std::fs::read_to_string(presets_dir().join("README.md")).unwrap();
    for name in &names {
        let path = presets_dir().join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# "),
            "{name}: starts with a comment header"
        );
        assert!(
            readme.contains(&format!("`{name}.toml`")),
            "{name} in README"
        );
        let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&s.name, name);
        let sentences = s.description.matches(". ").count() + 1;
        assert!(
            (2..=3).contains(&sentences) && s.description.ends_with('.'),
            "{name}: a 2–3 sentence description: {}",
            s.description
        );
        assert!(!s.depots.is_empty(), "{name} has a depot");
        assert!(s.duration_s >= s.output_interval_s && s.output_interval_s >= s.dt_s);
        assert!(s.duration_s <= 7.0 * 86400.0, "{name}: a short-ish run");
        assert!(!s.infarcts.is_empty(), "{name} has an infarct");
        for d in &s.depots {
            assert!((0.0..=1.0).contains(&d.retained));
            assert!(d.cells > 0.0 || matches!(d.route, Route::Bolus { .. }));
        }
        // Every key line carries a comment.
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            let in_string = l.ends_with('\\') || l.ends_with("\"\"\"") || !l.contains('=');
            if !l.starts_with('#') && !l.starts_with('[') && !in_string && !l.is_empty() {
                assert!(
                    l.contains('#') || l.starts_with("description"),
                    "{name}:{}: key without a comment: {l}",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn presets_hold_their_clinical_doses() {
    let load = |n: &str| Scenario::load(&presets_dir().join(format!("{n}.toml"))).unwrap();
    let im = load("intramyocardial");
    assert_eq!(im.depots[0].cells, 2e7);
    assert!(matches!(
        im.depots[0].route,
        Route::Intramyocardial {
            site: Site::BorderZone,
            ..
        }
    ));
    assert!(close(im.depots[0].cells_in_heart(), 3e6));

    let te = load("transendocardial");
    assert_eq!(te.depots[0].cells, 1e8);
    match &te.depots[0].route {
        Route::Transendocardial {
            injections,
            segments,
            depth_mm,
        } => {
            assert_eq!(*injections, 10);
            assert_eq!(segments, &vec![7, 8, 13, 14]);
            assert_eq!(*depth_mm, 3.0);
        }
        r => panic!("{r:?}"),
    }
    let ic = load("intracoronary");
    assert_eq!(ic.depots[0].cells, 5e7);
    assert_eq!(ic.depots[0].retained, 0.08);
    assert!(matches!(
        ic.depots[0].route,
        Route::Intracoronary {
            territory: Territory::Lad
        }
    ));
    let iv = load("intravenous");
    assert_eq!(iv.depots[0].cells, 1e8);
    assert_eq!(iv.depots[0].retained, 0.002);
    let endo = load("endocrine_iv");
    match endo.depots[0].route {
        Route::Intravenous {
            lung_fraction,
            heart_fraction,
            lung_k_death_per_s,
            lung_k_abs_per_s,
            lung_bioavailability,
        } => {
            assert_eq!((lung_fraction, heart_fraction), (0.8, 0.0));
            assert!(close(lung_k_death_per_s, LN_2 / 86400.0));
            assert!(close(lung_k_abs_per_s, LN_2 / 600.0));
            assert_eq!(lung_bioavailability, 0.9);
        }
        ref r => panic!("{r:?}"),
    }
    assert_eq!(endo.depots[0].cells_in_heart(), 0.0);
    assert_eq!(endo.readouts.species[0], "TSG6");
    let sc = load("subcutaneous");
    assert!(
        matches!(sc.depots[0].route, Route::Subcutaneous { k_abs_per_s, .. }
        if close(k_abs_per_s, LN_2 / (3.0 * 3600.0)))
    );
    assert_eq!(sc.depots[0].cells_in_heart(), 0.0);
    let on = load("autocrine_on");
    let off = load("autocrine_off");
    assert!(on.autocrine.enabled && !off.autocrine.enabled);
    assert_eq!(
        on.depots, off.depots,
        "the autocrine pair differ only in the feedback"
    );
    let bz = load("paracrine_border_zone");
    let rm = load("paracrine_remote");
    assert_eq!(bz.depots[0].cells, rm.depots[0].cells);
    assert!(matches!(
        rm.depots[0].route,
        Route::Intramyocardial {
            site: Site::Remote,
            ..
        }
    ));
    let bolus = load("bolus");
    match &bolus.depots[0].route {
        Route::Bolus {
            amounts_ng,
            into_plasma,
            site,
        } => {
            assert!(!into_plasma && *site == Some(Site::BorderZone));
            assert_eq!(get(amounts_ng, "HGF"), 490.0);
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(bolus.depots[0].shape, DepotShape::Gaussian);
}

#[test]
fn an_empty_file_is_the_default_scenario() {
    let s = parse("").unwrap();
    assert_eq!(s.name, "test");
    assert_eq!(s.description, "");
    assert_eq!(s.grid_spacing_mm, 1.0);
    assert_eq!(
        s.geometry,
        GeometrySpec::DefaultHeart {
            params: HeartParams::default()
        }
    );
    assert_eq!(s.infarcts, vec![InfarctSpec::default_lad()]);
    assert_eq!(
        (s.duration_s, s.output_interval_s, s.dt_s),
        (86400.0, 3600.0, 60.0)
    );
    assert!(s.depots.is_empty() && s.species_overrides.is_empty());
    assert_eq!(s.plasma.volume_ml, 3000.0);
    assert_eq!(s.plasma.remote_depot_volume_ml, 10.0);
    assert!(s.plasma.initial_ng_ml.iter().all(|v| v.1 == 0.0));
    assert_eq!(s.plasma.initial_ng_ml.len(), 4);
    let a = &s.autocrine;
    assert!(a.enabled);
    assert!(close(a.k_death_heart_per_s, LN_2 / (3.0 * 86400.0)));
    assert_eq!((a.a_max, a.k_auto_ng_ml, a.hill), (0.5, 1.0, 1.0));
    assert_eq!(
        a.weights,
        vec![
            ("VEGF".to_string(), 0.5),
            ("HGF".to_string(), 0.5),
            ("SDF1a".to_string(), 0.0),
            ("TSG6".to_string(), 0.0)
        ]
    );
    assert_eq!(s.terms, TermSwitches::default());
    assert_eq!(s.readouts.species, ["VEGF", "HGF", "SDF1a", "TSG6"]);
    assert_eq!(get(&s.readouts.ec50_ng_ml, "TSG6"), 10.0);
    assert_eq!(s.steps(), 1440);
}

#[test]
fn lengths_with_or_without_units_agree() {
    for radius in ["\"3 mm\"", "3", "3.0", "\"0.3 cm\"", "\"3000 um\""] {
        let s = parse(&format!(
            "[[depot]]\nroute = \"intramyocardial\"\ncells = 1e6\nradius = {radius}\n"
        ))
        .unwrap();
        assert!(close(s.depots[0].radius_mm, 3.0), "{radius}");
    }
    for cells in [
        "\"2e7\"",
        "2e7",
        "20000000",
        "\"2e7 cells\"",
        "\"20e6 cells\"",
    ] {
        let s = parse(&format!(
            "[[depot]]\nroute = \"intramyocardial\"\ncells = {cells}\n"
        ))
        .unwrap();
        assert!(close(s.depots[0].cells, 2e7), "{cells}");
    }
    // Times: bare numbers are hours, except dt (seconds).
    let s = parse("[time]\nduration = 36\noutput_interval = \"90 min\"\ndt = 30\n").unwrap();
    assert_eq!(
        (s.duration_s, s.output_interval_s, s.dt_s),
        (129600.0, 5400.0, 30.0)
    );
}

const FULL: &str = r#"
[scenario]
name = "full"
description = "Every table, every kind of value."

[grid]
spacing = "0.5 mm"

[geometry]
kind = "default_heart"
[geometry.heart]
lv_wall = "1.1 cm"
rv_wall = 3

[[infarct]]
territory = "RCA"
transmural = "50 %"
border_zone = "3 mm"

[[infarct]]
segments = [7, 13]

[time]
duration = "2 d"
output_interval = "30 min"
dt = 30

[species.VEGF]
secretion = "1.2 ng/1e6 cells/day"
[species.HGF]
tissue_half_life = 45
[species.SDF1a]
diffusion = { value = "6000 um^2/min", source = "test source" }

[[depot]]
name = "track"
route = "intramyocardial"
site = { segment = 9, depth = 0.25 }
track_to = [1, 2, "0.3 cm"]
track_depots = 4
cells = "3e7"
radius = "0.25 cm"
shape = "gaussian"
start = "90 min"
secretion_scale = 2

[[depot]]
route = "subcutaneous"
cells = 1e8
absorption_half_life = 2

[[depot]]
route = "intravenous"
cells = "1e8"
lung_k_death = "0.5 1/d"
heart_fraction = "1 %"

[[depot]]
route = "bolus"
into_plasma = true
amounts = { HGF = "1 ug" }

[[depot]]
route = "transendocardial"
cells = 2e7

[plasma]
volume = "2.5 L"
initial = { TSG6 = "2 ng/mL" }
remote_depot_volume = "5 mL"

[autocrine]
enabled = true
death_half_life = "2 d"
a_max = 0.25
k_auto = "500 pg/mL"
hill = 2
weights = { HGF = 0.8 }

[terms]
uptake = false

[readouts]
species = ["HGF", "VEGF"]
ec50 = { HGF = "5 ng/mL" }
"#;

#[test]
fn a_full_scenario_resolves_to_internal_units() {
    let s = parse(FULL).unwrap();
    assert_eq!(s.name, "full");
    assert_eq!(s.source, "test.toml");
    assert_eq!(s.description, "Every table, every kind of value.");
    assert_eq!(s.grid_spacing_mm, 0.5);
    let GeometrySpec::DefaultHeart { params } = &s.geometry else {
        panic!("{:?}", s.geometry)
    };
    assert!(close(params.lv_wall, 11.0));
    assert_eq!(params.rv_wall, 3.0);
    assert_eq!(
        params.lv_cavity_radius,
        HeartParams::default().lv_cavity_radius
    );
    assert_eq!(
        s.infarcts,
        vec![
            InfarctSpec::territory(Territory::Rca, 0.5, 3.0),
            InfarctSpec {
                segments: vec![7, 13],
                transmural: 0.7,
                border_zone_mm: 4.0
            }
        ]
    );
    assert_eq!(
        (s.duration_s, s.output_interval_s, s.dt_s),
        (172800.0, 1800.0, 30.0)
    );

    let o = &s.species_overrides;
    assert_eq!(
        o.len(),
        4,
        "three [species] overrides and one [readouts] EC50"
    );
    let find = |sp: &str, p: &str| {
        o.iter()
            .find(|x| x.species == sp && x.parameter == p)
            .unwrap()
    };
    assert!(close(find("VEGF", "secretion").value, 1.2 / 1e6 / 86400.0));
    assert_eq!(find("HGF", "tissue_half_life").value, 2700.0);
    let sdf = find("SDF1a", "diffusion");
    assert!(close(sdf.value, 1e-4));
    assert_eq!(sdf.source, "test source");
    assert_eq!(find("VEGF", "secretion").source, "scenario full");
    assert_eq!(find("HGF", "ec50").value, 5.0);

    let d = &s.depots;
    assert_eq!(d.len(), 5);
    assert_eq!(d[0].name, "track");
    assert_eq!(d[0].key, "depot[0]");
    assert_eq!(d[0].site_key, "depot[0].site");
    assert_eq!(d[4].site_key, "depot[4].segments");
    assert_eq!(
        d[0].route,
        Route::Intramyocardial {
            site: Site::Segment {
                segment: 9,
                depth: 0.25
            },
            track_to: Some([1.0, 2.0, 3.0]),
            track_depots: 4
        }
    );
    assert_eq!(d[0].cells, 3e7);
    assert_eq!(d[0].retained, 0.15);
    assert!(close(d[0].radius_mm, 2.5));
    assert_eq!(d[0].shape, DepotShape::Gaussian);
    assert_eq!(d[0].start_s, 5400.0);
    assert_eq!(d[0].secretion_scale, 2.0);

    assert_eq!(d[1].name, "depot 2");
    assert_eq!(d[1].retained, 1.0);
    assert_eq!(d[1].shape, DepotShape::Sphere);
    assert_eq!(d[1].radius_mm, 2.0);
    assert_eq!(
        d[1].route,
        Route::Subcutaneous {
            k_abs_per_s: LN_2 / 7200.0,
            bioavailability: 0.5
        }
    );
    assert_eq!(
        d[2].route,
        Route::Intravenous {
            lung_fraction: secretome::problem::route::IV_LUNG_FRACTION,
            heart_fraction: 0.01,
            lung_k_death_per_s: 0.5 / 86400.0,
            lung_k_abs_per_s: secretome::problem::route::K_ABS_LUNG,
            lung_bioavailability: secretome::problem::route::F_LUNG,
        }
    );
    assert_eq!(d[2].retained, 0.01);
    match &d[3].route {
        Route::Bolus {
            site,
            amounts_ng,
            into_plasma,
        } => {
            assert!(site.is_none() && *into_plasma);
            assert_eq!(get(amounts_ng, "HGF"), 1000.0);
            assert_eq!(get(amounts_ng, "VEGF"), 0.0);
            assert_eq!(amounts_ng.len(), 4);
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(d[3].cells, 0.0);
    // Transendocardial segments default to the infarcts' segments without the apical cap.
    assert_eq!(
        d[4].route,
        Route::Transendocardial {
            injections: 10,
            segments: vec![3, 4, 7, 9, 10, 13, 15],
            depth_mm: 3.0
        }
    );

    assert_eq!(s.plasma.volume_ml, 2500.0);
    assert_eq!(get(&s.plasma.initial_ng_ml, "TSG6"), 2.0);
    assert_eq!(get(&s.plasma.initial_ng_ml, "VEGF"), 0.0);
    assert_eq!(s.plasma.remote_depot_volume_ml, 5.0);
    let a = &s.autocrine;
    assert!(close(a.k_death_heart_per_s, LN_2 / 172800.0));
    assert_eq!((a.a_max, a.hill), (0.25, 2.0));
    assert!(close(a.k_auto_ng_ml, 0.5));
    assert_eq!(get(&a.weights, "HGF"), 0.8);
    assert_eq!(
        get(&a.weights, "VEGF"),
        0.0,
        "given weights replace the defaults"
    );
    assert!(!s.terms.uptake && s.terms.diffusion && s.terms.secretion);
    assert_eq!(s.readouts.species, ["HGF", "VEGF"]);
    assert_eq!(get(&s.readouts.ec50_ng_ml, "HGF"), 5.0);
    assert_eq!(get(&s.readouts.ec50_ng_ml, "VEGF"), 1.0);

    // Parsing again gives the same values (the resolved scenario is a pure function of the text).
    assert_eq!(parse(FULL).unwrap(), s);
}

#[test]
fn overrides_reach_the_species_table() {
    let s = parse(FULL).unwrap();
    let mut t = table();
    s.apply_species_overrides(&mut t).unwrap();
    let vegf = &t.species[t.index_of("VEGF").unwrap()];
    assert!(close(vegf.secretion.value, 1.2 / 1e6 / 86400.0));
    let hgf = &t.species[t.index_of("HGF").unwrap()];
    assert_eq!(hgf.tissue_half_life.value, 2700.0);
    assert_eq!(hgf.ec50.value, 5.0);
    let sdf = &t.species[t.index_of("SDF1a").unwrap()];
    assert_eq!(sdf.diffusion.source, "test source");
    // Untouched values stay.
    assert_eq!(vegf.tissue_half_life.value, 720.0);

    // A table without HGF cannot take an HGF override.
    let mut small = table();
    small.species.retain(|s| s.id != "HGF");
    let e = s
        .apply_species_overrides(&mut small)
        .unwrap_err()
        .to_string();
    assert!(e.contains("species.HGF") && e.contains("test.toml"), "{e}");
}

#[test]
fn a_caller_reports_a_bad_site_with_its_key_and_line() {
    let s = parse("[time]\nduration = 6\n\n[[depot]]\nroute = \"intramyocardial\"\ncells = 1e6\nsite = [500, 0, 0]\n").unwrap();
    let e = s
        .site_error(
            &s.depots[0],
            "a point in myocardium, border zone or infarct",
        )
        .to_string();
    assert_eq!(
        e,
        "test.toml:7:8: depot[0].site: expected a point in myocardium, border zone or infarct"
    );
}

#[test]
fn a_mesh_path_is_relative_to_the_scenario_file() {
    let s = parse("[geometry]\nkind = \"mesh\"\npath = \"../heart.obj\"\nlv_point = [0, 0, -40]\nbase_point = [0, 0, 0]\nbase_normal = [0, 0, 2]\n").unwrap();
    let GeometrySpec::Mesh { path, hints } = &s.geometry else {
        panic!("{:?}", s.geometry)
    };
    assert!(path.is_file());
    assert_eq!(hints.lv_point, Some([0.0, 0.0, -40.0]));
    let h = hints.anatomy_hints();
    assert_eq!(h.base_plane.unwrap().normal, [0.0, 0.0, 1.0]);
    assert_eq!(s.infarcts, vec![InfarctSpec::default_lad()]);
}

#[test]
fn a_box_has_no_infarct_and_point_sites() {
    let s = parse("[geometry]\nkind = \"box\"\nsize = [20, 20, \"3 cm\"]\nblood_pool = true\n\n[[depot]]\nroute = \"intramyocardial\"\ncells = 1e6\nsite = [10, 10, 10]\n").unwrap();
    assert_eq!(
        s.geometry,
        GeometrySpec::Box {
            size_mm: [20.0, 20.0, 30.0],
            blood_pool: true
        }
    );
    assert!(s.infarcts.is_empty());
    let s = parse("[geometry]\nno_infarct = true\n").unwrap();
    assert!(s.infarcts.is_empty());
}

#[test]
fn load_names_a_missing_file() {
    let e = Scenario::load(Path::new("no/such/scenario.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no/such/scenario.toml"), "{e}");
}

#[test]
fn the_resolved_scenario_is_serializable() {
    fn serializable<T: serde::Serialize>(_: &T) {}
    serializable(&parse(FULL).unwrap());
}

/// `[view]` resolves with every default filled in: the first reported species, no cut, the
/// first depot in the heart (else the centre) to cut through, the camera facing the cut, a
/// log scale from EC50/1000 to 10 × EC50; given values come through in ng/mL and mm.
#[test]
fn the_view_section_resolves_with_its_defaults() {
    let empty = parse("").unwrap().view;
    assert_eq!(empty.species, "VEGF");
    assert_eq!(empty.cut, ViewCut::None);
    assert_eq!(empty.through, ViewPoint::Centre, "no depot: the centre");
    assert_eq!(empty.camera, ViewCamera::Default);
    assert_eq!(empty.scale, ColourScale::Log);
    assert!(!empty.range_given);
    assert!(close(empty.range_ng_ml[0], 1e-3) && close(empty.range_ng_ml[1], 10.0));

    let depot = "[[depot]]\nroute = \"intramyocardial\"\ncells = 2e7\n";
    let cut = parse(&format!(
        "[readouts]\nspecies = [\"TSG6\", \"VEGF\"]\nec50 = {{ TSG6 = \"20 ng/mL\" }}\n\
         [view]\ncut = \"short_axis\"\n{depot}"
    ))
    .unwrap()
    .view;
    assert_eq!(cut.species, "TSG6", "the first reported species");
    assert_eq!(cut.through, ViewPoint::Depot);
    assert_eq!(
        cut.camera,
        ViewCamera::Base,
        "looking into the short-axis cut"
    );
    assert!(
        close(cut.range_ng_ml[0], 0.02) && close(cut.range_ng_ml[1], 200.0),
        "around the scenario's EC50: {:?}",
        cut.range_ng_ml
    );

    let full = parse(
        "[view]\nspecies = \"HGF\"\ncut = \"long_axis\"\nthrough = [\"1 cm\", 0, -20]\n\
         camera = \"lateral\"\nscale = \"linear\"\nrange = [0, \"5000 pg/mL\"]\n",
    )
    .unwrap()
    .view;
    assert_eq!(full.species, "HGF");
    assert_eq!(full.cut, ViewCut::LongAxis);
    assert_eq!(full.through, ViewPoint::Point([10.0, 0.0, -20.0]));
    assert_eq!(full.camera, ViewCamera::Lateral);
    assert_eq!(full.scale, ColourScale::Linear);
    assert!(full.range_given);
    assert_eq!(full.range_ng_ml, [0.0, 5.0]);
}

/// Every preset ends with a `[view]` (so that each lesson opens on its point) whose colour
/// range holds its species' EC50.
#[test]
fn every_preset_ends_with_its_view() {
    for e in std::fs::read_dir(presets_dir()).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let at = text
            .find("\n[view]")
            .unwrap_or_else(|| panic!("{}: no [view]", path.display()));
        assert!(
            !text[at + 1..].contains("\n["),
            "{}: [view] is the last table",
            path.display()
        );
        let s = Scenario::load(&path).unwrap();
        let ec50 = get(&s.readouts.ec50_ng_ml, &s.view.species);
        let [lo, hi] = s.view.range_ng_ml;
        assert!(
            lo < ec50 && ec50 < hi,
            "{}: EC50 {ec50} in [{lo}, {hi}]",
            path.display()
        );
    }
}

/// The view changes what the viewer shows, not the run: a preset with and without its
/// `[view]` has the same fingerprint (so `--resume` accepts a run whose view was edited).
#[test]
fn the_view_is_not_part_of_a_run() {
    let path = presets_dir().join("intramyocardial.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let with = Scenario::load(&path).unwrap();
    let at = text.find("\n[view]").unwrap();
    let without = Scenario::parse(
        &text[..at],
        &path.display().to_string(),
        &presets_dir(),
        &table(),
    )
    .unwrap();
    assert_ne!(with.view, without.view);
    assert_eq!(
        secretome::batch::scenario_hash(&with).unwrap(),
        secretome::batch::scenario_hash(&without).unwrap()
    );
}
