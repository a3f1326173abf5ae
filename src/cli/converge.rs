//! `secretome converge [SCENARIO]`: the scenario at successively finer voxels, each an ordinary
//! run in `DIR/<h>mm` (`--spacings`: the whole grid) or `DIR/finest_<h>mm` (`--finest`: refined
//! around the depots down to that edge), then the headline readouts per level, the change
//! between the two finest and Richardson's estimate (`secretome::batch::converge`). Exits
//! non-zero when a change exceeds `--tolerance`. Levels that finished are read, not run again;
//! stopped ones resume.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use secretome::batch::converge::{
    default_finest, default_spacings, finest_dir, finest_scenario, level_dir, level_scenario,
    level_state, table, write_csv, Level, LevelState,
};
use secretome::batch::RunOptions;
use secretome::GpuContext;

use super::run::{execute, load_scenario, RunArgs};

#[derive(Args, Clone, Debug)]
#[command(allow_negative_numbers = true)]
pub struct ConvergeArgs {
    /// Scenario file (TOML). Default: the intramyocardial preset.
    pub scenario: Option<PathBuf>,
    /// Voxel edges of the levels, mm, coarsest first: the whole grid at each (default, for a
    /// scenario without `[grid] finest`: twice the scenario's, the scenario's, half of it).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "MM",
        conflicts_with = "finest"
    )]
    pub spacings: Option<Vec<f64>>,
    /// Finest voxel edges of the levels, mm, coarsest first: the scenario's grid refined
    /// around its depots down to each (default, for a scenario with `[grid] finest`: that edge
    /// and the two coarser ones, doubling).
    #[arg(long, value_delimiter = ',', value_name = "MM")]
    pub finest: Option<Vec<f64>>,
    /// Largest relative change allowed between the two finest levels in any headline readout.
    #[arg(long, default_value_t = 0.03)]
    pub tolerance: f64,
    /// Output directory (default: out/converge/<scenario name>); level h runs in DIR/<h>mm.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the scenario's duration, hours.
    #[arg(long)]
    pub hours: Option<f64>,
    /// Replace the scenario's time step, s.
    #[arg(long)]
    pub dt: Option<f64>,
}

pub fn converge(a: &ConvergeArgs) -> Result<()> {
    if !(a.tolerance > 0.0 && a.tolerance.is_finite()) {
        bail!(
            "--tolerance {}: expected a positive relative change, e.g. 0.03",
            a.tolerance
        );
    }
    let run_args = RunArgs {
        hours: a.hours,
        dt: a.dt,
        ..RunArgs::default()
    };
    let sc = load_scenario(a.scenario.as_deref(), &run_args)?;
    // Refined levels with --finest, or by default when the scenario is refined.
    let refined = a.finest.is_some() || (a.spacings.is_none() && sc.grid_finest_mm.is_some());
    let (flag, spacings) = if refined {
        let h = sc.grid_spacing_mm;
        let list = a
            .finest
            .clone()
            .unwrap_or_else(|| default_finest(h, sc.grid_finest_mm.unwrap_or(h)));
        if let Some(f) = list.iter().find(|&&f| f > h * (1.0 + 1e-9)) {
            bail!("--finest: {f} is coarser than the scenario's voxels ({h} mm); expected finest edges ≤ {h} mm");
        }
        ("--finest", list)
    } else {
        (
            "--spacings",
            a.spacings
                .clone()
                .unwrap_or_else(|| default_spacings(sc.grid_spacing_mm)),
        )
    };
    if spacings.len() < 2 {
        bail!("{flag}: expected at least two voxel edges, coarsest first, e.g. 2,1,0.5");
    }
    for (i, h) in spacings.iter().enumerate() {
        if !(*h > 0.0 && h.is_finite()) {
            bail!("{flag}: {h} is not a positive voxel edge in mm");
        }
        if i > 0 && *h >= spacings[i - 1] {
            bail!(
                "{flag}: {h} after {}: expected voxel edges getting finer, coarsest first",
                spacings[i - 1]
            );
        }
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join("converge").join(&sc.name));
    std::fs::create_dir_all(&out).with_context(|| format!("{}", out.display()))?;

    let mut ctx: Option<GpuContext> = None;
    let mut levels = Vec::new();
    let name = |h: f64| {
        if refined {
            format!("finest {h} mm")
        } else {
            format!("{h} mm")
        }
    };
    for &h in &spacings {
        let (level, dir) = if refined {
            (finest_scenario(&sc, h), finest_dir(&out, h))
        } else {
            (level_scenario(&sc, h), level_dir(&out, h))
        };
        let state = level_state(&dir, &level)?;
        let resume = matches!(state, LevelState::Stopped);
        if let LevelState::Finished(l) = state {
            eprintln!("{}: finished earlier in {}", name(h), dir.display());
            levels.push(l);
            continue;
        }
        if ctx.is_none() {
            let c = GpuContext::new().context("opening the GPU")?;
            eprintln!("adapter: {}", c.report);
            ctx = Some(c);
        }
        let Some(ctx) = ctx.as_ref() else {
            bail!("internal: no GPU context");
        };
        eprintln!(
            "{}: {} h at dt = {} s → {}{}",
            name(h),
            level.duration_s / 3600.0,
            level.dt_s,
            dir.display(),
            if resume { " (resuming)" } else { "" }
        );
        let opts = RunOptions {
            resume,
            force: true,
            npy: false,
        };
        // The same command continues: finished levels are read, this one resumes.
        let mut again = String::from("secretome converge");
        if let Some(p) = &a.scenario {
            again += &format!(" {}", p.display());
        }
        let list: Vec<String> = spacings.iter().map(|h| h.to_string()).collect();
        again += &format!(" {flag} {}", list.join(","));
        if let Some(hours) = a.hours {
            again += &format!(" --hours {hours}");
        }
        if let Some(dt) = a.dt {
            again += &format!(" --dt {dt}");
        }
        again += &format!(" --tolerance {} --out {}", a.tolerance, out.display());
        execute(ctx, &level, &dir, opts, &again)?;
        match level_state(&dir, &level)? {
            LevelState::Finished(l) => levels.push(l),
            _ => bail!("{}: the run left no summary.json", dir.display()),
        }
    }

    let hours = sc.duration_s / 3600.0;
    let n = levels.len();
    let rows = table(&levels, &levels[n - 1].ec50s(), hours);
    let csv = out.join("converge.csv");
    write_csv(&csv, &levels, &rows)?;
    print_table(&levels, &rows);
    print_decay_lengths(&levels[n - 1]);
    println!("{}", csv.display());

    let (fine, next) = (levels[n - 1].spacing_mm, levels[n - 2].spacing_mm);
    let over = rows.iter().filter(|r| r.change > a.tolerance).count();
    let Some(w) = rows.iter().max_by(|x, y| x.change.total_cmp(&y.change)) else {
        bail!("no headline readouts: the scenario's grid has none of infarct, border_zone, myocardium");
    };
    if over > 0 {
        bail!(
            "not converged: {over} of {} headline readouts changed by more than {} % between {next} and {fine} mm (largest: {} {:.1} %); see {}",
            rows.len(),
            100.0 * a.tolerance,
            w.key,
            100.0 * w.change,
            csv.display()
        );
    }
    println!(
        "converged: every headline readout within {} % between {next} and {fine} mm (largest: {} {:.2} %)",
        100.0 * a.tolerance,
        w.key,
        100.0 * w.change
    );
    Ok(())
}

fn print_table(levels: &[Level], rows: &[secretome::batch::converge::Row]) {
    let mut head = format!("{:<40}", "readout");
    for l in levels {
        head += &format!(" {:>11}", format!("{} mm", l.spacing_mm));
    }
    head += &format!(" {:>8} {:>11} {:>6}", "change", "Richardson", "order");
    println!("{head}");
    for r in rows {
        let mut line = format!("{:<40}", r.key);
        for v in &r.values {
            line += &format!(" {v:>11.4e}");
        }
        line += &format!(" {:>7.2}%", 100.0 * r.change);
        match r.richardson {
            Some((e, p)) => line += &format!(" {e:>11.4e} {p:>6.2}"),
            None => line += &format!(" {:>11} {:>6}", "—", "—"),
        }
        println!("{line}");
    }
    let walls: Vec<String> = levels
        .iter()
        .map(|l| format!("{} mm {:.1} s", l.spacing_mm, l.wall_s))
        .collect();
    println!("wall time of the stepping: {}", walls.join(", "));
}

/// What the finest level resolves: each species' decay length per tissue, in µm and in voxels.
fn print_decay_lengths(finest: &Level) {
    let h = finest.spacing_mm;
    let regions: Vec<&str> = secretome::batch::converge::REGIONS
        .iter()
        .map(|l| l.name())
        .collect();
    println!(
        "decay lengths √(D/k_eff) in {} (µm), and in the finest voxels ({h} mm):",
        regions.join(" / ")
    );
    for (id, l) in finest.decay_lengths() {
        let um: Vec<String> = l.iter().map(|x| format!("{:.0}", 1000.0 * x)).collect();
        let shortest = l.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "  {id:<6} {:<20} {:.2} voxels",
            um.join(" / "),
            shortest / h
        );
    }
}
