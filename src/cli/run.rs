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
        "scenario: {} ({}), {} h at dt = {} s, {} mm voxels → {}",
        sc.name,
        sc.source,
        sc.duration_s / 3600.0,
        sc.dt_s,
        sc.grid_spacing_mm,
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
    eprintln!(
        "grid {nx}×{ny}×{nz}, {} species, {:.0} MiB on the GPU{}",
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
    let outcome = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(1000);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {msg}")
                .context("progress bar template")?,
        );
        let outcome = runner.run(stop, &mut |p: &Progress| {
            bar.set_position(1000 * p.steps_done / p.steps_total.max(1));
            bar.set_message(describe(p));
        });
        bar.finish_and_clear();
        outcome?
    } else {
        let mut last = std::time::Instant::now();
        runner.run(stop, &mut |p: &Progress| {
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
    let left = (p.steps_total - p.steps_done) as f64 / p.steps_per_s.max(1e-9);
    format!(
        "t = {:.2} / {:.2} h, {:.1} steps/s, ETA {}",
        p.time_s / 3600.0,
        p.duration_s / 3600.0,
        p.steps_per_s,
        if left < 120.0 {
            format!("{left:.0} s")
        } else {
            format!("{:.1} min", left / 60.0)
        }
    )
}
