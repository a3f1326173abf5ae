//! Headless runs of a scenario into an output directory (`secretome run`): fields for
//! ParaView (`fields/*.vti`, `fields.pvd`), exposure (`exposure.vti`), readouts per output time
//! (`stats.csv`, units in `stats_units.csv`), a summary (`summary.json`) and a checkpoint that
//! `--resume` continues from.
//!
//! Every file is written atomically (a temporary name, then rename), so a run stopped at any
//! moment — Ctrl-C, a killed process, a full disk — leaves only complete files. The checkpoint is
//! rewritten after every output and when the run is interrupted; a resumed run takes the same
//! steps from the same state and gives the same fields and readouts bit for bit.

mod checkpoint;
pub mod converge;
mod outputs;
mod summary;
pub mod sweep;

pub use checkpoint::scenario_hash;
use checkpoint::*;
pub use outputs::output_steps;
use outputs::*;
use summary::*;
pub use summary::{parameter_records, LedgerSummary, ParameterRecord, Summary};

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use web_time::Instant;

use serde::{Deserialize, Serialize};

use crate::base::atomic::write_atomic;
use crate::error::{Result, SimError};
use crate::output::report;
use crate::output::vti::{write_pvd, write_vti, VtiArray, VtiData};
use crate::problem::build::{build, Built};
use crate::scenario::Scenario;
use crate::sim::{body_closure, Region, RegionStat, Schedule, SimState, Simulation};
use crate::GpuContext;

/// How a run treats its output directory.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Continue from the directory's checkpoint.
    pub resume: bool,
    /// Write into a directory that holds a different run.
    pub force: bool,
    /// Also write every field as `.npy` (NumPy) at every output time.
    pub npy: bool,
}

/// Where a run is, for progress displays.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Simulated time, s.
    pub time_s: f64,
    pub duration_s: f64,
    pub steps_done: u64,
    pub steps_total: u64,
    /// Steps per wall-clock second since this process started stepping.
    pub steps_per_s: f64,
    /// Wall-clock seconds since this process started stepping (the rate's measurement).
    pub wall_s: f64,
}

impl Progress {
    /// Wall-clock seconds the rest of the run will take at the rate so far (infinite before
    /// any rate is measured).
    pub fn wall_left_s(&self) -> f64 {
        let left = self.steps_total.saturating_sub(self.steps_done) as f64;
        if left == 0.0 {
            0.0
        } else if self.steps_per_s > 0.0 {
            left / self.steps_per_s
        } else {
            f64::INFINITY
        }
    }
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    Finished(Box<Summary>),
    /// Stopped by the caller's flag; the checkpoint holds the state at `time_s`.
    Interrupted {
        time_s: f64,
    },
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// A run in progress: scenario, problem, solver and what has been written.
pub struct Runner<'a> {
    sc: &'a Scenario,
    built: Built,
    sim: Simulation,
    dir: PathBuf,
    opts: RunOptions,
    hash: String,
    species: Vec<String>,
    outputs: Vec<(f64, String)>,
    rows: Vec<String>,
    /// The scenario's later injections, and how many were applied.
    schedule: Schedule,
    /// Whole-body amount at the start per species, ng.
    initial_total: Vec<f64>,
    columns: Columns,
}

impl<'a> Runner<'a> {
    /// Prepares the directory (refusing one that holds another run unless `force`), builds the
    /// scenario and uploads it; with `resume`, restores the checkpoint.
    pub fn new(ctx: &GpuContext, sc: &'a Scenario, dir: &Path, opts: RunOptions) -> Result<Self> {
        let hash = scenario_hash(sc)?;
        let marker_path = dir.join(MARKER);
        if let Ok(text) = std::fs::read_to_string(&marker_path) {
            let held: Option<RunMarker> = serde_json::from_str(&text).ok();
            let same = held.as_ref().is_some_and(|m| m.scenario_hash == hash);
            if !same && !opts.force {
                return Err(SimError::Run(format!(
                    "{}: holds a different run ({}); choose another --out or pass --force to overwrite it",
                    dir.display(),
                    held.map_or("unreadable run.json".to_string(), |m| format!("scenario '{}'", m.scenario))
                )));
            }
        } else if dir.is_dir()
            && std::fs::read_dir(dir)
                .map_err(|e| io_err(dir, e))?
                .next()
                .is_some()
            && !opts.force
        {
            return Err(SimError::Run(format!(
                "{}: exists and is not a Secretome run directory (no run.json); choose another --out or pass --force",
                dir.display()
            )));
        }
        if opts.resume && !dir.join(CHECKPOINT).is_file() {
            return Err(SimError::Run(format!(
                "{}: no checkpoint to resume from (run without --resume to start)",
                dir.join(CHECKPOINT).display()
            )));
        }
        if !opts.resume {
            // A fresh start: what an earlier run left here (more outputs, a summary, pictures)
            // must not mix with this one. Only the names a run writes are removed.
            for sub in ["fields", "npy", "report"] {
                let d = dir.join(sub);
                if d.is_dir() {
                    std::fs::remove_dir_all(&d).map_err(|e| io_err(&d, e))?;
                }
            }
            for f in [
                "fields.pvd",
                "exposure.vti",
                "stats.csv",
                "stats_units.csv",
                "summary.json",
                CHECKPOINT,
            ] {
                let p = dir.join(f);
                if p.is_file() {
                    std::fs::remove_file(&p).map_err(|e| io_err(&p, e))?;
                }
            }
        }
        std::fs::create_dir_all(dir.join("fields")).map_err(|e| io_err(dir, e))?;
        let marker = RunMarker {
            scenario: sc.name.clone(),
            scenario_hash: hash.clone(),
        };
        write_json(&marker_path, &marker)?;

        let built = build(sc)?;
        let p = &built.problem;
        let species: Vec<String> = p.species.species.iter().map(|s| s.id.clone()).collect();
        let sim = Simulation::new(ctx, p)?;
        let initial_total: Vec<f64> = (0..p.n_species())
            .map(|s| {
                sim.initial_amounts()[s]
                    + p.plasma[s] * p.compartment.volume_ml
                    + p.compartment
                        .remote
                        .iter()
                        .map(|r| r.amount[s])
                        .sum::<f64>()
            })
            .collect();
        let columns = columns(&built, &species);
        let mut me = Runner {
            sc,
            built,
            sim,
            dir: dir.to_path_buf(),
            opts,
            hash,
            species,
            outputs: Vec::new(),
            rows: Vec::new(),
            schedule: Schedule::default(),
            initial_total,
            columns,
        };
        me.schedule = Schedule::new(me.built.events.clone());
        if opts.resume {
            me.restore()?;
        }
        write_csv_units(&me.dir.join("stats_units.csv"), &me.columns)?;
        Ok(me)
    }

    pub fn simulation(&self) -> &Simulation {
        &self.sim
    }

    pub fn built(&self) -> &Built {
        &self.built
    }

    /// Runs to the end (or until `stop` is set, checkpointing first), calling `progress` every
    /// few steps.
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Outcome> {
        let outputs = OutputSteps::of(self.sc);
        let total = outputs.total;
        let start = Instant::now();
        let first_step = self.sim.steps_taken();
        let chunk = 16u64;
        // The initial state is output 0 (unless resumed past it).
        if self.outputs.is_empty() {
            self.output()?;
        }
        loop {
            let now = self.sim.steps_taken();
            // Events due now.
            for e in self.schedule.take_due(now) {
                e.apply(&mut self.sim)?;
            }
            if now >= total {
                break;
            }
            let next_output = outputs.next_after(now);
            let target = self.schedule.stop_before(now, next_output.min(now + chunk));
            self.sim.step((target - now) as usize);
            self.sim.finish()?;
            let done = self.sim.steps_taken();
            let wall = start.elapsed().as_secs_f64();
            progress(&Progress {
                time_s: self.sim.time(),
                duration_s: total as f64 * self.sc.dt_s,
                steps_done: done,
                steps_total: total,
                steps_per_s: (done - first_step) as f64 / wall.max(1e-9),
                wall_s: wall,
            });
            if outputs.contains(done) {
                self.output()?;
            }
            if stop.load(Ordering::Relaxed) && done < total {
                self.checkpoint()?;
                return Ok(Outcome::Interrupted {
                    time_s: self.sim.time(),
                });
            }
        }
        self.report()?;
        let summary = self.summary(start.elapsed().as_secs_f64())?;
        write_json(&self.dir.join("summary.json"), &summary)?;
        Ok(Outcome::Finished(Box::new(summary)))
    }
}
