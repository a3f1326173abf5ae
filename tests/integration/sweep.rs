#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `secretome sweep`: one row per member with its parameters and key readouts; members run
//! one at a time with `--member K` (as a scheduler's array job would) give the same rows; bad
//! sweep files get one line.

use std::path::{Path, PathBuf};

use crate::common::secretome;

const BASE: &str = r#"
[scenario]
name = "sweep base"
[grid]
spacing = "2 mm"
[geometry]
kind = "box"
size = [12, 12, 16]
blood_pool = true
[time]
duration = "2 h"
output_interval = "1 h"
dt = "300 s"
[[depot]]
name = "cells"
route = "intramyocardial"
cells = 1e6
site = [6, 6, 8]
"#;

fn setup(name: &str, vary: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("secretome-sweep-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("base.toml"), BASE).unwrap();
    let sweep = dir.join("sweep.toml");
    std::fs::write(&sweep, format!("base = \"base.toml\"\n[vary]\n{vary}")).unwrap();
    (dir, sweep)
}

fn csv(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

#[test]
fn a_sweep_gives_one_row_per_member_and_members_run_alone_agree() {
    let (dir, sweep) = setup(
        "rows",
        "\"depot[0].cells\" = [\"1e5\", \"1e6\"]\n\"time.dt\" = [\"120 s\", \"300 s\"]\n",
    );
    let s = sweep.to_str().unwrap();
    let all = dir.join("all");
    let (code, out, err) = secretome(&["sweep", s, "--out", all.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("4 of 4 members"), "{out}");
    let rows = csv(&all.join("sweep.csv"));
    assert_eq!(rows.len(), 5, "header and 4 rows");
    let h = &rows[0];
    let col = |name: &str| {
        h.iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no {name} in {h:?}"))
    };
    // The first key varies slowest; the values are as written.
    let (cells, dt) = (col("depot[0].cells"), col("time.dt"));
    let params: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[cells].as_str(), r[dt].as_str()))
        .collect();
    assert_eq!(
        params,
        [
            ("1e5", "120 s"),
            ("1e5", "300 s"),
            ("1e6", "120 s"),
            ("1e6", "300 s")
        ]
    );
    // Key readouts: ten times the cells give ten times the myocardial VEGF exposure (linear
    // kinetics away from saturation: within 5 %), and every ledger closes.
    let auc = col("myocardium:VEGF:auc");
    let a: Vec<f64> = rows[1..].iter().map(|r| r[auc].parse().unwrap()).collect();
    let ratio = a[2] / a[0];
    assert!((ratio - 10.0).abs() < 0.5, "AUC ratio {ratio}");
    let closure = col("ledger_closure_error");
    for r in &rows[1..] {
        assert!(r[closure].parse::<f64>().unwrap().abs() <= 1e-4);
    }
    // Each member alone, as array jobs would, then --collect: the same rows.
    let split = dir.join("split");
    let o = split.to_str().unwrap();
    for k in [3, 1, 0, 2] {
        let (code, _, err) = secretome(&["sweep", s, "--out", o, "--member", &k.to_string()]);
        assert_eq!(code, 0, "member {k}: {err}");
    }
    let (code, out, err) = secretome(&["sweep", s, "--out", o, "--collect"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("4 of 4"), "{out}");
    assert_eq!(csv(&split.join("sweep.csv")), rows);
}

#[test]
fn bad_sweeps_get_one_line() {
    for (vary, needle) in [
        ("\"depot[3].cells\" = [\"1e5\"]\n", "has 1 [[depot]] tables"),
        ("\"time.dt\" = []\n", "at least one value"),
        ("\"time.dt\" = \"60 s\"\n", "expected a list of values"),
        ("\"time.tick\" = [\"60 s\"]\n", "tick"),
        ("\"depot[0].cells\" = [\"-5\"]\n", "cells"),
    ] {
        let (dir, sweep) = setup("bad", vary);
        let (code, _, err) = secretome(&[
            "sweep",
            sweep.to_str().unwrap(),
            "--out",
            dir.join("o").to_str().unwrap(),
        ]);
        assert_ne!(code, 0, "{vary}");
        assert!(!err.contains("panicked"), "{err}");
        let line = err.lines().find(|l| l.starts_with("error")).unwrap_or("");
        assert!(line.contains(needle), "{vary}: {err}");
    }
    let (dir, sweep) = setup("member", "\"time.dt\" = [\"60 s\", \"120 s\"]\n");
    let (code, _, err) = secretome(&[
        "sweep",
        sweep.to_str().unwrap(),
        "--out",
        dir.join("o").to_str().unwrap(),
        "--member",
        "2",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("--member 2: the sweep has 2 members"), "{err}");
}

/// The shipped example sweep loads: 12 members, every one a valid scenario with its values set.
#[test]
fn the_example_sweep_has_twelve_valid_members() {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/sweeps/dose_timing.toml"
    ));
    let sw = secretome::batch::sweep::Sweep::load(path).unwrap();
    assert_eq!(sw.members(), 12);
    let last = sw.member(11).unwrap();
    assert_eq!(last.depots[0].start_s, 24.0 * 3600.0);
    let values: Vec<String> = sw.values(11).iter().map(|(_, v)| v.to_string()).collect();
    assert_eq!(values, ["\"5e7\"", "\"24 h\"", "\"90 min\""]);
    let vegf = last
        .species_overrides
        .iter()
        .find(|o| o.species == "VEGF" && o.parameter == "tissue_half_life")
        .unwrap();
    assert!(
        (vegf.value - 90.0 * 60.0).abs() < 1e-9 || (vegf.value - 90.0).abs() < 1e-9,
        "{vegf:?}"
    );
}
