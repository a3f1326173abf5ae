//! `secretome run [SCENARIO] --out DIR`: a scenario run headless into an output directory
//! (see `secretome::batch`), with a progress bar on a terminal and plain log lines elsewhere.
//! Ctrl-C checkpoints the run; `--resume` continues it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use clap::Args;

use secretome::batch::{Outcome, Progress, RunOptions, Runner};
use secretome::scenario::Scenario;
use secretome::{GpuContext, SpeciesTable};

/// The scenario run when none is named: the intramyocardial preset.
const DEFAULT_SCENARIO: &str = include_str!("../../assets/scenarios/intramyocardial.toml");

#[derive(Args, Clone, Debug, Default)]
#[command(allow_negative_numbers = true)]
pub struct RunArgs {
    /// Scenario file (TOML; see assets/scenarios/). Default: the intramyocardial preset.
    pub scenario: Option<PathBuf>,
    /// Output directory (default: out/<scenario name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue a stopped run from its checkpoint in --out.
    #[arg(long)]
    pub resume: bool,
    /// Overwrite a directory that holds a different run.
    #[arg(long)]
    pub force: bool,
    /// Also write every field as NumPy .npy files (DIR/npy/).
    #[arg(long)]
    pub npy: bool,
    /// Replace the scenario's voxel edge, mm (coarser runs faster).
    #[arg(long)]
    pub spacing: Option<f64>,
    /// Refine around the depots down to this voxel edge, mm (`[grid] finest`; the
    /// scenario's voxel edge: no refinement).
    #[arg(long)]
    pub finest: Option<f64>,
    /// Replace the scenario's duration, hours.
    #[arg(long)]
    pub hours: Option<f64>,
    /// Replace the scenario's time step, s.
    #[arg(long)]
    pub dt: Option<f64>,
}

fn positive(name: &str, v: Option<f64>, what: &str) -> Result<()> {
    if let Some(x) = v {
        if !(x > 0.0 && x.is_finite()) {
            bail!("{name} {x}: expected {what}");
        }
    }
    Ok(())
}

/// Loads the scenario named (or the default) and applies the command line's replacements.
pub fn load_scenario(path: Option<&Path>, a: &RunArgs) -> Result<Scenario> {
    positive("--spacing", a.spacing, "a positive voxel edge in mm")?;
    positive("--finest", a.finest, "a positive voxel edge in mm")?;
    positive("--hours", a.hours, "a positive duration in hours")?;
    positive("--dt", a.dt, "a positive time step in seconds")?;
    let mut sc = match path {
        Some(p) => Scenario::load(p)?,
        None => Scenario::parse(
            DEFAULT_SCENARIO,
            "intramyocardial.toml",
            Path::new("assets/scenarios"),
            &SpeciesTable::default_table()?,
        )?,
    };
    if let Some(h) = a.spacing {
        sc.grid_spacing_mm = h;
    }
    if let Some(f) = a.finest {
        let h = sc.grid_spacing_mm;
        if f > h * (1.0 + 1e-9) {
            bail!("--finest {f}: coarser than the voxels ({h} mm); expected an edge ≤ {h} mm");
        }
        sc.grid_finest_mm = Some(f);
    }
    if let Some(h) = a.hours {
        sc.duration_s = h * 3600.0;
    }
    if let Some(dt) = a.dt {
        sc.dt_s = dt;
    }
    if sc.depots.iter().any(|d| d.start_s >= sc.duration_s) {
        bail!(
            "--hours {}: a depot of the scenario starts after the end",
            sc.duration_s / 3600.0
        );
    }
    Ok(sc)
}

pub fn run(a: &RunArgs) -> Result<()> {
    let sc = load_scenario(a.scenario.as_deref(), a)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&sc.name));
    let ctx = GpuContext::new().context("opening the GPU")?;
    eprintln!("adapter: {}", ctx.report);
    eprintln!(
        "scenario: {} ({}), {} h at dt = {} s, {} mm voxels{} → {}",
        sc.name,
        sc.source,
        sc.duration_s / 3600.0,
        sc.dt_s,
        sc.grid_spacing_mm,
        sc.grid_finest_mm
            .filter(|&f| f < sc.grid_spacing_mm)
            .map_or(String::new(), |f| format!(
                ", refined around the depots down to {f} mm"
            )),
        out.display()
    );
    let opts = RunOptions {
        resume: a.resume,
        force: a.force,
        npy: a.npy,
    };
    let again = format!(
        "secretome run {} --out {} --resume",
        a.scenario
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string()),
        out.display()
    );
    execute(&ctx, &sc, &out, opts, &again)
}

/// Runs a scenario into `out` with a progress display; prints the end's ledger. `again` is the
/// command that resumes it, for the message after Ctrl-C.
pub fn execute(
    ctx: &GpuContext,
    sc: &Scenario,
    out: &Path,
    opts: RunOptions,
    again: &str,
) -> Result<()> {
    let mut runner = Runner::new(ctx, sc, out, opts)?;
    let [nx, ny, nz] = runner.simulation().dims();
    let per_level = runner.simulation().slabs_per_level();
    let levels = if per_level.len() > 1 {
        format!(
            " + {} finer levels ({} stored voxels in all, {} faces between levels)",
            per_level.len() - 1,
            runner.simulation().stored().0,
            runner.simulation().level_faces()
        )
    } else {
        String::new()
    };
    eprintln!(
        "grid {nx}×{ny}×{nz}{levels}, {} species, {:.0} MiB on the GPU{}",
        runner.simulation().n_species(),
        runner.simulation().gpu_bytes() as f64 / (1u64 << 20) as f64,
        if opts.resume {
            format!(
                ", resumed at t = {:.2} h",
                runner.simulation().time() / 3600.0
            )
        } else {
            String::new()
        }
    );
    let stop = stop_flag()?;
    let mut estimate = Estimate::default();
    let outcome = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(1000);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {msg}")
                .context("progress bar template")?,
        );
        let outcome = runner.run(stop, &mut |p: &Progress| {
            if let Some(line) = estimate.once(p) {
                bar.println(line);
            }
            bar.set_position(1000 * p.steps_done / p.steps_total.max(1));
            bar.set_message(describe(p));
        });
        bar.finish_and_clear();
        outcome?
    } else {
        let mut last = std::time::Instant::now();
        runner.run(stop, &mut |p: &Progress| {
            if let Some(line) = estimate.once(p) {
                eprintln!("{line}");
            }
            if last.elapsed().as_secs_f64() >= 10.0 || p.steps_done == p.steps_total {
                eprintln!("{}", describe(p));
                last = std::time::Instant::now();
            }
        })?
    };
    match outcome {
        Outcome::Finished(s) => {
            println!(
                "done: {} h in {:.1} s on {}; {} outputs in {}",
                s.time_s / 3600.0,
                s.wall_s,
                s.adapter,
                s.outputs,
                out.display()
            );
            println!("mass ledger (whole body, ng): species, secreted, degraded, taken up, cleared, now, closure");
            for l in &s.ledger {
                println!(
                    "  {:<6} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>10.2e}",
                    l.species,
                    l.secreted_heart + l.secreted_remote,
                    l.degraded,
                    l.taken_up,
                    l.cleared_from_plasma,
                    l.in_tissue + l.in_plasma + l.at_remote_sites,
                    l.closure_error
                );
            }
            Ok(())
        }
        Outcome::Interrupted { time_s } => {
            bail!(
                "interrupted at t = {:.3} h; the checkpoint is saved: continue with `{again}`",
                time_s / 3600.0
            )
        }
    }
}

/// Set by Ctrl-C (the handler is installed once per process).
fn stop_flag() -> Result<&'static AtomicBool> {
    static STOP: AtomicBool = AtomicBool::new(false);
    static INSTALLED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed)).map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("installing the Ctrl-C handler: {e}"))?;
    Ok(&STOP)
}

fn describe(p: &Progress) -> String {
    format!(
        "t = {:.2} / {:.2} h, {:.1} steps/s, ETA {}",
        p.time_s / 3600.0,
        p.duration_s / 3600.0,
        p.steps_per_s,
        span(p.wall_left_s())
    )
}

/// Wall-clock seconds of stepping measured before the run's length is estimated.
const ESTIMATE_AFTER_S: f64 = 1.0;

/// Says once, after a short measurement of the step rate, how long the whole run will take:
/// a run of days should say so at its start, not leave its user to read a progress bar.
/// It only reads the progress reports; the stepping is the same with or without it.
#[derive(Default)]
struct Estimate {
    said: bool,
}

impl Estimate {
    /// The line to print for this progress report, the first time the rate has been measured
    /// for [`ESTIMATE_AFTER_S`] and the run is not over yet.
    fn once(&mut self, p: &Progress) -> Option<String> {
        if self.said || p.wall_s < ESTIMATE_AFTER_S || p.steps_done >= p.steps_total {
            return None;
        }
        self.said = true;
        Some(estimate_line(p))
    }
}

/// `estimated wall time: 3.33e5 h (38 years): 6.00e10 steps to go at 50.0 steps/s`.
fn estimate_line(p: &Progress) -> String {
    let left = p.wall_left_s();
    let steps = p.steps_total.saturating_sub(p.steps_done) as f64;
    format!(
        "estimated wall time: {} h ({}): {} steps to go at {} steps/s",
        number(left / 3600.0),
        span(left),
        number(steps),
        number(p.steps_per_s)
    )
}

/// A positive number in three significant figures, in scientific notation when large.
fn number(x: f64) -> String {
    if !x.is_finite() {
        "∞".to_string()
    } else if x >= 1e4 {
        format!("{x:.2e}")
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A wall-clock span in the unit that reads best: seconds up to minutes, up to years.
fn span(s: f64) -> String {
    const MIN: f64 = 60.0;
    const HOUR: f64 = 3600.0;
    const DAY: f64 = 24.0 * HOUR;
    const YEAR: f64 = 365.25 * DAY;
    if !s.is_finite() {
        "unknown".to_string()
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 120.0 * MIN {
        format!("{:.0} min", s / MIN)
    } else if s < 48.0 * HOUR {
        format!("{:.1} h", s / HOUR)
    } else if s < 2.0 * YEAR {
        format!("{:.0} days", s / DAY)
    } else if s < 1e4 * YEAR {
        format!("{:.0} years", s / YEAR)
    } else {
        format!("{:.1e} years", s / YEAR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(done: u64, total: u64, rate: f64, wall: f64) -> Progress {
        Progress {
            time_s: done as f64 * 60.0,
            duration_s: total as f64 * 60.0,
            steps_done: done,
            steps_total: total,
            steps_per_s: rate,
            wall_s: wall,
        }
    }

    #[test]
    fn a_run_of_years_says_so_once_after_a_measurement() {
        let mut e = Estimate::default();
        // 10⁹ h at dt = 60 s: 6·10¹⁰ steps.
        let total = 60_000_000_000;
        assert_eq!(e.once(&progress(16, total, 50.0, 0.3)), None);
        let line = e.once(&progress(64, total, 50.0, 1.3));
        assert_eq!(
            line.as_deref(),
            Some("estimated wall time: 3.33e5 h (38 years): 6.00e10 steps to go at 50.0 steps/s")
        );
        assert_eq!(e.once(&progress(128, total, 50.0, 2.6)), None);
        // A run over before the measurement says nothing.
        let mut e = Estimate::default();
        assert_eq!(e.once(&progress(100, 100, 50.0, 2.0)), None);
    }

    #[test]
    fn spans_read_in_their_unit() {
        assert_eq!(span(42.0), "42 s");
        assert_eq!(span(600.0), "10 min");
        assert_eq!(span(5.0 * 3600.0), "5.0 h");
        assert_eq!(span(10.0 * 86400.0), "10 days");
        assert_eq!(span(f64::INFINITY), "unknown");
        assert_eq!(span(3.2e5 * 3600.0), "37 years");
        assert_eq!(span(1e9 * 3600.0), "1.1e5 years");
    }
}
