//! The binary: the default run works, and bad input gets one clear line and a non-zero exit,
//! never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::secretome;

use std::process::Command;

fn error_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or("")
}

#[test]
fn bench_reports_the_median_of_its_rounds_within_their_range() {
    let (code, stdout, err) = secretome(&[
        "bench",
        "--sizes",
        "16",
        "--seconds",
        "0.05",
        "--rounds",
        "3",
        "--no-cpu",
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("the median of 3 rounds"), "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("16³"))
        .expect("a 16³ row");
    // "... <median> M <steps/s> ... <max error> (rounds <lo>–<hi> M)"
    let cols: Vec<&str> = row.split_whitespace().collect();
    let median: f64 = cols[3].parse().unwrap();
    let (lo, hi) = row
        .split("(rounds ")
        .nth(1)
        .and_then(|r| r.trim_end_matches(" M)").split_once('–'))
        .expect("a range of rounds");
    let (lo, hi): (f64, f64) = (lo.parse().unwrap(), hi.parse().unwrap());
    assert!(
        lo > 0.0 && lo <= median && median <= hi,
        "median {median} outside its rounds {lo}–{hi}: {row}"
    );
    // P1's error after an hour at dt = 600 s on 16³ (first order in time; 1.0e-2 measured).
    let error: f64 = cols[cols.len() - 4].parse().unwrap();
    assert!(error < 2e-2, "P1 error {error}: {row}");
}

#[test]
fn default_run_writes_its_outputs_and_a_closed_ledger() {
    // The default scenario (intramyocardial preset) on the default heart, coarsened to keep
    // the test quick.
    let out = std::env::temp_dir().join(format!("secretome-cli-default-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let (code, stdout, err) = secretome(&[
        "run",
        "--spacing",
        "4",
        "--hours",
        "2",
        "--dt",
        "300",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(
        err.contains("adapter:") && stdout.contains("mass ledger"),
        "{stdout}{err}"
    );
    for f in [
        "fields.pvd",
        "stats.csv",
        "summary.json",
        "exposure.vti",
        "run.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    // The bullseye of the heart: one 300 × 330 panel per species, not blank.
    let (w, h) = secretome::output::report::BULLSEYE_PANEL;
    crate::common::assert_picture(&out.join("report/bullseye_auc.png"), (4 * w, h));
    crate::common::assert_picture(&out.join("report/bullseye_occupancy.png"), (4 * w, h));
    crate::common::assert_picture(
        &out.join("report/plasma.png"),
        secretome::output::report::PLASMA_SIZE,
    );
    // Every species' closure (last column) is below 1e-4.
    let ledger = stdout.split("mass ledger").nth(1).unwrap();
    let rows: Vec<&str> = ledger
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("  "))
        .collect();
    assert_eq!(rows.len(), 4, "{stdout}");
    for r in rows {
        let closure: f64 = r.split_whitespace().last().unwrap().parse().unwrap();
        assert!(closure.abs() < 1e-4, "{r}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_arguments_get_one_line() {
    for (args, needle) in [
        (vec!["run", "--dt", "-5"], "--dt"),
        (vec!["run", "--hours", "0"], "--hours"),
        (vec!["run", "--spacing", "0"], "--spacing"),
        (
            vec!["run", "/nonexistent/scenario.toml"],
            "/nonexistent/scenario.toml",
        ),
        (vec!["bench", "--seconds", "-1"], "--seconds"),
        (vec!["bench", "--groups", "0"], "--groups 0"),
        (vec!["bench", "--rounds", "0"], "--rounds 0"),
        (vec!["bench", "--heart", "0"], "--heart 0"),
        (vec!["bench", "--dry"], "--heart"),
        (vec!["run", "--dt", "fast"], "--dt"),
        (vec!["view", "--size", "big"], "--size"),
        (vec!["view", "--frames", "0"], "--frames"),
        (vec!["view", "--species", "XYZ"], "--species XYZ"),
        (vec!["view", "--screenshot", "shot.jpg"], "shot.jpg"),
        (vec!["view", "--bench", "--screenshot", "a.png"], "--bench"),
        (
            vec!["view", "/nonexistent/scenario.toml"],
            "/nonexistent/scenario.toml",
        ),
    ]
    .into_iter()
    .filter(|(args, _)| cfg!(feature = "viewer") || args[0] != "view")
    {
        let (code, _, err) = secretome(&args);
        assert_ne!(code, 0, "{args:?} succeeded");
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
        let line = error_line(&err);
        assert!(line.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn a_missing_gpu_is_one_line_saying_what_to_install() {
    // No DX12 on Linux (and no Metal): no adapter can be found.
    let backend = if cfg!(windows) { "metal" } else { "dx12" };
    let out = Command::new(env!("CARGO_BIN_EXE_secretome"))
        .arg("info")
        .env("WGPU_BACKEND", backend)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    let line = error_line(&err);
    assert!(
        line.contains("no GPU adapter found") && line.contains("mesa-vulkan-drivers"),
        "{err}"
    );
}

#[test]
fn an_unknown_adapter_name_lists_the_available_ones() {
    let out = Command::new(env!("CARGO_BIN_EXE_secretome"))
        .arg("info")
        .env("WGPU_ADAPTER_NAME", "no-such-gpu-9000")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        error_line(&err).contains("no-such-gpu-9000") && error_line(&err).contains("available"),
        "{err}"
    );
}

/// `secretome geometry` prints the heart's table and writes a .vti that starts as VTK XML.
#[test]
fn geometry_prints_the_heart_and_writes_vti() {
    let dir = std::env::temp_dir().join(format!("secretome-geo-{}", std::process::id()));
    let (code, out, err) =
        secretome(&["geometry", "--voxel", "1.5", "--out", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    for want in [
        "LV cavity",
        "LV myocardium",
        "RV cavity",
        "base–apex length",
        "apical septal",
        "LAD territory",
        "infarct:",
        "anterior RV insertion",
    ] {
        assert!(out.contains(want), "missing '{want}' in:\n{out}");
    }
    let vti = std::fs::read(dir.join("heart.vti")).unwrap();
    let head = String::from_utf8_lossy(&vti[..200]);
    assert!(head.contains("<VTKFile type=\"ImageData\""), "{head}");
    for name in ["label", "aha_segment", "depth"] {
        assert!(
            String::from_utf8_lossy(&vti).contains(&format!("Name=\"{name}\"")),
            "array {name} missing"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_geometry_input_gets_one_line() {
    let garbage =
        std::env::temp_dir().join(format!("secretome-garbage-{}.stl", std::process::id()));
    std::fs::write(&garbage, b"\x00\x01\x02 not a mesh").unwrap();
    let g = garbage.to_str().unwrap();
    for (args, want) in [
        (
            vec!["geometry", "--voxel", "-1"],
            "expected a positive length",
        ),
        (
            vec!["geometry", "/nonexistent/heart.obj"],
            "/nonexistent/heart.obj",
        ),
        (vec!["geometry", g], g),
        (vec!["geometry", "--infarct", "18"], "1–17"),
        (vec!["geometry", "--infarct", "LAx"], "LAD, RCA, LCx"),
        (vec!["geometry", "--transmural", "1.5"], "0 < f ≤ 1"),
        (vec!["geometry", "--base-point", "0,0,0"], "both or neither"),
        (
            vec!["geometry", "--export-mesh", "/tmp/x.ply"],
            ".obj or .stl",
        ),
    ] {
        let (code, out, err) = secretome(&args);
        assert_ne!(code, 0, "{args:?} should fail:\n{out}");
        let line = error_line(&err);
        assert!(line.contains(want), "{args:?}: expected '{want}' in: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
    std::fs::remove_file(&garbage).ok();
}

#[cfg(feature = "viewer")]
#[test]
fn the_viewer_without_a_display_says_so_in_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_secretome"))
        .arg("view")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!err.contains("panicked"), "{err}");
    let line = error_line(&err);
    assert!(
        line.contains("DISPLAY") && line.contains("xvfb-run"),
        "{err}"
    );
}

/// `view --bench` drives the window's frame loop with no display at all and reports it: the
/// frames asked for, the grid, and steps taken at the speed asked for (0.5 h/s at dt = 60 s
/// is at most 30 steps per wall second).
#[cfg(feature = "viewer")]
#[test]
fn the_viewer_frame_loop_runs_without_a_display() {
    let out = Command::new(env!("CARGO_BIN_EXE_secretome"))
        // 10 simulated h per s (600 steps/s at dt = 60 s), so that even 5 frames of a fast
        // GPU (a few ms) hold a step, while no frame runs ahead of that pace.
        .args([
            "view",
            "--bench",
            "--frames",
            "5",
            "--spacing",
            "3",
            "--speed",
            "10",
        ])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        text.contains("voxels at 3 mm") && text.contains("5 frames in"),
        "{text}"
    );
    let figure = |label: &str| -> f64 {
        let before = text.split(label).next().unwrap();
        before.split_whitespace().last().unwrap().parse().unwrap()
    };
    let (steps, wall) = (figure(" steps,"), figure(" s:"));
    assert!(steps >= 1.0 && steps <= 600.0 * wall + 2.0, "{text}");
}

#[cfg(not(feature = "viewer"))]
#[test]
fn a_build_without_the_viewer_says_so_in_one_line() {
    let (code, _, err) = secretome(&["view", "--frames", "3"]);
    assert_ne!(code, 0);
    assert_eq!(
        err.trim_end(),
        "error: this secretome was built without the viewer: build it with the default features (the `viewer` feature)"
    );
}

#[test]
fn the_heart_benchmark_dry_run_prints_the_grid_and_its_memory() {
    let (code, out, err) = secretome(&["bench", "--heart", "4", "--dry"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("4 mm"))
        .unwrap_or_else(|| panic!("no 4 mm row: {out}"));
    // The same grid as the preset's problem built here.
    let built = secretome::bench::heart_problem(4.0).unwrap();
    let g = secretome::bench::HeartGrid::of(4.0, &built.problem);
    assert!(g.tissue_voxels > 0 && g.tissue_voxels < g.box_voxels);
    // The brick grid stores the tissue voxels and a table of the bricks holding them.
    assert_eq!(
        g.grid_bytes,
        g.tissue_voxels as u64 * secretome::sim::grid_bytes_per_voxel(&built.problem)
            + g.bricks as u64 * secretome::sim::BRICK_BYTES
    );
    assert!(g.bricks > 0 && g.bricks * 64 >= g.tissue_voxels);
    for n in [g.box_voxels, g.tissue_voxels] {
        assert!(row.contains(&format!(" {n} ")), "{n} not in {row}");
    }
}
