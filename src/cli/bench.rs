//! `secretome bench`: the solver's speed and memory on the benchmark problem P1.

use anyhow::{Context, Result};
use clap::Args;

use secretome::bench::{bench_cpu, bench_gpu};
use secretome::sim::LayoutOptions;
use secretome::GpuContext;

/// The arguments of `secretome bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Also measure a 256³ grid (≥ 256 MiB of fields; exercises the z-slab split).
    #[arg(long)]
    pub large: bool,
    /// Seconds spent measuring the update rate at each size (in each round).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Rounds of --seconds each: the table shows their median and range (on a shared
    /// machine whose speed drifts, use 5 or more).
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Grid sizes to measure (edge voxels), instead of 64 and 128.
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<usize>,
    /// The GPU's peak memory bandwidth in GB/s (from its data sheet), to print the share
    /// the diffusion stages reach.
    #[arg(long)]
    pub peak_gbs: Option<f64>,
    /// Skip the CPU twin's rate.
    #[arg(long)]
    pub no_cpu: bool,
    /// z-planes each GPU invocation walks (default: 32 on a GPU, up to 128 through a CPU
    /// driver): fewer puts more invocations in flight, each with a shorter sliding window.
    #[arg(long, value_name = "PLANES")]
    pub z_chunk: Option<u32>,
}

/// Runs `secretome bench`: prints the adapter and one row per grid size.
pub fn bench(args: BenchArgs) -> Result<()> {
    let BenchArgs {
        large,
        seconds,
        rounds,
        sizes,
        peak_gbs,
        no_cpu,
        z_chunk,
    } = args;
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
