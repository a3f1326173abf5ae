//! `secretome converge`: the scenario at successively finer voxels, each level an ordinary run
//! whose summary.json the table reads; the change between the two finest levels decides the
//! exit status; finished levels are read again, not rerun; bad arguments get one line.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::secretome;

fn final_readouts(dir: &Path) -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["final_readouts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(f64::NAN)))
        .collect()
}

#[test]
fn converge_tabulates_the_levels_and_judges_the_finest_two() {
    let dir = std::env::temp_dir().join(format!("secretome-converge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_str().unwrap();
    let args = [
        "converge",
        "--spacings",
        "4,3,2",
        "--hours",
        "0.25",
        "--out",
        out,
    ];

    // A tolerance nothing meets: non-zero, one line naming the worst readout.
    let mut strict = args.to_vec();
    strict.extend(["--tolerance", "1e-9"]);
    let (code, stdout, stderr) = secretome(&strict);
    assert_ne!(code, 0, "{stderr}");
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: not converged: ")
            && last.contains("between 3 and 2 mm (largest: ")
            && last.contains("converge.csv"),
        "{last}"
    );
    assert!(stdout.contains("Richardson"), "{stdout}");

    // converge.csv: every headline readout (3 regions × 4 species × 4 readouts), its value per
    // level as the level's own summary.json has it, and the change between the finest two.
    let text = std::fs::read_to_string(dir.join("converge.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "readout,4mm,3mm,2mm,change,richardson,order"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 48);
    let levels: Vec<BTreeMap<String, f64>> = ["4mm", "3mm", "2mm"]
        .iter()
        .map(|l| final_readouts(&dir.join(l)))
        .collect();
    for r in &rows {
        for (k, level) in levels.iter().enumerate() {
            let v: f64 = r[1 + k].parse().unwrap();
            assert_eq!(v.to_bits(), level[r[0]].to_bits(), "{} at level {k}", r[0]);
        }
    }
    // The change of the largest TSG-6 concentration in the border zone: relative to the
    // larger of the two (far above its floor, 0.1 % of the EC50).
    let row = rows
        .iter()
        .find(|r| r[0] == "border_zone:TSG6:max")
        .unwrap();
    let (a, b): (f64, f64) = (row[2].parse().unwrap(), row[3].parse().unwrap());
    let change: f64 = row[4].parse().unwrap();
    assert!(a > 1.0 && b > 1.0, "{a} {b}");
    assert!(
        (change - (a - b).abs() / a.max(b)).abs() < 1e-12,
        "{change}"
    );

    // Again with a tolerance everything meets: the levels are read, not run again.
    let mut loose = args.to_vec();
    loose.extend(["--tolerance", "100"]);
    let (code, stdout, stderr) = secretome(&loose);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr.matches("finished earlier").count(), 3, "{stderr}");
    assert!(!stderr.contains("adapter:"), "no GPU needed: {stderr}");
    assert!(
        stdout.contains("converged: every headline readout within 10000 %"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn converge_refuses_bad_levels_in_one_line() {
    for (args, expect) in [
        (
            vec!["converge", "--spacings", "2,3"],
            "--spacings: 3 after 2: expected voxel edges getting finer",
        ),
        (
            vec!["converge", "--spacings", "2"],
            "--spacings: expected at least two voxel edges",
        ),
        (
            vec!["converge", "--spacings", "2,-1"],
            "--spacings: -1 is not a positive voxel edge in mm",
        ),
        (
            vec!["converge", "--tolerance", "0"],
            "--tolerance 0: expected a positive relative change",
        ),
    ] {
        let (code, _, err) = secretome(&args);
        assert_ne!(code, 0);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(expect), "{args:?}: {err}");
    }
}
