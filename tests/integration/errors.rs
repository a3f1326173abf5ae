//! What the binary says when it cannot go on: one line, `error: ` and a sentence that names
//! the file, key and value and what was expected, each thing said once. The whole of stderr is
//! compared, run as on a fresh server (no XDG_RUNTIME_DIR), where nothing else may print into
//! it. And a run that would take years says so at its start.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary as a fresh server runs it: no XDG_RUNTIME_DIR.
fn secretome() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_secretome"));
    c.env_remove("XDG_RUNTIME_DIR");
    c
}

/// Runs the binary: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = secretome().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("secretome-errors-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The adapter line the binary prints before a run (this machine's GPU).
fn adapter_line() -> String {
    let (code, stdout, err) = run(&["info"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "", "info printed into stderr");
    stdout
        .lines()
        .find(|l| l.starts_with("adapter: "))
        .expect("an adapter line")
        .to_string()
}

/// A bad value in a scenario: its file, line, column, key, value and what was expected, once
/// (the input error is not repeated as its own cause).
#[test]
fn a_bad_scenario_value_is_said_once() {
    let dir = fresh_dir("spacing");
    let file = dir.join("bad.toml");
    std::fs::write(&file, "[grid]\nspacing = \"-1 mm\"\n").unwrap();
    let f = file.to_str().unwrap();
    let (code, stdout, err) = run(&["run", f, "--out", dir.join("out").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert_eq!(
        err,
        format!(
            "error: {f}:2:11: grid.spacing: expected a voxel spacing 0 < h ≤ 10 mm, got -1 mm\n"
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A depot whose site lies outside the grid: located at its `site` key, in one sentence (not
/// "expected invalid problem: … lies in outside the grid").
#[test]
fn a_depot_outside_the_grid_is_one_sentence() {
    let dir = fresh_dir("depot");
    let file = dir.join("outside.toml");
    std::fs::write(
        &file,
        r#"[scenario]
name = "outside"
[grid]
spacing = "2 mm"
[geometry]
kind = "box"
size = [8, 8, 8]
[time]
duration = "1 h"
dt = "300 s"
[[depot]]
name = "cells"
route = "intramyocardial"
cells = 1e6
site = [50, 4, 4]
"#,
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let (code, stdout, err) = run(&["run", f, "--out", o]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(stdout, "");
    assert_eq!(
        err,
        format!(
            "{}\nscenario: outside ({f}), 1 h at dt = 300 s, 2 mm voxels → {o}\n\
             error: {f}:15:8: depot[0].site: cells: centre (50.0, 4.0, 4.0) mm lies outside the grid; expected a point in myocardium, border zone or infarct\n",
            adapter_line()
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Command-line mistakes: clap's first line and where to look; our own checks of values.
#[test]
fn bad_arguments_get_one_line() {
    let (code, stdout, err) = run(&["run", "--bogus"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        err,
        "error: unexpected argument '--bogus' found (see `secretome --help`)\n"
    );
    let (code, stdout, err) = run(&["bench", "--rounds", "0"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert_eq!(err, "error: --rounds 0: expected 1 to 1000 rounds\n");
    let (code, _, err) = run(&["run", "--hours", "-1"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: --hours -1: expected a positive duration in hours\n"
    );
}

/// A scenario or sweep file that is not there: its path and the system's reason.
#[test]
fn a_missing_file_is_named() {
    let (code, stdout, err) = run(&["run", "/nonexistent/s.toml"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert_eq!(
        err,
        "error: /nonexistent/s.toml: No such file or directory (os error 2)\n"
    );
    let (code, _, err) = run(&["sweep", "/nonexistent/sweep.toml"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: /nonexistent/sweep.toml: No such file or directory (os error 2)\n"
    );
}

/// `info` and a short run print nothing into stderr but their own lines.
#[test]
fn commands_print_only_their_own_lines() {
    let (code, stdout, err) = run(&["info"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
    assert!(stdout.starts_with("adapter: "), "{stdout}");
    let (code, stdout, err) = run(&["bench", "--sizes", "8", "--seconds", "0.01", "--no-cpu"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
    assert!(stdout.starts_with("adapter: "), "{stdout}");
}

/// A run of 10⁹ hours says how long it will take soon after it starts, and does not first try
/// to list its 10⁹ output times. The child is killed once it has said so.
#[test]
fn a_run_of_years_says_its_wall_time_at_the_start() {
    let dir = fresh_dir("years");
    let out = dir.join("out");
    let mut child = secretome()
        .args([
            "run",
            "--hours",
            "1e9",
            "--spacing",
            "4",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut seen = Vec::new();
    let found = loop {
        let left = Duration::from_secs(300).saturating_sub(start.elapsed());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with("estimated wall time: ") => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let line = found.unwrap_or_else(|| panic!("no estimate; stderr: {seen:?}"));
    assert!(
        seen.iter()
            .any(|l| l.starts_with("scenario: intramyocardial"))
            && !seen.iter().any(|l| l.starts_with("error")),
        "{seen:?}"
    );
    // estimated wall time: <hours> h (<span>): 6.00e10 steps to go at <rate> steps/s
    // (10⁹ h at the preset's dt = 60 s), the hours those steps take at that rate.
    let rest = line.trim_start_matches("estimated wall time: ");
    let (hours, rest) = rest.split_once(" h (").expect("hours");
    let (span, rest) = rest.split_once("): ").expect("a span");
    let rate = rest
        .strip_prefix("6.00e10 steps to go at ")
        .and_then(|r| r.strip_suffix(" steps/s"))
        .unwrap_or_else(|| panic!("{line}"));
    let (hours, rate): (f64, f64) = (hours.parse().unwrap(), rate.parse().unwrap());
    let want = 6.0e10 / rate / 3600.0;
    assert!((hours / want - 1.0).abs() < 0.02, "{line}: {want} h");
    let unit = span.split_whitespace().nth(1).unwrap_or("");
    assert!(["h", "days", "years"].contains(&unit), "{line}");
}
