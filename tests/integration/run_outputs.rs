#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]
//! `secretome run`: what it writes (read back by an independent `.vti` parser, bit for bit),
//! that stats.csv and summary.json agree, that a killed or interrupted run resumed gives the
//! same results as an uninterrupted one, and that it refuses what it should.

use crate::common::secretome;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::common::gpu;
use crate::common::vti_reader::{read_array, read_vti};
use secretome::batch::{Outcome, RunOptions, Runner};
use secretome::scenario::Scenario;

/// A block of myocardium beside a blood pool with a depot of cells.
fn scenario_text(size_mm: usize, spacing_mm: f64, hours: f64, every_h: f64, dt_s: f64) -> String {
    format!(
        r#"
[scenario]
name = "box run"
[grid]
spacing = "{spacing_mm} mm"
[geometry]
kind = "box"
size = [{size_mm}, {size_mm}, {z}]
blood_pool = true
[time]
duration = "{hours} h"
output_interval = "{every_h} h"
dt = "{dt_s} s"
[species.HGF]
kd = {{ value = "2.5 ng/mL", source = "our binding assay" }}
[tissue.myocardium]
volume_fraction = 0.25
[[depot]]
name = "cells"
route = "intramyocardial"
cells = 1e6
site = [{c}, {c}, {c}]
[[depot]]
name = "later"
route = "intramyocardial"
cells = 5e5
site = [{c}, {q}, {c}]
start = "{start} h"
"#,
        z = size_mm + 4,
        c = size_mm / 2,
        q = size_mm / 4,
        start = hours / 3.0,
    )
}

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("secretome-run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_scenario(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn parse_csv(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(|v| v.parse::<f64>().unwrap()).collect())
        .collect();
    (header, rows)
}

/// Everything a run writes, checked against what the solver holds in memory.
#[test]
fn a_run_writes_fields_exposure_stats_and_summary() {
    let dir = fresh_dir("outputs");
    let text = scenario_text(12, 1.0, 3.0, 1.0, 120.0);
    let path = write_scenario(&dir, &text);
    let sc = Scenario::load(&path).unwrap();
    let out = dir.join("out");
    let opts = RunOptions {
        npy: true,
        ..Default::default()
    };
    let mut runner = Runner::new(gpu(), &sc, &out, opts).unwrap();
    let outcome = runner.run(&AtomicBool::new(false), &mut |_| {}).unwrap();
    let Outcome::Finished(summary) = outcome else {
        panic!("not finished")
    };
    let sim = runner.simulation();
    let p = &runner.built().problem;
    let n = p.grid.voxel_count();

    // fields.pvd lists t = 0, 1, 2, 3 h; the last file holds the fields in memory bit for bit.
    let pvd = std::fs::read_to_string(out.join("fields.pvd")).unwrap();
    for k in 0..4 {
        assert!(pvd.contains(&format!("fields/fields_{k:04}.vti")), "{pvd}");
    }
    let v = read_vti(&out.join("fields/fields_0003.vti"));
    let fields = sim.read_fields().unwrap();
    for (s, sp) in p.species.species.iter().enumerate() {
        let (ty, bits, _) = read_array(&v, &sp.id);
        assert_eq!(ty, "Float32");
        let want: Vec<u64> = fields[s * n..(s + 1) * n]
            .iter()
            .map(|x| x.to_bits() as u64)
            .collect();
        assert_eq!(bits, want, "{} differs from memory", sp.id);
    }
    // The .npy dump of the same output: NumPy's format 1.0, float32, shape (nz, ny, nx).
    let npy = std::fs::read(out.join("npy/HGF_0003.npy")).unwrap();
    assert_eq!(&npy[..8], b"\x93NUMPY\x01\x00");
    let hlen = u16::from_le_bytes([npy[8], npy[9]]) as usize;
    assert_eq!((10 + hlen) % 64, 0, "header padded to 64 bytes");
    let header = std::str::from_utf8(&npy[10..10 + hlen]).unwrap();
    let [nx, ny, nz] = p.grid.dims;
    assert!(
        header.contains("'descr': '<f4'")
            && header.contains("'fortran_order': False")
            && header.contains(&format!("'shape': ({nz}, {ny}, {nx})")),
        "{header}"
    );
    let hgf = p.species.index_of("HGF").unwrap();
    let data: Vec<u32> = npy[10 + hlen..]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let want: Vec<u32> = fields[hgf * n..(hgf + 1) * n]
        .iter()
        .map(|x| x.to_bits())
        .collect();
    assert_eq!(data, want);
    let (_, labels, _) = read_array(&v, "label");
    assert!(labels
        .iter()
        .zip(&p.grid.labels)
        .all(|(a, l)| *a == *l as u64));
    assert_eq!(v.image["Spacing"], "1 1 1");

    // exposure.vti: AUC in ng·h/mL and time above EC50 in h, as the solver holds them.
    let e = sim.exposure().unwrap();
    let ev = read_vti(&out.join("exposure.vti"));
    let (_, bits, _) = read_array(&ev, "VEGF_AUC");
    let want: Vec<u64> = e.auc[..n]
        .iter()
        .map(|x| (x / 3600.0).to_bits() as u64)
        .collect();
    assert_eq!(bits, want);
    assert!(e.auc[..n].iter().any(|&a| a > 0.0));
    let (_, bits, _) = read_array(&ev, "VEGF_occupancy_AUC");
    let want: Vec<u64> = e.occupancy[..n]
        .iter()
        .map(|x| (x / 3600.0).to_bits() as u64)
        .collect();
    assert_eq!(bits, want);

    // stats.csv: one row per output, a unit for every column, and the last row is the
    // summary's final readouts; the ledger closes.
    let (header, rows) = parse_csv(&out.join("stats.csv"));
    assert_eq!(rows.len(), 4);
    assert_eq!(summary.outputs, 4);
    let units = std::fs::read_to_string(out.join("stats_units.csv")).unwrap();
    assert_eq!(units.lines().count(), header.len() + 1);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let fin = json["final_readouts"].as_object().unwrap();
    assert_eq!(fin.len(), header.len());
    for (h, v) in header.iter().zip(rows.last().unwrap()) {
        let j = fin[h].as_f64().unwrap();
        assert!(
            (j - v).abs() <= 1e-12 * v.abs().max(1e-300),
            "{h}: csv {v} vs summary {j}"
        );
    }
    let closure = json["ledger_closure_error"].as_f64().unwrap();
    assert!(closure <= 1e-4, "closure {closure}");
    // Fold over the endogenous baseline = (baseline + mean)/baseline, in tissue and plasma;
    // occupancy in 0..1.
    let col = |name: &str| {
        let i = header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"));
        rows.last().unwrap()[i]
    };
    let table = secretome::SpeciesTable::default_table().unwrap();
    for sp in &table.species {
        let id = &sp.id;
        let b = sp.baseline_tissue.value;
        let mean = col(&format!("myocardium:{id}:mean"));
        let fold = col(&format!("myocardium:{id}:fold_over_baseline"));
        assert!(
            (fold - (b + mean) / b).abs() <= 1e-12 * fold,
            "{id}: fold {fold}"
        );
        let bp = sp.baseline_plasma.value;
        let cp = col(&format!("plasma_{id}"));
        let pf = col(&format!("plasma_{id}:fold_over_baseline"));
        assert!(
            (pf - (bp + cp) / bp).abs() <= 1e-12 * pf,
            "{id}: plasma fold {pf}"
        );
        let occ = col(&format!("myocardium:{id}:occupancy"));
        assert!((0.0..1.0).contains(&occ), "{id}: occupancy {occ}");
    }
    // Every parameter in effect, with its source and confidence; what the scenario overrides
    // carries the scenario's source.
    let params = json["parameters"].as_array().unwrap();
    let find = |key: &str| {
        params
            .iter()
            .find(|p| p["key"] == key)
            .unwrap_or_else(|| panic!("no parameter {key}"))
    };
    let kd = find("species.HGF.kd");
    assert_eq!(kd["value"].as_f64().unwrap(), 2.5);
    assert_eq!(kd["source"], "our binding assay");
    assert_eq!(kd["from_scenario"], true);
    let eps = find("tissue.myocardium.volume_fraction");
    assert_eq!(eps["value"].as_f64().unwrap(), 0.25);
    assert_eq!(eps["source"], "scenario box run");
    let fold = find("species.TSG6.lung_fold");
    assert_eq!(fold["confidence"], "A/M");
    assert_eq!(fold["from_scenario"], false);
    let bz = find("tissue.border_zone.volume_fraction");
    assert!(!bz["source"].as_str().unwrap().is_empty());
    assert!(params
        .iter()
        .all(|p| p["source"].as_str().is_some_and(|s| !s.is_empty())));
    for (h, v) in header.iter().zip(rows.last().unwrap()) {
        if h.ends_with(":closure") {
            assert!(v.abs() <= 1e-4, "{h} = {v}");
        }
    }
    // The second depot's cells appear at 1 h (its start), not before.
    let later = header.iter().position(|h| h == "cells:later").unwrap();
    assert_eq!(rows[0][later], 0.0);
    assert!(rows[2][later] > 0.0);
    // The scenario in summary.json is the resolved one, with its hash and the adapter.
    assert_eq!(json["scenario"]["name"], "box run");
    assert_eq!(json["scenario"]["dt_s"].as_f64(), Some(120.0));
    assert!(json["adapter"].as_str().unwrap().len() > 2);
    assert_eq!(json["scenario_hash"].as_str().unwrap().len(), 16);

    // The report's pictures: stated sizes, and not blank.
    use secretome::output::report::{PLASMA_SIZE, REGIONAL_SIZE, SLICE_SIZE};
    let mut pictures = vec![
        ("plasma.png".to_string(), PLASMA_SIZE),
        ("regional_means.png".to_string(), REGIONAL_SIZE),
    ];
    for sp in &p.species.species {
        pictures.push((format!("slices_{}.png", sp.id), SLICE_SIZE));
    }
    for (name, size) in pictures {
        crate::common::assert_picture(&out.join("report").join(&name), size);
    }
    // A box has no AHA segments, so no bullseye.
    assert!(!out.join("report/bullseye_auc.png").exists());
}

/// Starts a run, waits for its third output, then stops it with `signal`.
fn run_and_stop(scenario: &Path, out: &Path, signal: i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_secretome"))
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !out.join("fields/fields_0002.vti").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "no output after 10 min"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the run finished before it could be stopped"
    );
    assert!(
        !out.join("summary.json").exists(),
        "the run finished before it could be stopped"
    );
}

fn same_results(a: &Path, b: &Path, last: usize) {
    let read = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert_eq!(
        read(a.join("stats.csv")),
        read(b.join("stats.csv")),
        "stats.csv differs"
    );
    let f = format!("fields/fields_{last:04}.vti");
    assert!(read(a.join(&f)) == read(b.join(&f)), "{f} differs");
    assert!(
        read(a.join("exposure.vti")) == read(b.join("exposure.vti")),
        "exposure.vti differs"
    );
    let ja: serde_json::Value = serde_json::from_slice(&read(a.join("summary.json"))).unwrap();
    let jb: serde_json::Value = serde_json::from_slice(&read(b.join("summary.json"))).unwrap();
    assert_eq!(ja["ledger"], jb["ledger"]);
    assert_eq!(ja["final_readouts"], jb["final_readouts"]);
}

/// A run killed half-way (SIGKILL: no chance to save anything more) and one interrupted by
/// Ctrl-C (SIGINT: it checkpoints where it is) both resume to the same results as a run that
/// was never stopped.
#[test]
fn stopped_runs_resume_to_the_same_results() {
    let dir = fresh_dir("resume");
    let path = write_scenario(&dir, &scenario_text(30, 1.0, 24.0, 2.0, 60.0));
    let whole = dir.join("whole");
    let (code, _, err) = secretome(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        whole.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    for (name, signal) in [("killed", libc::SIGKILL), ("interrupted", libc::SIGINT)] {
        let out = dir.join(name);
        run_and_stop(&path, &out, signal);
        // Every output written so far is complete: the pvd's files all parse.
        let pvd = std::fs::read_to_string(out.join("fields.pvd")).unwrap();
        for part in pvd.split("file=\"").skip(1) {
            let file = &part[..part.find('"').unwrap()];
            let v = read_vti(&out.join(file));
            assert_eq!(read_array(&v, "VEGF").1.len(), 30 * 30 * 34);
        }
        let (code, _, err) = secretome(&[
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--resume",
        ]);
        assert_eq!(code, 0, "{name}: {err}");
        same_results(&whole, &out, 12);
    }
}

/// A directory holding another run is refused unless --force; --resume needs a checkpoint;
/// a missing scenario file is named. One line each, no panic.
#[test]
fn runs_refuse_what_they_should() {
    let dir = fresh_dir("refuse");
    let a = write_scenario(&dir, &scenario_text(8, 2.0, 1.0, 1.0, 300.0));
    let b = dir.join("other.toml");
    std::fs::write(&b, scenario_text(8, 2.0, 2.0, 1.0, 300.0)).unwrap();
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let (code, _, err) = secretome(&["run", a.to_str().unwrap(), "--out", o]);
    assert_eq!(code, 0, "{err}");
    let one_line = |err: &str| {
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
        err.lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_else(|| panic!("no error line: {err}"))
            .to_string()
    };
    let (code, _, err) = secretome(&["run", b.to_str().unwrap(), "--out", o]);
    assert_ne!(code, 0);
    let line = one_line(&err);
    assert!(
        line.contains("holds a different run") && line.contains("--force"),
        "{line}"
    );
    let (code, _, err) = secretome(&["run", b.to_str().unwrap(), "--out", o, "--force"]);
    assert_eq!(code, 0, "{err}");
    // Nothing of an overwritten run is left to mix with the new one: b (2 h) wrote outputs
    // 0–2; a (1 h) run over it writes 0–1, and b's fields_0002.vti must be gone.
    assert!(out.join("fields/fields_0002.vti").is_file());
    let (code, _, err) = secretome(&["run", a.to_str().unwrap(), "--out", o, "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.join("fields/fields_0002.vti").exists(),
        "an output of the overwritten run was left behind"
    );
    let fresh = dir.join("fresh");
    let (code, _, err) = secretome(&[
        "run",
        a.to_str().unwrap(),
        "--out",
        fresh.to_str().unwrap(),
        "--resume",
    ]);
    assert_ne!(code, 0);
    assert!(one_line(&err).contains("no checkpoint"), "{err}");
    let (code, _, err) = secretome(&["run", "/nonexistent/s.toml", "--out", o]);
    assert_ne!(code, 0);
    assert!(one_line(&err).contains("/nonexistent/s.toml"), "{err}");
    let (code, _, err) = secretome(&["run", a.to_str().unwrap(), "--hours", "-1"]);
    assert_ne!(code, 0);
    assert!(one_line(&err).contains("--hours"), "{err}");
}

/// A NaN in the fields stops the run at the next output with the species, voxel and time; the
/// outputs before it stay valid. (The NaN is planted in the checkpoint.)
#[test]
fn a_nan_stops_the_run_and_keeps_the_good_outputs() {
    let dir = fresh_dir("nan");
    let path = write_scenario(&dir, &scenario_text(8, 2.0, 3.0, 1.0, 300.0));
    let sc = Scenario::load(&path).unwrap();
    let out = dir.join("out");
    {
        let mut runner = Runner::new(gpu(), &sc, &out, RunOptions::default()).unwrap();
        let stop = AtomicBool::new(true);
        // Stops (with a checkpoint) at the first output after t = 0, 1 h.
        let o = runner.run(&stop, &mut |_| {}).unwrap();
        assert!(matches!(o, Outcome::Interrupted { .. }));
    }
    // Plant a NaN in the saved fields: the state follows the checkpoint's header.
    let ck = out.join("checkpoint.bin");
    let mut bytes = std::fs::read(&ck).unwrap();
    let meta = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let state = 8 + meta;
    let ns = u64::from_le_bytes(bytes[state + 32..state + 40].try_into().unwrap()) as usize;
    let first = state + 40 + 8 * ns + 8 + 8; // the first buffer's bytes: slab 0's fields
                                             // Plane 1 (the first own plane), voxel 5, species 0.
    let plane = 4 * 4 * 16;
    let at = first + plane + 5 * 16;
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&ck, bytes).unwrap();
    let opts = RunOptions {
        resume: true,
        ..Default::default()
    };
    let mut runner = Runner::new(gpu(), &sc, &out, opts).unwrap();
    let err = runner
        .run(&AtomicBool::new(false), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("VEGF is NaN at voxel") && err.contains("t = 2.0000 h"),
        "{err}"
    );
    let pvd = std::fs::read_to_string(out.join("fields.pvd")).unwrap();
    assert!(pvd.contains("fields_0001.vti") && !pvd.contains("fields_0002.vti"));
    read_vti(&out.join("fields/fields_0001.vti"));
}
