//! `secretome run`: the default headless run (until scenario files arrive with the biology
//! issue): a block of myocardium beside a blood pool, an infarct with its border zone, and a
//! depot of MSCs injected into the border zone. Prints how far the factors spread and the
//! mass ledger.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;

use secretome::model::{LabelKind, TissueLabel};
use secretome::{GpuContext, Grid, Problem, Simulation, SpeciesTable};

#[derive(Args, Clone, Debug)]
#[command(allow_negative_numbers = true)]
pub struct RunArgs {
    /// Simulated time, hours.
    #[arg(long, default_value_t = 6.0)]
    pub hours: f64,
    /// Time step, s (any value is stable).
    #[arg(long, default_value_t = 60.0)]
    pub dt: f64,
    /// Voxels along each edge of the block.
    #[arg(long, default_value_t = 80)]
    pub grid: usize,
    /// Voxel edge, mm.
    #[arg(long, default_value_t = 0.25)]
    pub spacing: f64,
    /// Cells in the depot.
    #[arg(long, default_value_t = 1e6)]
    pub cells: f64,
    /// Species table (TOML); the shipped table by default.
    #[arg(long)]
    pub species: Option<std::path::PathBuf>,
    /// Reports printed during the run.
    #[arg(long, default_value_t = 6)]
    pub reports: usize,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            hours: 6.0,
            dt: 60.0,
            grid: 80,
            spacing: 0.25,
            cells: 1e6,
            species: None,
            reports: 6,
        }
    }
}

/// The demonstration block: blood pool along z = 0, infarct sphere with a border-zone shell.
fn block(n: usize, h: f64) -> (Grid, usize) {
    let mut g = Grid::filled([n, n, n], h, TissueLabel::Myocardium);
    let c = n as f64 / 2.0;
    let infarct_r = n as f64 * 0.18;
    let bz = 4.0 / h; // 4 mm border zone
    let pool = (n / 8).max(1);
    for z in 0..n {
        for y in 0..n {
            for x in 0..n {
                let i = g.index(x, y, z);
                let r = ((x as f64 + 0.5 - c).powi(2)
                    + (y as f64 + 0.5 - c).powi(2)
                    + (z as f64 + 0.5 - c).powi(2))
                .sqrt();
                g.labels[i] = if z < pool {
                    TissueLabel::BloodLv
                } else if r < infarct_r {
                    TissueLabel::Infarct
                } else if r < infarct_r + bz {
                    TissueLabel::BorderZone
                } else {
                    TissueLabel::Myocardium
                };
            }
        }
    }
    // The depot sits in the border zone, on the x axis through the centre.
    let dx = (c + infarct_r + bz * 0.5) as usize;
    let depot = g.index(dx.min(n - 1), n / 2, n / 2);
    (g, depot)
}

pub fn run(a: &RunArgs) -> Result<()> {
    if !(a.hours > 0.0 && a.hours.is_finite()) {
        bail!("--hours {}: expected a positive duration", a.hours);
    }
    if !(a.dt > 0.0 && a.dt.is_finite()) {
        bail!("--dt {}: expected a positive time step in seconds", a.dt);
    }
    if a.grid < 16 {
        bail!("--grid {}: expected at least 16 voxels per edge", a.grid);
    }
    if !(a.spacing > 0.0 && a.spacing.is_finite()) {
        bail!(
            "--spacing {}: expected a positive voxel size in mm",
            a.spacing
        );
    }
    if !(a.cells >= 0.0 && a.cells.is_finite()) {
        bail!("--cells {}: expected a cell count ≥ 0", a.cells);
    }
    if a.reports == 0 {
        bail!("--reports 0: expected at least one report");
    }
    let species = match &a.species {
        Some(p) => SpeciesTable::load(p)?,
        None => SpeciesTable::default_table()?,
    };
    let ctx = GpuContext::new().context("opening the GPU")?;
    let (grid, depot) = block(a.grid, a.spacing);
    let mut p = Problem::new(grid, species, a.dt);
    // Secretion spread evenly (weights summing to one) over the tissue voxels within 1 mm.
    let r_vox = (1.0 / a.spacing).max(1.0);
    let [dx, dy, dz] = p.grid.coords(depot);
    let mut voxels = Vec::new();
    for (i, l) in p.grid.labels.iter().enumerate() {
        let [x, y, z] = p.grid.coords(i);
        let d2 = (x as f64 - dx as f64).powi(2)
            + (y as f64 - dy as f64).powi(2)
            + (z as f64 - dz as f64).powi(2);
        if l.is_tissue() && d2 <= r_vox * r_vox {
            voxels.push(i);
        }
    }
    let vol = p.grid.voxel_ml();
    for (s, sp) in p.species.species.clone().iter().enumerate() {
        for &v in &voxels {
            let fold = if matches!(
                p.grid.labels[v],
                TissueLabel::BorderZone | TissueLabel::Infarct
            ) {
                sp.hypoxia_fold.value
            } else {
                1.0
            };
            p.sources.add_amount(
                v,
                s,
                a.cells * sp.secretion.value * fold / voxels.len() as f64,
                vol,
            );
        }
    }
    let mut sim = Simulation::new(&ctx, &p)?;
    let n = p.grid.voxel_count();
    println!("adapter: {}", ctx.report);
    println!(
        "grid {0}³ × {1} mm ({2:.1} mL of tissue), {3} species, dt = {4} s ({5} RKL1 stages), depot of {6:.2e} cells in the border zone",
        a.grid,
        a.spacing,
        p.grid.labels.iter().filter(|l| l.is_tissue()).count() as f64 * vol,
        p.n_species(),
        a.dt,
        sim.plan().stages(),
        a.cells
    );
    let total_steps = (a.hours * 3600.0 / a.dt).ceil() as usize;
    let per_report = total_steps.div_ceil(a.reports).max(1);
    let t0 = Instant::now();
    let mut done = 0;
    while done < total_steps {
        let k = per_report.min(total_steps - done);
        sim.step(k);
        done += k;
        let f = sim.read_fields()?;
        println!(
            "t = {:.2} h{:>13} {:>17} {:>17} {:>16}",
            sim.time() / 3600.0,
            "",
            "max (ng/mL)",
            "BZ mean (ng/mL)",
            "above EC50 (µL)"
        );
        for (s, sp) in p.species.species.iter().enumerate() {
            let field = &f[s * n..(s + 1) * n];
            let (mut bz_sum, mut bz_n, mut above) = (0.0f64, 0usize, 0usize);
            let mut max = 0.0f32;
            for (v, l) in p.grid.labels.iter().enumerate() {
                if l.kind() != LabelKind::Tissue {
                    continue;
                }
                max = max.max(field[v]);
                if *l == TissueLabel::BorderZone {
                    bz_sum += field[v] as f64;
                    bz_n += 1;
                }
                if field[v] as f64 > sp.ec50.value {
                    above += 1;
                }
            }
            println!(
                "  {:<16} {:>17.4} {:>17.5} {:>16.2}",
                sp.id,
                max,
                bz_sum / bz_n.max(1) as f64,
                above as f64 * vol * 1e3
            );
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let ledger = sim.ledger()?;
    println!("mass ledger (ng since the start; closure = unaccounted fraction):");
    println!(
        "  {:<8} {:>10} {:>10} {:>10} {:>11} {:>11} {:>10} {:>9}",
        "species",
        "secreted",
        "degraded",
        "taken up",
        "→ plasma",
        "→ blood",
        "in tissue",
        "closure"
    );
    for (s, l) in ledger.species.iter().enumerate() {
        println!(
            "  {:<8} {:>10.3e} {:>10.3e} {:>10.3e} {:>11.3e} {:>11.3e} {:>10.3e} {:>9.1e}",
            p.species.species[s].id,
            l.secreted,
            l.degraded,
            l.taken_up,
            l.to_plasma_capillary,
            l.to_blood_faces,
            l.in_tissue,
            l.closure_error(sim.initial_amounts()[s])
        );
    }
    println!(
        "{} steps in {:.2} s wall time ({:.1} steps/s)",
        total_steps,
        wall,
        total_steps as f64 / wall
    );
    Ok(())
}
