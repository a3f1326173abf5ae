//! What levels around a depot would cost (issue 17's design question: the finest level sets
//! the stage count, or levels subcycle). The intramyocardial preset's depot, a 2 mm sphere, in
//! a 12 mm box of 1 mm voxels, refined within 3 decay lengths of its surface (HGF 29 µm,
//! TSG-6 282 µm in myocardium) down to 500 … 31 µm: cells per level, RKL1 stages at dt = 60 s,
//! and cell-stages per step both ways. `cargo run --release --example levels_cost`
use secretome::problem::scheme::StagePlan;
use secretome::sim::levels::{depot_refinement, shell_refinement, Composite};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let table = secretome::SpeciesTable::default_table()?;
    let d = table
        .species
        .iter()
        .map(|s| s.diffusion.value)
        .fold(0.0, f64::max);
    let (n, h, centre, radius, dt) = (12usize, 1.0, [6.0; 3], 2.0, 60.0);
    println!("largest diffusivity {d} mm²/s, dt = {dt} s");
    println!("species  finest  cells per level (coarsest first)  stages  cell-stages: global / subcycled");
    for (name, lambda) in [("HGF", 0.029), ("TSG6", 0.282)] {
        for levels in 1..=5u8 {
            let grid = Composite::new(
                [n; 3],
                h,
                levels,
                shell_refinement(h, centre, radius, 3.0 * lambda),
            )?;
            let per = grid.per_level();
            let stages = StagePlan::new(dt, grid.dt_fe(d)).stages();
            // Subcycling: level l takes 2^l steps of dt/2^l, each with its own stage count.
            let subcycled: f64 = per
                .iter()
                .enumerate()
                .map(|(l, &cells)| {
                    let (hl, k) = (h / f64::from(1u32 << l), f64::from(1u32 << l));
                    let s = StagePlan::new(dt / k, hl * hl / (6.0 * d)).stages();
                    cells as f64 * k * s as f64
                })
                .sum();
            println!(
                "{name:<8} {:>5.1} µm  {per:?}  {stages}  {} / {subcycled:.0}",
                1000.0 * h / f64::from(1u32 << levels),
                grid.cells.len() * stages
            );
        }
    }
    // All four species at once (myocardium's decay lengths), each level reaching 3 decay
    // lengths of the species it is the first to resolve, down to a cap.
    println!("all species (VEGF 19, HGF 29, SDF-1a 48, TSG-6 282 µm), by cap:");
    let lambdas = [0.019, 0.029, 0.048, 0.282];
    for cap in [0.25, 0.125, 0.0625, 0.03125] {
        let (levels, refine) = depot_refinement(h, cap, centre, radius, &lambdas, 3.0);
        let grid = Composite::new([n; 3], h, levels, refine)?;
        let per = grid.per_level();
        let stages = StagePlan::new(dt, grid.dt_fe(d)).stages();
        println!(
            "  finest {:>5.1} µm  {per:?}  {stages} stages  {} cell-stages per step",
            1000.0 * cap,
            grid.cells.len() * stages
        );
    }
    Ok(())
}
