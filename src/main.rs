//! `secretome`: command-line front end.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use secretome::bench::{bench_cpu, bench_gpu};
use secretome::sim::LayoutOptions;
use secretome::GpuContext;

#[derive(Parser)]
#[command(
    name = "secretome",
    version,
    about = "MSC secretome fields in the infarcted heart, on the GPU",
    allow_negative_numbers = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario headless into a directory: fields for ParaView (fields/*.vti,
    /// fields.pvd), exposure.vti, stats.csv, summary.json. Ctrl-C saves a checkpoint that
    /// --resume continues from. Without a scenario: the intramyocardial preset.
    Run(run::RunArgs),
    /// Run every member of a parameter sweep (or one: --member K) into DIR/member_K and
    /// write DIR/sweep.csv, one row per member with its parameters and key readouts.
    Sweep(sweep_cmd::SweepArgs),
    /// Measure the solver: species-voxel updates/s, memory per voxel, one hour of problem P1.
    #[command(allow_negative_numbers = true)]
    Bench {
        /// Also measure a 256³ grid (≥ 256 MiB of fields; exercises the z-slab split).
        #[arg(long)]
        large: bool,
        /// Seconds spent measuring the update rate at each size (in each round).
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Rounds of --seconds each: the table shows their median and range (on a shared
        /// machine whose speed drifts, use 5 or more).
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// Grid sizes to measure (edge voxels), instead of 64 and 128.
        #[arg(long, value_delimiter = ',')]
        sizes: Vec<usize>,
        /// The GPU's peak memory bandwidth in GB/s (from its data sheet), to print the share
        /// the diffusion stages reach.
        #[arg(long)]
        peak_gbs: Option<f64>,
        /// Skip the CPU twin's rate.
        #[arg(long)]
        no_cpu: bool,
        /// z-planes each GPU invocation walks (default: 32 on a GPU, up to 128 through a CPU
        /// driver): fewer puts more invocations in flight, each with a shorter sliding window.
        #[arg(long, value_name = "PLANES")]
        z_chunk: Option<u32>,
    },
    /// Build and label a heart (the default one, or a mesh): volumes per label and AHA
    /// segment, wall thickness, infarct share; `--out DIR` writes heart.vti for ParaView.
    #[command(allow_negative_numbers = true)]
    Geometry(geometry_cmd::GeometryArgs),
    /// Open the interactive viewer: the heart coloured by a live field, depots placed and
    /// moved with the mouse, plots, lessons. Without a scenario: the intramyocardial preset.
    /// `--screenshot FILE.png --frames N` renders N frames, saves the window and exits.
    View(viewer::ViewArgs),
    /// Show the GPU adapter that would be used and its limits.
    Info,
}

mod geometry_cmd;
mod run;
mod sweep_cmd;
mod viewer;

fn main() -> ExitCode {
    // `secretome geometry | head` should stop quietly, as other command-line tools do,
    // instead of panicking on a closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // clap's own message spans several lines (usage); keep its first.
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("error: {first} (see `secretome --help`)");
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command.unwrap_or(Command::Run(run::RunArgs::default())) {
        Command::Run(args) => run::run(&args),
        Command::Sweep(args) => sweep_cmd::sweep(&args),
        Command::Bench {
            large,
            seconds,
            rounds,
            sizes,
            peak_gbs,
            no_cpu,
            z_chunk,
        } => bench(large, (seconds, rounds), sizes, peak_gbs, no_cpu, z_chunk),
        Command::Geometry(args) => geometry_cmd::geometry(&args),
        Command::View(args) => viewer::execute(args),
        Command::Info => {
            let ctx = GpuContext::new().context("opening the GPU")?;
            println!("adapter: {}", ctx.report);
            println!(
                "max storage buffers per stage: {}, max workgroups per dimension: {}",
                ctx.report.max_storage_buffers_per_stage, ctx.report.max_workgroups_per_dim
            );
            Ok(())
        }
    }
}

fn bench(
    large: bool,
    (seconds, rounds): (f64, usize),
    sizes: Vec<usize>,
    peak_gbs: Option<f64>,
    no_cpu: bool,
    z_chunk: Option<u32>,
) -> Result<()> {
    if !(seconds > 0.0 && seconds.is_finite()) {
        anyhow::bail!("--seconds {seconds}: expected a positive number of seconds");
    }
    if !(1..=1000).contains(&rounds) {
        anyhow::bail!("--rounds {rounds}: expected 1 to 1000 rounds");
    }
    if let Some(p) = peak_gbs {
        if !(p > 0.0 && p.is_finite()) {
            anyhow::bail!("--peak-gbs {p}: expected the GPU's peak bandwidth in GB/s (> 0)");
        }
    }
    if let Some(z) = z_chunk {
        if !(1..=4096).contains(&z) {
            anyhow::bail!("--z-chunk {z}: expected 1 to 4096 planes per invocation");
        }
    }
    let layout = LayoutOptions {
        z_chunk,
        ..Default::default()
    };
    let mut sizes = if sizes.is_empty() {
        vec![64, 128]
    } else {
        sizes
    };
    if let Some(bad) = sizes.iter().find(|&&n| n < 8) {
        anyhow::bail!("--sizes: {bad} is too small, expected grid edges of at least 8 voxels");
    }
    if large {
        sizes.push(256);
    }
    let ctx = GpuContext::new().context("opening the GPU")?;
    println!("adapter: {}", ctx.report);
    println!("problem P1: n³ voxels, h = 100 µm, 4 species, decay only, zero-flux walls");
    println!(
        "{:>5} {:>6} {:>4} {:>7} {:>16} {:>9} {:>10} {:>10} {:>22} {:>10}",
        "grid",
        "slabs",
        "z",
        "stages",
        "updates/s",
        "steps/s",
        "GB/s",
        "B/voxel",
        "1 h of P1 (wall, dt)",
        "max error"
    );
    for n in sizes {
        let f = bench_gpu(&ctx, n, seconds, rounds, layout)
            .with_context(|| format!("benchmark at {n}³"))?;
        let share = peak_gbs
            .map(|p| format!(" ({:.0} % of peak)", f.bandwidth / 1e9 / p * 100.0))
            .unwrap_or_default();
        let range = if f.round_rates.len() > 1 {
            let lo = f.round_rates.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = f.round_rates.iter().copied().fold(0.0, f64::max);
            format!(" (rounds {:.1}–{:.1} M)", lo / 1e6, hi / 1e6)
        } else {
            String::new()
        };
        println!(
            "{:>4}³ {:>6} {:>4} {:>7} {:>14.1} M {:>9.2} {:>10.1} {:>10.1} {:>12.2} s ({:>3.0} s) {:>10.1e}{share}{range}",
            f.n,
            f.slabs,
            f.z_chunk,
            f.stages,
            f.updates_per_s / 1e6,
            f.steps_per_s,
            f.bandwidth / 1e9,
            f.bytes_per_voxel,
            f.hour_wall_s,
            f.hour_dt,
            f.hour_error
        );
    }
    println!("updates/s: species-voxel updates per second of the diffusion stages at dt = 60 s (each stage updates every species-voxel once){}", if rounds > 1 { format!("; the median of {rounds} rounds of {seconds} s, and their range") } else { String::new() });
    println!("z: z-planes each invocation walks (--z-chunk)");
    println!("GB/s: least memory traffic of those stages (fields read once, Y_(j-2) read, Y_j written, voxel words read) per second");
    if !no_cpu {
        let rate = bench_cpu(64, 2).context("CPU twin benchmark")?;
        println!(
            "CPU twin (f64, one thread) at 64³: {:.1} M species-voxel updates/s",
            rate / 1e6
        );
    }
    Ok(())
}
