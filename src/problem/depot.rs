//! Where a depot's cells sit (MODEL.md §3): the tissue voxels it covers and their share of its
//! secretion. Shares always sum to exactly one, so the mass secreted is exact.

use crate::base::Grid;
use crate::base::LabelTable;
use crate::error::{Result, SimError};

pub use crate::scenario::DepotShape as Spread;

/// Normalises weights to sum to one (the last one absorbs the rounding).
fn normalised(mut w: Vec<(usize, f64)>) -> Vec<(usize, f64)> {
    let sum: f64 = w.iter().map(|v| v.1).sum();
    for v in &mut w {
        v.1 /= sum;
    }
    let rest: f64 = w.iter().take(w.len().saturating_sub(1)).map(|v| v.1).sum();
    if let Some(last) = w.last_mut() {
        last.1 = 1.0 - rest;
    }
    w
}

/// Tissue voxels and weights of a depot centred at `centre` (mm) with radius `radius` (mm).
/// A depot smaller than a voxel sits in the voxel holding its centre. `what` names the depot
/// in errors (`depot[0]`).
pub fn place(
    grid: &Grid,
    centre: [f64; 3],
    radius: f64,
    spread: Spread,
    what: &str,
) -> Result<Vec<(usize, f64)>> {
    if !(radius >= 0.0 && radius.is_finite()) || centre.iter().any(|c| !c.is_finite()) {
        return Err(SimError::Problem(format!(
            "{what}: radius {radius} mm at {centre:?}: expected a finite centre and a radius ≥ 0"
        )));
    }
    let h = grid.spacing;
    let home = voxel_of(grid, centre);
    match home {
        Some(i) if grid.labels[i].is_tissue() => {}
        _ => {
            let lies = home.map_or("outside the grid".to_string(), |i| {
                format!("in {}, not in tissue", grid.labels[i].name())
            });
            return Err(SimError::Problem(format!(
                "{what}: centre ({:.1}, {:.1}, {:.1}) mm lies {lies}; expected a point in myocardium, border zone or infarct",
                centre[0], centre[1], centre[2]
            )));
        }
    }
    let reach = match spread {
        Spread::Sphere => radius,
        Spread::Gaussian => 3.0 * radius,
    };
    let lo =
        [0, 1, 2].map(|k| (((centre[k] - reach - grid.origin[k]) / h).floor().max(0.0)) as usize);
    let hi = [0, 1, 2].map(|k| {
        ((((centre[k] + reach - grid.origin[k]) / h).ceil()) as usize + 1).min(grid.dims[k])
    });
    let mut w = Vec::new();
    for z in lo[2]..hi[2] {
        for y in lo[1]..hi[1] {
            for x in lo[0]..hi[0] {
                let i = grid.index(x, y, z);
                if !grid.labels[i].is_tissue() {
                    continue;
                }
                let c = grid.centre(x, y, z);
                let r2: f64 = (0..3).map(|k| (c[k] - centre[k]).powi(2)).sum();
                if r2 > reach * reach {
                    continue;
                }
                let weight = match spread {
                    Spread::Sphere => 1.0,
                    Spread::Gaussian => (-r2 / (2.0 * radius * radius)).exp(),
                };
                if weight > 0.0 {
                    w.push((i, weight));
                }
            }
        }
    }
    if w.is_empty() {
        // Smaller than a voxel: all of it in the voxel holding the centre.
        if let Some(i) = home {
            w.push((i, 1.0));
        }
    }
    Ok(normalised(w))
}

/// Weights proportional to perfusion over the given voxels (an intracoronary infusion: cells
/// lodge where the blood flows, little in a no-reflow core).
pub fn by_perfusion(
    grid: &Grid,
    labels: &LabelTable,
    voxels: &[usize],
    what: &str,
) -> Result<Vec<(usize, f64)>> {
    let w: Vec<(usize, f64)> = voxels
        .iter()
        .filter(|&&i| grid.labels[i].is_tissue())
        .map(|&i| (i, labels.get(grid.labels[i]).perfusion))
        .filter(|v| v.1 > 0.0)
        .collect();
    if w.is_empty() {
        return Err(SimError::Problem(format!(
            "{what}: the territory holds no perfused tissue"
        )));
    }
    Ok(normalised(w))
}

/// The voxel holding point `p` (mm), if inside the grid.
pub fn voxel_of(grid: &Grid, p: [f64; 3]) -> Option<usize> {
    let mut ijk = [0usize; 3];
    for k in 0..3 {
        let f = (p[k] - grid.origin[k]) / grid.spacing;
        if !(f >= 0.0 && f < grid.dims[k] as f64) {
            return None;
        }
        ijk[k] = f as usize;
    }
    Some(grid.index(ijk[0], ijk[1], ijk[2]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::TissueLabel;

    fn block() -> Grid {
        let mut g = Grid::filled([20, 20, 20], 0.5, TissueLabel::Myocardium);
        for i in 0..g.voxel_count() {
            if g.coords(i)[0] < 4 {
                g.labels[i] = TissueLabel::BloodLv;
            }
        }
        g
    }

    #[test]
    fn weights_sum_to_one_and_stay_in_tissue() {
        let g = block();
        for spread in [Spread::Sphere, Spread::Gaussian] {
            for (centre, r) in [
                ([5.0, 5.0, 5.0], 1.5),
                ([2.3, 5.0, 5.0], 1.0),
                ([7.1, 3.3, 2.2], 0.1),
            ] {
                let w = place(&g, centre, r, spread, "depot[0]").unwrap();
                let sum: f64 = w.iter().map(|v| v.1).sum();
                assert!((sum - 1.0).abs() < 1e-12, "{sum}");
                assert!(w.iter().all(|&(i, x)| g.labels[i].is_tissue() && x > 0.0));
            }
        }
        // A sphere of radius 1.5 mm at 0.5 mm voxels holds about 4/3 π 3³ ≈ 113 voxel centres.
        let w = place(&g, [5.0, 5.0, 5.0], 1.5, Spread::Sphere, "d").unwrap();
        assert!((90..=150).contains(&w.len()), "{}", w.len());
    }

    #[test]
    fn a_depot_outside_tissue_is_refused() {
        let g = block();
        let e = place(&g, [1.0, 5.0, 5.0], 1.0, Spread::Sphere, "depot[2]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("depot[2]") && e.contains("blood_lv"), "{e}");
        let e = place(&g, [50.0, 5.0, 5.0], 1.0, Spread::Sphere, "depot[0]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("outside the grid"), "{e}");
    }
}
