//! Where a depot's cells sit (MODEL.md §3): the tissue voxels it covers and their share of its
//! secretion. Shares always sum to exactly one, so the mass secreted is exact.
//!
//! A voxel's share is the part of the depot's shape inside it (the volume of the sphere, or the
//! integral of the Gaussian, over the voxel's cube), so the density of cells is the same at
//! every voxel size: a voxel whose centre lies just outside the sphere still holds its part, and
//! one half inside holds half. Counting voxel centres instead made the density jump with the
//! voxel size (at 2 mm a 2 mm sphere held 4 or 7 centres depending on where it sat).

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
    let mut w = shares_on(grid, centre, radius, spread, 1.0);
    if w.is_empty() {
        // Smaller than a voxel: all of it in the voxel holding the centre.
        if let Some(i) = home {
            w.push((i, 1.0));
        }
    }
    Ok(normalised(w))
}

/// A depot's shares of the tissue leaves of a refined problem: its shape on every level's
/// leaves, each leaf's part of the sphere (or Gaussian) by its own volume, so that the depot's
/// surface is resolved as finely as the leaves around it. Without levels, [`place`].
pub fn place_on_levels(
    problem: &super::Problem,
    centre: [f64; 3],
    radius: f64,
    spread: Spread,
    what: &str,
) -> Result<Vec<(usize, f64)>> {
    if problem.levels.is_none() {
        return place(&problem.grid, centre, radius, spread, what);
    }
    // The checks of the centre and radius, on the geometry as before refinement.
    place(&problem.coarse_grid(), centre, radius, spread, what)?;
    let offsets = problem.level_offsets();
    let h0 = problem.grid.spacing;
    let mut w = Vec::new();
    for (l, g) in problem.level_grids().into_iter().enumerate() {
        let volume = (g.spacing / h0).powi(3);
        w.extend(
            shares_on(g, centre, radius, spread, volume)
                .into_iter()
                .map(|(i, x)| (offsets[l] + i, x)),
        );
    }
    if w.is_empty() {
        if let Some(v) = problem.voxel_at(centre) {
            w.push((v, 1.0));
        }
    }
    Ok(normalised(w))
}

/// The unnormalised shares of the tissue voxels of `grid` in a depot's shape: a sphere's
/// fraction of each voxel times `volume` (the voxel's volume in some unit), or the Gaussian's
/// mass in it.
fn shares_on(
    grid: &Grid,
    centre: [f64; 3],
    radius: f64,
    spread: Spread,
    volume: f64,
) -> Vec<(usize, f64)> {
    let h = grid.spacing;
    if grid.voxel_count() == 0 {
        return Vec::new();
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
                let weight = match spread {
                    Spread::Sphere => volume * sphere_in_cube(c, h, centre, radius),
                    Spread::Gaussian => {
                        let r2: f64 = (0..3).map(|k| (c[k] - centre[k]).powi(2)).sum();
                        if r2 > reach * reach {
                            continue;
                        }
                        gaussian_in_cube(c, h, centre, radius)
                    }
                };
                if weight > 0.0 {
                    w.push((i, weight));
                }
            }
        }
    }
    w
}

/// Sample points per axis in a voxel that the sphere's surface crosses.
const SPHERE_SAMPLES: usize = 16;

/// The fraction of the cube of edge `h` centred at `c` inside the sphere (`centre`, `radius`):
/// 1 or 0 where the cube lies wholly inside or outside, else counted on a 16³ grid of points.
fn sphere_in_cube(c: [f64; 3], h: f64, centre: [f64; 3], radius: f64) -> f64 {
    let (mut near, mut far) = (0.0, 0.0);
    for k in 0..3 {
        let d = (c[k] - centre[k]).abs();
        near += (d - 0.5 * h).max(0.0).powi(2);
        far += (d + 0.5 * h).powi(2);
    }
    let r2 = radius * radius;
    if near >= r2 {
        return 0.0;
    }
    if far <= r2 {
        return 1.0;
    }
    let n = SPHERE_SAMPLES;
    let at = |k: usize, j: usize| c[k] - centre[k] + h * ((j as f64 + 0.5) / n as f64 - 0.5);
    let mut inside = 0usize;
    for jz in 0..n {
        let dz = at(2, jz).powi(2);
        for jy in 0..n {
            let dyz = dz + at(1, jy).powi(2);
            if dyz > r2 {
                continue;
            }
            inside += (0..n).filter(|&jx| dyz + at(0, jx).powi(2) <= r2).count();
        }
    }
    inside as f64 / (n * n * n) as f64
}

/// The integral over the cube of edge `h` centred at `c` of the normalised Gaussian of
/// standard deviation `sigma` at `centre`: a product of three differences of erfc.
fn gaussian_in_cube(c: [f64; 3], h: f64, centre: [f64; 3], sigma: f64) -> f64 {
    let s = std::f64::consts::SQRT_2 * sigma.max(1e-12);
    (0..3)
        .map(|k| {
            let (a, b) = (
                (c[k] - 0.5 * h - centre[k]) / s,
                (c[k] + 0.5 * h - centre[k]) / s,
            );
            0.5 * (erfc(a) - erfc(b))
        })
        .product()
}

/// The complementary error function, relative error below 1.2e-7 (Numerical Recipes' Chebyshev
/// fit, after W. J. Cody): enough for shares that are normalised afterwards.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
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
        // A sphere of radius 1.5 mm at 0.5 mm voxels holds about 113 voxel centres, and cuts
        // about as many voxels more; every one holds its part of the sphere's volume.
        let w = place(&g, [5.0, 5.0, 5.0], 1.5, Spread::Sphere, "d").unwrap();
        assert!((150..=260).contains(&w.len()), "{}", w.len());
    }

    /// The cells' density is the same at every voxel size: a voxel wholly inside the sphere
    /// holds (voxel volume / sphere volume) of it, wherever the sphere sits on the grid.
    #[test]
    fn a_sphere_gives_each_voxel_its_share_of_the_volume() {
        let r = 2.0;
        let sphere = 4.0 / 3.0 * std::f64::consts::PI * r * r * r;
        for h in [0.25, 0.5, 1.0] {
            let n = (12.0 / h) as usize;
            let g = Grid::filled([n, n, n], h, TissueLabel::Myocardium);
            for centre in [[6.0, 6.0, 6.0], [6.1, 5.93, 6.27]] {
                let w = place(&g, centre, r, Spread::Sphere, "d").unwrap();
                let v = h * h * h;
                // The largest share is a whole voxel's: v / sphere volume, within the
                // sampling of the cut voxels (16³ points) that normalises the total.
                let top = w.iter().map(|x| x.1).fold(0.0, f64::max);
                assert!(
                    ((top * sphere / v) - 1.0).abs() < 0.01,
                    "h {h}: {}",
                    top * sphere / v
                );
            }
        }
        // Exact fractions of a cube: wholly inside, wholly outside, half (a plane through
        // its centre, approximated by a huge sphere).
        assert_eq!(sphere_in_cube([0.0; 3], 1.0, [0.0; 3], 2.0), 1.0);
        assert_eq!(sphere_in_cube([5.0, 0.0, 0.0], 1.0, [0.0; 3], 2.0), 0.0);
        let half = sphere_in_cube([0.0; 3], 1.0, [-1e6, 0.0, 0.0], 1e6);
        assert!((half - 0.5).abs() < 1e-9, "{half}");
    }

    #[test]
    fn a_gaussian_integrates_to_one_over_the_grid() {
        // erfc against known values.
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(-0.5) - 1.520_499_878).abs() < 1e-7);
        // The unnormalised cube integrals of a Gaussian on a fine grid sum to ~1 (3σ reach
        // keeps 97 %: the mass within 3σ in 3D).
        let h = 0.25;
        let g = Grid::filled([48, 48, 48], h, TissueLabel::Myocardium);
        let mut sum = 0.0;
        for z in 0..48 {
            for y in 0..48 {
                for x in 0..48 {
                    sum += gaussian_in_cube(g.centre(x, y, z), h, [6.0, 6.0, 6.0], 1.0);
                }
            }
        }
        assert!((sum - 1.0).abs() < 1e-6, "{sum}");
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
