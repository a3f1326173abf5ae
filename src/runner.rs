//! Headless runs of a scenario into an output directory (`secretome run`): fields for
//! ParaView (`fields/*.vti`, `fields.pvd`), exposure (`exposure.vti`), readouts per output time
//! (`stats.csv`, units in `stats_units.csv`), a summary (`summary.json`) and a checkpoint that
//! `--resume` continues from.
//!
//! Every file is written atomically (a temporary name, then rename), so a run stopped at any
//! moment — Ctrl-C, a killed process, a full disk — leaves only complete files. The checkpoint is
//! rewritten after every output and when the run is interrupted; a resumed run takes the same
//! steps from the same state and gives the same fields and readouts bit for bit.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::{Result, SimError};
use crate::model::build::{build, Built};
use crate::model::scenario::Scenario;
use crate::output::atomic::write_atomic;
use crate::output::report;
use crate::output::vti::{write_pvd, write_vti, VtiArray, VtiData};
use crate::sim::{body_closure, Region, RegionStat, SimState, Simulation};
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

/// What `summary.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub program: String,
    pub version: String,
    pub scenario_hash: String,
    /// The scenario as resolved: internal units (mm, s, ng, mL, cells), every default filled.
    pub scenario: Scenario,
    pub adapter: String,
    /// Wall time of the stepping, s (this process only when resumed).
    pub wall_s: f64,
    pub steps: u64,
    pub time_s: f64,
    pub outputs: usize,
    /// The last row of `stats.csv`: column → value (units in `stats_units.csv`).
    pub final_readouts: BTreeMap<String, f64>,
    /// Whole-body mass ledger per species, ng.
    pub ledger: Vec<LedgerSummary>,
    /// Largest |closure| of the species' ledgers (relative to the largest amount involved).
    pub ledger_closure_error: f64,
    /// Every model parameter in effect, with its value and where it comes from: the species
    /// table's sources, or the scenario's own for what it overrides.
    pub parameters: Vec<ParameterRecord>,
}

/// One parameter of the run (internal units: mm, s, ng, mL, cells).
#[derive(Clone, Debug, Serialize)]
pub struct ParameterRecord {
    /// `species.<id>.<name>` or `tissue.<label>.<name>`.
    pub key: String,
    pub value: f64,
    pub source: String,
    /// Confidence code: H human, A animal, V in vitro, M model/estimate, U used in the
    /// literature ("" when the source gives none).
    pub confidence: String,
    /// Whether the scenario set it (its source is then the scenario's).
    pub from_scenario: bool,
}

/// The parameters of a built problem with their sources (see [`ParameterRecord`]).
pub fn parameter_records(sc: &Scenario, p: &crate::sim::Problem) -> Vec<ParameterRecord> {
    let mut out = Vec::new();
    for s in &p.species.species {
        for (name, par) in s.parameters() {
            let from_scenario = sc
                .species_overrides
                .iter()
                .any(|o| o.species == s.id && o.parameter == name);
            out.push(ParameterRecord {
                key: format!("species.{}.{name}", s.id),
                value: par.value,
                confidence: crate::model::Species::confidence(&par.source).to_string(),
                source: par.source.clone(),
                from_scenario,
            });
        }
    }
    for l in crate::model::TissueLabel::ALL {
        let Some((multipliers, eps)) = crate::model::tissue::default_sources(l) else {
            continue;
        };
        let e = p.labels.get(l);
        for (name, value, default) in [
            ("diffusion", e.diffusion, multipliers),
            ("uptake", e.uptake, multipliers),
            ("perfusion", e.perfusion, multipliers),
            ("volume_fraction", e.volume_fraction, eps),
        ] {
            let own = sc
                .tissue_overrides
                .iter()
                .rev()
                .find(|o| o.label == l.name() && o.property == name);
            let source = own.map_or(default.to_string(), |o| o.source.clone());
            out.push(ParameterRecord {
                key: format!("tissue.{}.{name}", l.name()),
                value,
                confidence: crate::model::Species::confidence(&source).to_string(),
                source,
                from_scenario: own.is_some(),
            });
        }
    }
    out
}

/// One species' whole-body ledger at the end, ng.
#[derive(Clone, Debug, Serialize)]
pub struct LedgerSummary {
    pub species: String,
    pub initial: f64,
    pub secreted_heart: f64,
    pub secreted_remote: f64,
    pub degraded: f64,
    pub taken_up: f64,
    pub heart_to_plasma: f64,
    pub cleared_from_plasma: f64,
    pub lost_at_remote_sites: f64,
    pub in_tissue: f64,
    pub in_plasma: f64,
    pub at_remote_sites: f64,
    pub closure_error: f64,
}

/// What the checkpoint's header records besides the solver state.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct CheckpointMeta {
    scenario_hash: String,
    /// Outputs written so far (time s, file relative to the run directory).
    outputs: Vec<(f64, String)>,
    /// stats.csv rows so far, formatted.
    rows: Vec<String>,
    /// Events applied so far.
    events_done: usize,
}

/// The marker that says which run a directory holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RunMarker {
    scenario: String,
    scenario_hash: String,
}

const MARKER: &str = "run.json";
const CHECKPOINT: &str = "checkpoint.bin";

/// FNV-1a, 64 bits: a stable fingerprint of the resolved scenario.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The scenario's fingerprint: its resolved form, without the file name it came from.
pub fn scenario_hash(sc: &Scenario) -> Result<String> {
    let mut v = serde_json::to_value(sc).map_err(|e| SimError::Run(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.remove("source");
    }
    Ok(format!("{:016x}", fnv1a(v.to_string().as_bytes())))
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The output times' step numbers: every output interval, and the end.
pub fn output_steps(sc: &Scenario) -> Vec<u64> {
    let total = (sc.duration_s / sc.dt_s).round().max(1.0) as u64;
    let every = (sc.output_interval_s / sc.dt_s).round().max(1.0) as u64;
    let mut out: Vec<u64> = (0..=total).step_by(every as usize).collect();
    if out.last() != Some(&total) {
        out.push(total);
    }
    out
}

/// The columns of stats.csv with their units and meaning, for a run.
struct Columns {
    names: Vec<(String, &'static str, String)>,
}

impl Columns {
    fn push(&mut self, name: String, unit: &'static str, meaning: String) {
        self.names.push((name, unit, meaning));
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
    events_done: usize,
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
            events_done: 0,
            initial_total,
            columns,
        };
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

    fn restore(&mut self) -> Result<()> {
        let path = self.dir.join(CHECKPOINT);
        let bytes = std::fs::read(&path).map_err(|e| io_err(&path, e))?;
        let bad = || {
            SimError::Run(format!(
                "{}: not a Secretome checkpoint, or a damaged one; run without --resume to start again",
                path.display()
            ))
        };
        let len = u64::from_le_bytes(
            bytes
                .get(..8)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        ) as usize;
        let meta_bytes = bytes
            .get(8..8usize.checked_add(len).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        let meta: CheckpointMeta = serde_json::from_slice(meta_bytes).map_err(|_| bad())?;
        if meta.scenario_hash != self.hash {
            return Err(SimError::Run(format!(
                "{}: the checkpoint belongs to a different scenario; run without --resume (and --force) to start again",
                path.display()
            )));
        }
        let state = SimState::from_bytes(&bytes[8 + len..]).ok_or_else(bad)?;
        self.sim
            .restore_state(&state)
            .map_err(|e| SimError::Run(format!("{}: {e}", path.display())))?;
        self.outputs = meta.outputs;
        self.rows = meta.rows;
        self.events_done = meta.events_done;
        Ok(())
    }

    fn checkpoint(&self) -> Result<()> {
        let meta = CheckpointMeta {
            scenario_hash: self.hash.clone(),
            outputs: self.outputs.clone(),
            rows: self.rows.clone(),
            events_done: self.events_done,
        };
        let json = serde_json::to_vec(&meta).map_err(|e| SimError::Run(e.to_string()))?;
        let state = self.sim.save_state()?.to_bytes();
        write_atomic(&self.dir.join(CHECKPOINT), |w| {
            w.write_all(&(json.len() as u64).to_le_bytes())?;
            w.write_all(&json)?;
            w.write_all(&state)
        })
    }

    /// Runs to the end (or until `stop` is set, checkpointing first), calling `progress` every
    /// few steps.
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Outcome> {
        let outputs = output_steps(self.sc);
        let total = *outputs.last().unwrap_or(&0);
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
            while let Some(e) = self.built.events.get(self.events_done) {
                if e.step > now {
                    break;
                }
                e.apply(&mut self.sim)?;
                self.events_done += 1;
            }
            if now >= total {
                break;
            }
            let next_output = outputs.iter().copied().find(|&s| s > now).unwrap_or(total);
            let next_event = self
                .built
                .events
                .get(self.events_done)
                .map_or(u64::MAX, |e| e.step);
            let target = next_output.min(next_event).min(now + chunk);
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
            });
            if outputs.contains(&done) {
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

    /// Writes the fields, exposure, stats row and checkpoint of the current step.
    fn output(&mut self) -> Result<()> {
        let p = &self.built.problem;
        let fields = self.sim.read_fields()?;
        let n = p.grid.voxel_count();
        let t = self.sim.time();
        // A broken state stops the run before anything of it is written.
        for (s, id) in self.species.iter().enumerate() {
            let f = &fields[s * n..(s + 1) * n];
            let scale = f.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            if let Some(v) = f.iter().position(|c| !c.is_finite() || *c < -1e-3 * scale) {
                return Err(SimError::Run(format!(
                    "{id} is {} at voxel {:?} (index {v}) at t = {:.4} h: the run stopped; the outputs up to t = {:.4} h are valid",
                    f[v],
                    p.grid.coords(v),
                    t / 3600.0,
                    self.outputs.last().map_or(0.0, |o| o.0) / 3600.0
                )));
            }
        }
        let k = self.outputs.len();
        let name = format!("fields/fields_{k:04}.vti");
        let labels: Vec<u8> = p.grid.labels.iter().map(|&l| l as u8).collect();
        let segments = if p.segments.is_empty() {
            vec![0u8; n]
        } else {
            p.segments.clone()
        };
        let mut arrays: Vec<VtiArray> = self
            .species
            .iter()
            .enumerate()
            .map(|(s, id)| VtiArray {
                name: id,
                data: VtiData::F32(&fields[s * n..(s + 1) * n]),
            })
            .collect();
        // Every file carries the geometry, so that ParaView can threshold by label or segment.
        let geometry = [
            VtiArray {
                name: "label",
                data: VtiData::U8(&labels),
            },
            VtiArray {
                name: "aha_segment",
                data: VtiData::U8(&segments),
            },
        ];
        arrays.extend(geometry);
        let g = &p.grid;
        write_vti(
            &self.dir.join(&name),
            g.dims,
            g.origin,
            g.spacing,
            &arrays,
            true,
        )?;
        if self.opts.npy {
            let dir = self.dir.join("npy");
            std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
            for (s, id) in self.species.iter().enumerate() {
                write_npy(
                    &dir.join(format!("{id}_{k:04}.npy")),
                    g.dims,
                    &fields[s * n..(s + 1) * n],
                )?;
            }
        }
        if p.exposure {
            let e = self.sim.exposure()?;
            // AUC in ng·h/mL and time above EC50 in h.
            let hours = |v: &[f32], s: usize| -> Vec<f32> {
                v[s * n..(s + 1) * n].iter().map(|x| x / 3600.0).collect()
            };
            let auc: Vec<Vec<f32>> = (0..self.species.len()).map(|s| hours(&e.auc, s)).collect();
            let above: Vec<Vec<f32>> = (0..self.species.len())
                .map(|s| hours(&e.above, s))
                .collect();
            let occupied: Vec<Vec<f32>> = (0..self.species.len())
                .map(|s| hours(&e.occupancy, s))
                .collect();
            let names: Vec<[String; 3]> = self
                .species
                .iter()
                .map(|id| {
                    [
                        format!("{id}_AUC"),
                        format!("{id}_time_above_EC50"),
                        format!("{id}_occupancy_AUC"),
                    ]
                })
                .collect();
            let mut arrays: Vec<VtiArray> = Vec::new();
            for (s, [a, b, o]) in names.iter().enumerate() {
                arrays.push(VtiArray {
                    name: a,
                    data: VtiData::F32(&auc[s]),
                });
                arrays.push(VtiArray {
                    name: b,
                    data: VtiData::F32(&above[s]),
                });
                arrays.push(VtiArray {
                    name: o,
                    data: VtiData::F32(&occupied[s]),
                });
            }
            arrays.extend(geometry);
            write_vti(
                &self.dir.join("exposure.vti"),
                g.dims,
                g.origin,
                g.spacing,
                &arrays,
                true,
            )?;
        }
        self.outputs.push((t, name));
        write_pvd(&self.dir.join("fields.pvd"), &self.outputs)?;
        let row = self.row()?;
        self.rows.push(row);
        self.write_stats()?;
        self.checkpoint()
    }

    /// The pictures of `report/` (see `output::report`) at the last output.
    fn report(&self) -> Result<()> {
        let dir = self.dir.join("report");
        std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        let p = &self.built.problem;
        let n = p.grid.voxel_count();
        let fields = self.sim.read_fields()?;
        let t_h = self.sim.time() / 3600.0;
        for (s, id) in self.species.iter().enumerate() {
            report::slices(
                &dir.join(format!("slices_{id}.png")),
                &p.grid,
                self.built.anatomy.as_ref(),
                &fields[s * n..(s + 1) * n],
                id,
                t_h,
            )?;
        }
        if self.built.anatomy.is_some() && p.exposure {
            let stats = self.sim.region_stats()?;
            let t = self.sim.time().max(f64::MIN_POSITIVE);
            let per_segment = |f: &dyn Fn(&crate::sim::SpeciesStats) -> f64| -> Vec<Vec<f64>> {
                (0..self.species.len())
                    .map(|s| {
                        (1..=17u8)
                            .map(|seg| {
                                stats
                                    .iter()
                                    .find(|r| r.region == Region::Segment(seg))
                                    .map_or(0.0, |r| f(&r.species[s]))
                            })
                            .collect()
                    })
                    .collect()
            };
            report::bullseye(
                &dir.join("bullseye_auc.png"),
                &self.species,
                &per_segment(&|st| st.auc / 3600.0),
                report::BULLSEYE_AUC,
            )?;
            report::bullseye(
                &dir.join("bullseye_occupancy.png"),
                &self.species,
                &per_segment(&|st| st.occupancy_auc / t),
                report::BULLSEYE_OCCUPANCY,
            )?;
        }
        // Time courses from the stats rows.
        let names: Vec<&str> = self.columns.names.iter().map(|c| c.0.as_str()).collect();
        let table: Vec<Vec<f64>> = self
            .rows
            .iter()
            .map(|r| {
                r.split(',')
                    .map(|v| v.parse().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let column = |name: &str| -> Option<Vec<f64>> {
            let i = names.iter().position(|n| *n == name)?;
            Some(table.iter().map(|r| r[i]).collect())
        };
        let times = column("time_h").unwrap_or_default();
        let plasma: Vec<(String, Vec<f64>)> = self
            .species
            .iter()
            .filter_map(|id| Some((id.clone(), column(&format!("plasma_{id}"))?)))
            .collect();
        let baselines: Vec<f64> = plasma
            .iter()
            .map(|(id, _)| {
                p.species
                    .species
                    .iter()
                    .find(|s| &s.id == id)
                    .map_or(0.0, |s| s.baseline_plasma.value)
            })
            .collect();
        report::plasma(&dir.join("plasma.png"), &times, &plasma, &baselines)?;
        let panels: Vec<(String, report::Series)> = self
            .species
            .iter()
            .map(|id| {
                let series = ["myocardium", "border_zone", "infarct"]
                    .iter()
                    .filter_map(|r| Some((r.to_string(), column(&format!("{r}:{id}:mean"))?)))
                    .collect();
                (id.clone(), series)
            })
            .collect();
        report::regional_means(&dir.join("regional_means.png"), &times, &panels)
    }

    /// The readouts now, in the order of `columns`.
    fn values(&self) -> Result<Vec<f64>> {
        let p = &self.built.problem;
        let t = self.sim.time();
        let mut v = vec![t / 3600.0];
        let (plasma, remote_cells) = self.sim.plasma_state()?;
        let table = &p.species.species;
        v.extend(plasma.iter().map(|l| l.concentration));
        v.extend(
            plasma
                .iter()
                .zip(table)
                .map(|(l, sp)| sp.plasma_fold(l.concentration)),
        );
        let cells = self.sim.depot_cells()?;
        for (d, c) in p.depots.iter().zip(&cells) {
            if !d.cell_free {
                v.push(*c);
            }
        }
        for (r, c) in p.compartment.remote.iter().zip(&remote_cells) {
            if !r.secretion.is_empty() && r.k_death > 0.0 {
                v.push(*c);
            }
        }
        let stats: Vec<RegionStat> = self.sim.region_stats()?;
        for r in &stats {
            let blood =
                matches!(r.region, Region::Label(l) if l.kind() == crate::model::LabelKind::Blood);
            for (st, sp) in r.species.iter().zip(table) {
                v.extend([
                    st.mean,
                    st.max,
                    st.auc / 3600.0,
                    st.time_above / 3600.0,
                    st.fraction_above,
                    if blood {
                        sp.plasma_fold(st.mean)
                    } else {
                        sp.tissue_fold(st.mean)
                    },
                    st.occupancy,
                    st.occupancy_auc / 3600.0,
                ]);
            }
        }
        let heart = self.sim.ledger()?;
        for (s, (h, pl)) in heart.species.iter().zip(&plasma).enumerate() {
            v.extend([
                h.secreted + pl.remote_secreted,
                h.degraded,
                h.taken_up,
                h.net_exchange(),
                pl.cleared,
                pl.remote_lost,
                h.in_tissue,
                pl.in_plasma,
                pl.at_remote_sites,
                body_closure(h, pl, self.initial_total[s]),
            ]);
        }
        Ok(v)
    }

    fn row(&self) -> Result<String> {
        let v = self.values()?;
        if v.len() != self.columns.names.len() {
            return Err(SimError::Run(format!(
                "internal: {} readouts for {} columns",
                v.len(),
                self.columns.names.len()
            )));
        }
        let mut line = String::new();
        for (i, x) in v.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let _ = write!(line, "{x:e}");
        }
        Ok(line)
    }

    fn write_stats(&self) -> Result<()> {
        let header: Vec<&str> = self.columns.names.iter().map(|c| c.0.as_str()).collect();
        let rows = &self.rows;
        write_atomic(&self.dir.join("stats.csv"), |w| {
            writeln!(w, "{}", header.join(","))?;
            for r in rows {
                writeln!(w, "{r}")?;
            }
            Ok(())
        })
    }

    fn summary(&self, wall_s: f64) -> Result<Summary> {
        let values = self.values()?;
        let final_readouts = self
            .columns
            .names
            .iter()
            .zip(&values)
            .map(|(c, v)| (c.0.clone(), *v))
            .collect();
        let heart = self.sim.ledger()?;
        let (plasma, _) = self.sim.plasma_state()?;
        let ledger: Vec<LedgerSummary> = heart
            .species
            .iter()
            .zip(&plasma)
            .enumerate()
            .map(|(s, (h, pl))| LedgerSummary {
                species: self.species[s].clone(),
                initial: self.initial_total[s],
                secreted_heart: h.secreted,
                secreted_remote: pl.remote_secreted,
                degraded: h.degraded,
                taken_up: h.taken_up,
                heart_to_plasma: h.net_exchange(),
                cleared_from_plasma: pl.cleared,
                lost_at_remote_sites: pl.remote_lost,
                in_tissue: h.in_tissue,
                in_plasma: pl.in_plasma,
                at_remote_sites: pl.at_remote_sites,
                closure_error: body_closure(h, pl, self.initial_total[s]),
            })
            .collect();
        let worst = ledger
            .iter()
            .map(|l| l.closure_error.abs())
            .fold(0.0, f64::max);
        Ok(Summary {
            program: "secretome".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            scenario_hash: self.hash.clone(),
            scenario: self.sc.clone(),
            adapter: self.sim.adapter_name().to_string(),
            wall_s,
            steps: self.sim.steps_taken(),
            time_s: self.sim.time(),
            outputs: self.outputs.len(),
            final_readouts,
            ledger,
            ledger_closure_error: worst,
            parameters: parameter_records(self.sc, &self.built.problem),
        })
    }
}

/// The columns of stats.csv for a built scenario: time; plasma per species; cells per depot;
/// per region and species mean, max, AUC, time above EC50, fraction above EC50; the ledger per
/// species.
fn columns(built: &Built, species: &[String]) -> Columns {
    let p = &built.problem;
    let mut c = Columns { names: Vec::new() };
    c.push("time_h".into(), "h", "simulated time".into());
    for id in species {
        c.push(
            format!("plasma_{id}"),
            "ng/mL",
            format!("plasma concentration of {id} from the cells (over the endogenous baseline)"),
        );
    }
    for id in species {
        c.push(
            format!("plasma_{id}:fold_over_baseline"),
            "1",
            format!("(baseline + plasma {id}) / baseline, the cells' contribution as a fold over the endogenous plasma level (NaN without a baseline)"),
        );
    }
    for d in p.depots.iter().filter(|d| !d.cell_free) {
        c.push(
            format!("cells:{}", d.name),
            "cells",
            format!("live cells of depot '{}' in the heart", d.name),
        );
    }
    for r in &p.compartment.remote {
        if !r.secretion.is_empty() && r.k_death > 0.0 {
            c.push(
                format!("cells:{}", r.name),
                "cells",
                format!("live cells of remote depot '{}'", r.name),
            );
        }
    }
    for (region, _) in crate::sim::readouts::regions(&p.grid, &p.segments) {
        let rn = region.name();
        for id in species {
            c.push(
                format!("{rn}:{id}:mean"),
                "ng/mL",
                format!("mean free {id} over {rn}, per mL of interstitial fluid (blood: plasma)"),
            );
            c.push(
                format!("{rn}:{id}:max"),
                "ng/mL",
                format!("largest free {id} in {rn}, per mL of interstitial fluid (blood: plasma)"),
            );
            c.push(
                format!("{rn}:{id}:auc"),
                "ng·h/mL",
                format!("mean exposure ∫c dt of {id} over {rn}, c per mL of interstitial fluid"),
            );
            c.push(
                format!("{rn}:{id}:time_above_ec50"),
                "h",
                format!("mean time {id} spent above its EC50 in {rn}"),
            );
            c.push(
                format!("{rn}:{id}:fraction_above_ec50"),
                "1",
                format!("fraction of {rn}'s voxels above {id}'s EC50 now"),
            );
            c.push(
                format!("{rn}:{id}:fold_over_baseline"),
                "1",
                format!("(baseline + mean {id}) / baseline over {rn}: the cells' contribution as a fold over the endogenous level (interstitial baseline in tissue, plasma baseline in blood; NaN without one)"),
            );
            c.push(
                format!("{rn}:{id}:occupancy"),
                "1",
                format!("mean receptor occupancy c/(c + K_d) of {id} over {rn} now (c: the cells' contribution)"),
            );
            c.push(
                format!("{rn}:{id}:occupancy_auc"),
                "h",
                format!("mean ∫ c/(c + K_d) dt of {id} over {rn} (divided by the time: the time-averaged occupancy)"),
            );
        }
    }
    for id in species {
        c.push(
            format!("ledger:{id}:secreted"),
            "ng",
            format!("{id} secreted so far (heart and remote sites)"),
        );
        c.push(
            format!("ledger:{id}:degraded"),
            "ng",
            format!("{id} degraded in the heart"),
        );
        c.push(
            format!("ledger:{id}:taken_up"),
            "ng",
            format!("{id} taken up by receptors in the heart"),
        );
        c.push(
            format!("ledger:{id}:heart_to_plasma"),
            "ng",
            format!("net {id} from the heart to plasma"),
        );
        c.push(
            format!("ledger:{id}:cleared"),
            "ng",
            format!("{id} cleared from plasma"),
        );
        c.push(
            format!("ledger:{id}:lost_remote"),
            "ng",
            format!("{id} lost at remote sites"),
        );
        c.push(
            format!("ledger:{id}:in_tissue"),
            "ng",
            format!("{id} in the heart now"),
        );
        c.push(
            format!("ledger:{id}:in_plasma"),
            "ng",
            format!("{id} in plasma now"),
        );
        c.push(
            format!("ledger:{id}:at_remote_sites"),
            "ng",
            format!("{id} at remote sites now"),
        );
        c.push(
            format!("ledger:{id}:closure"),
            "1",
            format!("whole-body balance of {id}, relative to the largest amount"),
        );
    }
    c
}

fn write_csv_units(path: &Path, c: &Columns) -> Result<()> {
    write_atomic(path, |w| {
        writeln!(w, "column,unit,meaning")?;
        for (name, unit, meaning) in &c.names {
            writeln!(w, "{name},{unit},\"{}\"", meaning.replace('"', "'"))?;
        }
        Ok(())
    })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| io_err(path, e))?;
    write_atomic(path, |w| w.write_all(text.as_bytes()))
}

/// One field as a NumPy `.npy` file: float32, shape (nz, ny, nx) in C order, so that
/// `a[z, y, x]` is voxel (x, y, z).
fn write_npy(path: &Path, dims: [usize; 3], values: &[f32]) -> Result<()> {
    let [nx, ny, nz] = dims;
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({nz}, {ny}, {nx}), }}");
    // Magic (6) + version (2) + header length (2) + header, padded to 64 bytes with a newline.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat(total.next_multiple_of(64) - total));
    header.push('\n');
    write_atomic(path, |w| {
        w.write_all(b"\x93NUMPY\x01\x00")?;
        w.write_all(&(header.len() as u16).to_le_bytes())?;
        w.write_all(header.as_bytes())?;
        w.write_all(bytemuck::cast_slice(values))
    })
}
