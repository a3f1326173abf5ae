//! `secretome bench`: the solver's speed and memory on the benchmark problem P1.

use anyhow::{Context, Result};
use clap::Args;

use secretome::bench::{bench_cpu, bench_gpu, bench_heart, heart_problem_refined, HeartGrid};
use secretome::sim::LayoutOptions;
use secretome::GpuContext;

/// The arguments of `secretome bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Also measure a 256³ grid (≥ 256 MiB of fields; exercises the slab split).
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
    /// Workgroups per species pack of each slab's dispatch (default: a quarter of the
    /// diffusion's work units, bricks or brick columns, so each pass of 64 invocations has
    /// four; at most 4096 on a GPU or 16 per thread through a CPU driver); each walks an
    /// equal run of consecutive bricks.
    #[arg(long)]
    pub groups: Option<u32>,
    /// Measure the heart instead of P1: the intramyocardial preset (default heart, LAD
    /// infarct, its depot, every term) at these voxel sizes in mm, e.g. `--heart 1,0.5`.
    #[arg(long, value_delimiter = ',', value_name = "MM")]
    pub heart: Vec<f64>,
    /// With --heart: build the hearts and print the grid and the GPU memory it needs, without
    /// running anything on the GPU.
    #[arg(long, requires = "heart")]
    pub dry: bool,
    /// With --heart: also measure each heart refined around its depot down to these voxel
    /// edges in mm (`[grid] finest`), e.g. `--finest 0.25,0.125`, with each one's cost against
    /// the unrefined heart at the same voxel size.
    #[arg(long, requires = "heart", value_delimiter = ',', value_name = "MM")]
    pub finest: Vec<f64>,
}

/// Runs `secretome bench`: prints the adapter and one row per grid size.
pub fn bench(args: BenchArgs) -> Result<()> {
    if !args.heart.is_empty() {
        return bench_hearts(&args);
    }
    let BenchArgs {
        large,
        seconds,
        rounds,
        sizes,
        peak_gbs,
        no_cpu,
        groups,
        ..
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
    if let Some(g) = groups {
        if !(1..=65535).contains(&g) {
            anyhow::bail!("--groups {g}: expected 1 to 65535 workgroups");
        }
    }
    let layout = LayoutOptions {
        groups,
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
        "{:>5} {:>6} {:>7} {:>16} {:>9} {:>10} {:>10} {:>22} {:>10}",
        "grid",
        "slabs",
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
        let range = round_range(&f.round_rates);
        println!(
            "{:>4}³ {:>6} {:>7} {:>14.1} M {:>9.2} {:>10.1} {:>10.1} {:>12.2} s ({:>3.0} s) {:>10.1e}{share}{range}",
            f.n,
            f.slabs,
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

/// `bench --heart MM,…`: the heart benchmark at each voxel size (`--dry`: its grid and memory
/// only).
fn bench_hearts(args: &BenchArgs) -> Result<()> {
    if let Some(h) = args.heart.iter().find(|&&h| !(0.1..=10.0).contains(&h)) {
        anyhow::bail!("--heart {h}: expected voxel sizes from 0.1 to 10 mm");
    }
    let coarsest = args.heart.iter().copied().fold(0.0, f64::max);
    if let Some(f) = args
        .finest
        .iter()
        .find(|&&f| !(f > 0.0 && f * 32.0 >= coarsest && f.is_finite()))
    {
        anyhow::bail!("--finest {f}: expected voxel edges from 1/32 of the --heart voxels up");
    }
    // Each heart unrefined, then refined down to each finest edge finer than its voxels.
    let runs: Vec<(f64, Option<f64>)> = args
        .heart
        .iter()
        .flat_map(|&h| {
            std::iter::once((h, None)).chain(
                args.finest
                    .iter()
                    .filter(move |&&f| f < h)
                    .map(move |&f| (h, Some(f))),
            )
        })
        .collect();
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        anyhow::bail!(
            "--seconds {}: expected a positive number of seconds",
            args.seconds
        );
    }
    if !(1..=1000).contains(&args.rounds) {
        anyhow::bail!("--rounds {}: expected 1 to 1000 rounds", args.rounds);
    }
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let grid_line = |g: &HeartGrid| {
        let voxel = if g.levels > 0 {
            format!("{}→{}", g.spacing_mm, g.finest_mm)
        } else {
            format!("{}", g.spacing_mm)
        };
        format!(
            "{:>9} mm {:>4}×{:>3}×{:>3} {:>11} {:>11} ({:>4.1} %)",
            voxel,
            g.dims[0],
            g.dims[1],
            g.dims[2],
            g.box_voxels,
            g.tissue_voxels,
            100.0 * g.tissue_voxels as f64 / g.box_voxels.max(1) as f64
        )
    };
    println!("problem: the intramyocardial preset (default heart, LAD infarct, its depot, 4 species, every term on)");
    if args.dry {
        println!(
            "{:>12} {:>12} {:>11} {:>20} {:>8} {:>14} {:>16} {:>14}",
            "voxel",
            "grid",
            "box voxels",
            "tissue voxels",
            "bricks",
            "grid memory",
            "per tissue voxel",
            "state only"
        );
        for &(h, f) in &runs {
            let built =
                heart_problem_refined(h, f).with_context(|| format!("the heart at {h} mm"))?;
            let g = HeartGrid::of(h, &built.problem);
            let per = |b: u64| b as f64 / g.tissue_voxels.max(1) as f64;
            println!(
                "{} {:>8} {:>10.2} GiB {:>14.1} B {:>12.1} B",
                grid_line(&g),
                g.bricks,
                gib(g.grid_bytes),
                per(g.grid_bytes),
                per(g.state_bytes)
            );
        }
        println!("grid memory: what the brick grid stores (the tissue voxels' fields, voxel words, exposure and segments, and the table of the bricks of 4³ voxels that hold tissue), without ghost layers, ledger and compartments");
        println!("state only: the same without the exposure readouts and segments (two copies of the fields, voxel words, brick table)");
        return Ok(());
    }
    let ctx = GpuContext::new().context("opening the GPU")?;
    println!("adapter: {}", ctx.report);
    println!(
        "{:>12} {:>12} {:>11} {:>20} {:>7} {:>20} {:>9} {:>14} {:>10} {:>8} {:>8} {:>8}",
        "voxel",
        "grid",
        "box voxels",
        "tissue voxels",
        "stages",
        "tissue updates/s",
        "steps/s",
        "1 h (wall)",
        "B/tissue voxel",
        "(state)",
        "build",
        "cost"
    );
    let mut unrefined_hour = f64::NAN;
    for &(h, finest) in &runs {
        let f = bench_heart(&ctx, h, finest, args.seconds, args.rounds)
            .with_context(|| format!("the heart at {h} mm"))?;
        if finest.is_none() {
            unrefined_hour = f.hour_wall_s;
        }
        let range = round_range(&f.round_rates);
        println!(
            "{} {:>7} {:>18.1} M {:>9.2} {:>9.2} s ({:.0} s) {:>10.1} {:>8.1} {:>6.1} s {:>7.2}×{range}",
            grid_line(&f.grid),
            f.stages,
            f.tissue_updates_per_s / 1e6,
            f.steps_per_s,
            f.hour_wall_s,
            f.dt,
            f.bytes_per_tissue_voxel,
            f.state_bytes_per_tissue_voxel,
            f.build_s,
            f.hour_wall_s / unrefined_hour
        );
    }
    println!("tissue updates/s: species-voxel updates per second over tissue voxels only (each stage updates every species of every tissue voxel once); the median of the rounds");
    println!("1 h (wall): one simulated hour at the preset's time step (in brackets)");
    println!("B/tissue voxel: all the GPU memory the simulation holds, per tissue voxel; (state): without the exposure readouts and segments");
    println!("voxel a→b: refined around the depot down to b mm (--finest); tissue voxels count every level's; build: the geometry and the problem, s; cost: 1 h (wall) over the unrefined heart's at the same voxel size");
    Ok(())
}

/// ` (rounds lo–hi M)`: the range of the rounds' rates, when there was more than one.
fn round_range(rates: &[f64]) -> String {
    if rates.len() < 2 {
        return String::new();
    }
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = rates.iter().copied().fold(0.0, f64::max);
    format!(" (rounds {:.1}–{:.1} M)", lo / 1e6, hi / 1e6)
}
