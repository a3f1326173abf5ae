//! The faces between two tissues inside a scenario's depots (issue 17, docs/levels.md): where
//! the regional maxima that converge last sit. Prints each depot site and the area of the
//! coarse faces between each pair of tissue labels whose midpoints lie within the sphere
//! (widened by MARGIN_MM).
//! `cargo run --release --example interface_count -- assets/scenarios/intramyocardial.toml 0.2`
use secretome::problem::build::build;
use secretome::scenario::Scenario;
use std::collections::BTreeMap;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        return Err("usage: interface_count SCENARIO.toml [MARGIN_MM]".into());
    };
    let mut sc = Scenario::load(Path::new(file))?;
    let margin: f64 = args.get(1).map_or(Ok(0.0), |s| s.parse())?;
    // Refining keeps the sites the depots were placed at.
    sc.grid_finest_mm = Some(sc.grid_spacing_mm / 2.0);
    let refinement = build(&sc)?
        .refinement
        .ok_or("the scenario places no depot at a site")?;
    let sites: Vec<_> = refinement
        .sites
        .iter()
        .flatten()
        .chain(refinement.around.iter())
        .copied()
        .collect();
    for s in &sites {
        println!("site at {:.2?} mm, radius {} mm", s.centre, s.radius_mm);
    }
    let g = &refinement.coarse.grid;
    let inside = |p: [f64; 3]| {
        sites.iter().any(|s| {
            let d = (0..3).map(|k| (p[k] - s.centre[k]).powi(2)).sum::<f64>();
            d.sqrt() <= s.radius_mm + margin
        })
    };
    let mut faces: BTreeMap<String, usize> = BTreeMap::new();
    let [nx, ny, nz] = g.dims;
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let a = g.labels[g.index(x, y, z)];
                let pa = g.centre(x, y, z);
                for [dx, dy, dz] in [[1, 0, 0], [0, 1, 0], [0, 0, 1]] {
                    let (x2, y2, z2) = (x + dx, y + dy, z + dz);
                    if x2 >= nx || y2 >= ny || z2 >= nz {
                        continue;
                    }
                    let b = g.labels[g.index(x2, y2, z2)];
                    if a == b || !a.is_tissue() || !b.is_tissue() {
                        continue;
                    }
                    let pb = g.centre(x2, y2, z2);
                    if inside([0, 1, 2].map(|k| 0.5 * (pa[k] + pb[k]))) {
                        let (lo, hi) = if (a as u8) < (b as u8) {
                            (a, b)
                        } else {
                            (b, a)
                        };
                        *faces.entry(format!("{lo:?}–{hi:?}")).or_insert(0) += 1;
                    }
                }
            }
        }
    }
    println!("{} mm voxels, within {margin} mm of the depots:", g.spacing);
    for (pair, n) in faces {
        println!(
            "  {pair}: {n} faces, {:.1} mm²",
            n as f64 * g.spacing * g.spacing
        );
    }
    Ok(())
}
