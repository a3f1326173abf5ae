//! Benchmark problems and their measurement (`secretome bench`).
//!
//! **Heart**: the intramyocardial preset (the default heart with its LAD infarct, the
//! border-zone depot, four species, every term on) at a given voxel size; its rate is counted
//! over tissue voxels, the voxels the brick grid stores.
//!
//! **P1**: an n³ box of tissue, h = 100 µm, four species with D (µm²/min) 6000, 4000, 8000,
//! 5000 and first-order decay (1/min) 0.01, 0.05, 0.03, 0.005, zero-flux walls, no other term,
//! starting from `1 + ½ cos(πx/L) cos(πy/L) cos(πz/L)` ng/mL. That start field is an exact
//! eigenvector of the discrete diffusion operator with zero-flux walls, so the exact solution
//! of the discrete-space problem is known and every run reports its error against it.

use std::f64::consts::PI;
use web_time::Instant;

use crate::base::Grid;
use crate::base::{Species, SpeciesTable, TissueLabel};
use crate::error::Result;
use crate::gpu::GpuContext;
use crate::problem::build::{build, Built};
use crate::problem::{Problem, Terms};
use crate::scenario::Scenario;
use crate::sim::{
    bytes_per_voxel, grid_bytes_per_voxel, stored_bricks, CpuReference, LayoutOptions, Schedule,
    Simulation, BRICK_BYTES,
};

/// P1's species: (id, D in µm²/min, decay in 1/min).
pub const P1_SPECIES: [(&str, f64, f64); 4] = [
    ("VEGF", 6000.0, 0.01),
    ("HGF", 4000.0, 0.05),
    ("SDF1a", 8000.0, 0.03),
    ("TSG6", 5000.0, 0.005),
];

/// P1 voxel size, mm.
pub const P1_SPACING: f64 = 0.1;

/// The P1 problem on an n³ grid with time step `dt` (s).
pub fn p1_problem(n: usize, dt: f64) -> Problem {
    let species = SpeciesTable {
        species: P1_SPECIES
            .iter()
            .map(|&(id, d, k)| Species::simple(id, d * 1e-6 / 60.0, k / 60.0))
            .collect(),
    };
    let grid = Grid::filled([n, n, n], P1_SPACING, TissueLabel::Myocardium);
    let mut p = Problem::new(grid, species, dt);
    p.terms = Terms {
        diffusion: true,
        decay: true,
        ..Terms::NONE
    };
    let nv = n * n * n;
    let modes: Vec<f64> = (0..n)
        .map(|i| (PI * (i as f64 + 0.5) / n as f64).cos())
        .collect();
    for s in 0..4 {
        for z in 0..n {
            for y in 0..n {
                for x in 0..n {
                    let v = (z * n + y) * n + x;
                    p.initial[s * nv + v] = (1.0 + 0.5 * modes[x] * modes[y] * modes[z]) as f32;
                }
            }
        }
    }
    p
}

/// Exact solution of P1 (discrete in space, continuous in time) at time `t` (s), species `s`,
/// voxel `(x, y, z)`.
pub fn p1_exact(n: usize, s: usize, t: f64, x: usize, y: usize, z: usize) -> f64 {
    let (_, d_um2_min, k_min) = P1_SPECIES[s];
    let d = d_um2_min * 1e-6 / 60.0;
    let k = k_min / 60.0;
    let h = P1_SPACING;
    let lambda = 3.0 * 4.0 * d / (h * h) * (PI / (2.0 * n as f64)).sin().powi(2);
    let m = |i: usize| (PI * (i as f64 + 0.5) / n as f64).cos();
    (-k * t).exp() * (1.0 + 0.5 * (-lambda * t).exp() * m(x) * m(y) * m(z))
}

/// Largest error of fields against the P1 exact solution at time t, relative to its maximum.
pub fn p1_error(n: usize, t: f64, fields: &[f32]) -> f64 {
    let nv = n * n * n;
    let mut worst: f64 = 0.0;
    for s in 0..4 {
        let max = p1_exact(n, s, t, 0, 0, 0);
        for z in 0..n {
            for y in 0..n {
                for x in 0..n {
                    let v = (z * n + y) * n + x;
                    let e = (fields[s * nv + v] as f64 - p1_exact(n, s, t, x, y, z)).abs() / max;
                    worst = worst.max(e);
                }
            }
        }
    }
    worst
}

/// Figures of one grid size.
#[derive(Clone, Debug)]
pub struct BenchFigures {
    pub n: usize,
    pub species: usize,
    pub slabs: usize,
    /// RKL1 stages per step at the rate-measurement step.
    pub stages: usize,
    /// Species-voxel updates per second: every diffusion stage updates every species-voxel.
    /// The median of the rounds.
    pub updates_per_s: f64,
    /// The rate of each round, in the order measured.
    pub round_rates: Vec<f64>,
    /// Time steps per second at the rate-measurement step.
    pub steps_per_s: f64,
    /// Effective memory bandwidth of the diffusion stages, bytes/s, counting the least
    /// traffic a stage needs: read the fields once, read Y_{j-2}, write Y_j, read the voxel
    /// words.
    pub bandwidth: f64,
    /// GPU memory per voxel, bytes.
    pub bytes_per_voxel: f64,
    /// One simulated hour of P1: wall time (s), time step (s), steps, and max relative error.
    pub hour_wall_s: f64,
    pub hour_dt: f64,
    pub hour_steps: usize,
    pub hour_error: f64,
    pub setup_s: f64,
}

/// Time step used for the hour of P1, s.
pub const P1_HOUR_DT: f64 = 600.0;

/// The median of `values` (the mean of the middle two for an even count; NaN when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Measures the GPU solver on P1 at n³, laid out as `layout` asks. The update rate is
/// measured in `rounds` rounds of at least `min_seconds` each and reported as their median,
/// so that a shared machine's drift shows as a range instead of moving the figure.
pub fn bench_gpu(
    ctx: &GpuContext,
    n: usize,
    min_seconds: f64,
    rounds: usize,
    layout: LayoutOptions,
) -> Result<BenchFigures> {
    let t0 = Instant::now();
    let p = p1_problem(n, 60.0);
    let mut sim = Simulation::with_layout(ctx, &p, layout)?;
    sim.finish()?;
    let setup_s = t0.elapsed().as_secs_f64();
    // Rate: BioFVM's usual 60 s step.
    sim.step(2);
    sim.finish()?;
    let stages = sim.plan().stages();
    let voxels = (n * n * n) as f64;
    let step_rates = step_rates(&mut sim, rounds, min_seconds)?;
    let steps_per_s = median(&step_rates);
    let per_step = stages as f64 * voxels * 4.0;
    let round_rates: Vec<f64> = step_rates.iter().map(|r| r * per_step).collect();
    let updates_per_s = steps_per_s * per_step;
    let bytes_per_voxel = sim.gpu_bytes() as f64 / voxels;
    let stage_bytes = (3 * 16 * crate::gpu::layout::packs(4) + 4) as f64;
    let bandwidth = steps_per_s * stages as f64 * voxels * stage_bytes;
    drop(sim);

    // One hour of P1 from the start; the median of three runs (wall times vary on shared
    // machines).
    let p = p1_problem(n, P1_HOUR_DT);
    let hour_steps = (3600.0 / P1_HOUR_DT).round() as usize;
    let mut walls = Vec::new();
    let mut hour_error = 0.0;
    let mut slabs = 0;
    for _ in 0..3 {
        let mut sim = Simulation::with_layout(ctx, &p, layout)?;
        sim.finish()?;
        let t = Instant::now();
        sim.step(hour_steps);
        sim.finish()?;
        walls.push(t.elapsed().as_secs_f64());
        let fields = sim.read_fields()?;
        hour_error = p1_error(n, sim.time(), &fields);
        slabs = sim.slab_count();
    }
    let hour_wall_s = median(&walls);
    Ok(BenchFigures {
        n,
        species: 4,
        slabs,
        stages,
        updates_per_s,
        round_rates,
        steps_per_s,
        bandwidth,
        bytes_per_voxel,
        hour_wall_s,
        hour_dt: P1_HOUR_DT,
        hour_steps,
        hour_error,
        setup_s,
    })
}

/// Species-voxel stage updates per second of the CPU twin on P1 at n³ (single thread, f64).
pub fn bench_cpu(n: usize, steps: usize) -> Result<f64> {
    let p = p1_problem(n, 60.0);
    let mut cpu = CpuReference::new(&p)?;
    let t = Instant::now();
    cpu.step(steps);
    let elapsed = t.elapsed().as_secs_f64();
    Ok(steps as f64 * cpu.plan().stages() as f64 * (n * n * n * 4) as f64 / elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty_lists() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
        assert!(median(&[]).is_nan());
    }
}

/// The heart benchmark's scenario: the intramyocardial preset (the default heart with its LAD
/// infarct, the border-zone depot, four species, every term on).
pub const HEART_SCENARIO: &str = include_str!("../assets/scenarios/intramyocardial.toml");

/// The heart benchmark's problem at `spacing_mm`.
pub fn heart_problem(spacing_mm: f64) -> Result<Built> {
    heart_problem_refined(spacing_mm, None)
}

/// The heart benchmark's problem at `spacing_mm`, refined around its depot down to
/// `finest_mm` (`[grid] finest`) when given.
pub fn heart_problem_refined(spacing_mm: f64, finest_mm: Option<f64>) -> Result<Built> {
    let mut sc = Scenario::parse(
        HEART_SCENARIO,
        "intramyocardial.toml",
        std::path::Path::new("assets/scenarios"),
        &SpeciesTable::default_table()?,
    )?;
    sc.grid_spacing_mm = spacing_mm;
    sc.grid_finest_mm = finest_mm;
    build(&sc)
}

/// What the heart's grid is and what it needs, without a GPU.
#[derive(Clone, Debug)]
pub struct HeartGrid {
    pub spacing_mm: f64,
    /// Levels below the coarse grid (0 without refinement) and the finest voxel edge, mm.
    pub levels: usize,
    pub finest_mm: f64,
    pub dims: [usize; 3],
    pub box_voxels: usize,
    /// Voxels of myocardium, border zone and infarct (the voxels stored), every level's.
    pub tissue_voxels: usize,
    /// Bricks of 4³ voxels that hold tissue (the bricks stored).
    pub bricks: usize,
    /// GPU memory the grid needs (as `sim::grid_bytes`: its tissue voxels and brick table), bytes.
    pub grid_bytes: u64,
    /// The part of it that is the solver's state (fields, voxel words, brick table; not the
    /// exposure readouts and segments), bytes.
    pub state_bytes: u64,
}

impl HeartGrid {
    pub fn of(spacing_mm: f64, problem: &Problem) -> HeartGrid {
        let g = &problem.grid;
        let grids = problem.level_grids();
        let tissue_voxels = grids
            .iter()
            .map(|g| g.labels.iter().filter(|l| l.is_tissue()).count())
            .sum::<usize>();
        // One pass over each level's grid for its bricks; the byte counts follow from them.
        let bricks = grids.iter().map(|g| stored_bricks(g)).sum::<usize>();
        let table = bricks as u64 * BRICK_BYTES;
        let tissue = tissue_voxels as u64;
        let grid = tissue * grid_bytes_per_voxel(problem) + table;
        let state_bytes = tissue * bytes_per_voxel(problem.n_species()) as u64 + table;
        HeartGrid {
            spacing_mm,
            levels: problem.finest_level(),
            finest_mm: grids[grids.len() - 1].spacing,
            dims: g.dims,
            box_voxels: g.voxel_count(),
            tissue_voxels,
            bricks,
            grid_bytes: grid,
            state_bytes,
        }
    }
}

/// The heart benchmark's figures at one spacing.
#[derive(Clone, Debug)]
pub struct HeartFigures {
    pub grid: HeartGrid,
    pub species: usize,
    /// RKL1 stages per step at the preset's time step.
    pub stages: usize,
    /// The preset's time step, s.
    pub dt: f64,
    /// Steps per second (median of the rounds).
    pub steps_per_s: f64,
    /// Species-voxel updates per second counted over tissue voxels (every stage updates every
    /// species of every tissue voxel once); the median of the rounds, and each round's.
    pub tissue_updates_per_s: f64,
    pub round_rates: Vec<f64>,
    /// Wall time of one simulated hour at the preset's time step, s.
    pub hour_wall_s: f64,
    /// GPU memory the simulation holds, bytes, and per tissue voxel.
    pub gpu_bytes: u64,
    pub bytes_per_tissue_voxel: f64,
    /// The part of it that is not the exposure readouts and AHA segments (the solver's
    /// state: fields, voxel words, brick table, ghosts, ledger, compartments), per tissue voxel.
    pub state_bytes_per_tissue_voxel: f64,
    /// Building the geometry and the problem, s.
    pub build_s: f64,
}

/// Measures the GPU solver on the heart benchmark at `spacing_mm`: the rate in `rounds`
/// rounds of at least `min_seconds`, then one simulated hour.
pub fn bench_heart(
    ctx: &GpuContext,
    spacing_mm: f64,
    finest_mm: Option<f64>,
    min_seconds: f64,
    rounds: usize,
) -> Result<HeartFigures> {
    let t0 = Instant::now();
    let built = heart_problem_refined(spacing_mm, finest_mm)?;
    let build_s = t0.elapsed().as_secs_f64();
    let grid = HeartGrid::of(spacing_mm, &built.problem);
    let mut sim = Simulation::new(ctx, &built.problem)?;
    let mut schedule = Schedule::new(built.events.clone());
    for e in schedule.take_due(0) {
        e.apply(&mut sim)?;
    }
    sim.step(2);
    sim.finish()?;
    let stages = sim.plan().stages();
    let ns = sim.n_species();
    let per_step = (stages * ns * grid.tissue_voxels) as f64;
    let step_rates = step_rates(&mut sim, rounds, min_seconds)?;
    let steps_per_s = median(&step_rates);
    let dt = sim.plan().dt;
    let hour_steps = (3600.0 / dt).ceil() as usize;
    let t = Instant::now();
    sim.step(hour_steps);
    sim.finish()?;
    let hour_wall_s = t.elapsed().as_secs_f64();
    let gpu_bytes = sim.gpu_bytes();
    Ok(HeartFigures {
        species: ns,
        stages,
        dt,
        steps_per_s,
        tissue_updates_per_s: steps_per_s * per_step,
        round_rates: step_rates.iter().map(|r| r * per_step).collect(),
        hour_wall_s,
        gpu_bytes,
        bytes_per_tissue_voxel: gpu_bytes as f64 / grid.tissue_voxels.max(1) as f64,
        state_bytes_per_tissue_voxel: (gpu_bytes - sim.readout_bytes()) as f64
            / grid.tissue_voxels.max(1) as f64,
        build_s,
        grid,
    })
}

/// Steps per second of each of `rounds` rounds (at least one), each stepping for at least
/// `min_seconds` and 4 steps, 4 at a time.
fn step_rates(sim: &mut Simulation, rounds: usize, min_seconds: f64) -> Result<Vec<f64>> {
    let mut rates = Vec::with_capacity(rounds.max(1));
    for _ in 0..rounds.max(1) {
        let mut steps = 0usize;
        let t = Instant::now();
        while t.elapsed().as_secs_f64() < min_seconds || steps < 4 {
            sim.step(4);
            sim.finish()?;
            steps += 4;
        }
        rates.push(steps as f64 / t.elapsed().as_secs_f64());
    }
    Ok(rates)
}
