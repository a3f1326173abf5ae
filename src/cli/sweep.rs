//! `secretome sweep SWEEP --out DIR`: every member of a parameter sweep into its own
//! directory and `DIR/sweep.csv`; `--member K` runs one member (for scheduler array jobs),
//! `--collect` only assembles `sweep.csv` from the members that finished.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use secretome::batch::sweep::{collect, member_dir, write_member_row, Sweep};
use secretome::batch::RunOptions;
use secretome::GpuContext;

#[derive(Args, Clone, Debug)]
#[command(allow_negative_numbers = true)]
pub struct SweepArgs {
    /// Sweep file (TOML: `base` scenario and a [vary] table of keys and value lists).
    pub sweep: PathBuf,
    /// Output directory (default: out/<sweep file name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run member K only (0-based), e.g. $SLURM_ARRAY_TASK_ID.
    #[arg(long)]
    pub member: Option<usize>,
    /// Only assemble sweep.csv from the members that have finished.
    #[arg(long)]
    pub collect: bool,
    /// Continue stopped members from their checkpoints.
    #[arg(long)]
    pub resume: bool,
    /// Overwrite member directories that hold different runs.
    #[arg(long)]
    pub force: bool,
    /// Replace every member's voxel edge, mm.
    #[arg(long)]
    pub spacing: Option<f64>,
}

pub fn sweep(a: &SweepArgs) -> Result<()> {
    if let Some(h) = a.spacing {
        if !(h > 0.0 && h.is_finite()) {
            bail!("--spacing {h}: expected a positive voxel edge in mm");
        }
    }
    let sw = Sweep::load(&a.sweep)?;
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("out").join(
            a.sweep
                .file_stem()
                .map_or("sweep".into(), |s| s.to_string_lossy().into_owned()),
        )
    });
    let n = sw.members();
    if a.collect {
        let rows = collect(&sw, &out)?;
        println!("{}: {rows} of {n} members", out.join("sweep.csv").display());
        return Ok(());
    }
    let members: Vec<usize> = match a.member {
        Some(k) if k >= n => bail!("--member {k}: the sweep has {n} members, 0 to {}", n - 1),
        Some(k) => vec![k],
        None => (0..n).collect(),
    };
    std::fs::create_dir_all(&out).with_context(|| format!("{}", out.display()))?;
    let ctx = GpuContext::new().context("opening the GPU")?;
    eprintln!("adapter: {}", ctx.report);
    for k in members {
        let mut sc = sw.member(k)?;
        if let Some(h) = a.spacing {
            sc.grid_spacing_mm = h;
        }
        let values: Vec<String> = sw
            .values(k)
            .iter()
            .map(|(key, v)| format!("{key} = {v}"))
            .collect();
        eprintln!("member {k} of {n}: {}", values.join(", "));
        let dir = member_dir(&out, k);
        let resume =
            a.resume && dir.join("checkpoint.bin").is_file() && !dir.join("summary.json").is_file();
        let opts = RunOptions {
            resume,
            force: a.force,
            npy: false,
        };
        let again = format!(
            "secretome sweep {} --out {} --member {k} --resume",
            a.sweep.display(),
            out.display()
        );
        crate::cli::run::execute(&ctx, &sc, &dir, opts, &again)?;
        write_member_row(&sw, &out, k)?;
    }
    let rows = collect(&sw, &out)?;
    println!("{}: {rows} of {n} members", out.join("sweep.csv").display());
    Ok(())
}
