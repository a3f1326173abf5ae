//! What `[grid] finest` makes of a scenario (issue 17): the problem built unrefined and with
//! each finest edge given, its tissue leaves and stored voxels per level, the RKL1 stages per
//! step and the time the build took.
//! `cargo run --release --example scenario_levels -- assets/scenarios/intramyocardial.toml 0.25 0.125`
use std::path::Path;
use std::time::Instant;

use secretome::problem::build::build;
use secretome::scenario::Scenario;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((file, finest)) = args.split_first() else {
        return Err("usage: scenario_levels SCENARIO.toml [FINEST_MM ...]".into());
    };
    let mut sc = Scenario::load(Path::new(file))?;
    println!("{file}: {} mm voxels", sc.grid_spacing_mm);
    let mut cases = vec![None];
    for f in finest {
        cases.push(Some(f.parse::<f64>()?));
    }
    for finest in cases {
        sc.grid_finest_mm = finest;
        let start = Instant::now();
        let p = build(&sc)?.problem;
        let seconds = start.elapsed().as_secs_f64();
        let off = p.level_offsets();
        let levels = p.finest_level() + 1;
        let mut leaves = vec![0usize; levels];
        let mut stored = vec![0usize; levels];
        let mut patches = vec![0usize; levels];
        for (k, g) in p.level_grids().iter().enumerate() {
            let l = p.grid_level(k);
            leaves[l] += (off[k]..off[k + 1])
                .filter(|&v| p.label_at(v).is_tissue())
                .count();
            stored[l] += g.voxel_count();
            patches[l] += 1;
        }
        println!(
            "finest {:>9}: tissue leaves per level {leaves:?} (total {}), stored voxels {stored:?} in {patches:?} patches, {} stages at dt = {} s, built in {seconds:.1} s",
            finest.map_or("none".into(), |f| format!("{f} mm")),
            leaves.iter().sum::<usize>(),
            p.plan().stages(),
            p.dt,
        );
    }
    Ok(())
}
