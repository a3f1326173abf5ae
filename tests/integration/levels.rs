//! Levels of refinement (issue 17), the double-precision reference (`sim::levels`): known
//! answers across coarse–fine boundaries. Tolerances are stated in each test.

use secretome::sim::levels::{Composite, LevelSolver};

/// D = 1e-4 mm²/s (1e-6 cm²/s, a growth factor in tissue).
const D: f64 = 1e-4;

fn cube(half: f64, mid: f64) -> impl Fn(u8, [f64; 3]) -> bool {
    move |_, p: [f64; 3]| p.iter().all(|&x| (x - mid).abs() < half)
}

/// A Gaussian pulse in the fine half of a box crosses the plane where the voxels double:
/// the amount stays to 1e-12 (f64; the issue asks 1e-6), and the picture matches the box
/// refined everywhere within 1 % of the peak (what the interface reflects or distorts).
#[test]
fn a_pulse_crosses_a_coarse_fine_boundary() {
    let (n, h) = (24usize, 0.1);
    let fine_half = |_: u8, p: [f64; 3]| p[0] < 1.2;
    let refined = Composite::new([n; 3], h, 1, fine_half).unwrap();
    let uniform = Composite::new([n; 3], h, 1, |_, _| true).unwrap();
    let pulse = |p: [f64; 3]| {
        let r2 = (p[0] - 0.9).powi(2) + (p[1] - 1.2).powi(2) + (p[2] - 1.2).powi(2);
        (-r2 / (2.0 * 0.1f64.powi(2))).exp()
    };
    let mut runs = Vec::new();
    for grid in [refined, uniform] {
        let mut s = LevelSolver::new(grid, D, 0.0, 20.0);
        for i in 0..s.c.len() {
            s.c[i] = pulse(s.grid.centre(i));
        }
        let m0 = s.amount();
        s.step(40); // 800 s: the pulse spreads over √(6Dt) ≈ 0.7 mm, across x = 1.2 mm
        let drift = (s.amount() - m0).abs() / m0;
        assert!(drift < 1e-12, "mass drift {drift:e}");
        runs.push((s.grid.coarse_average(&s.c), s.stages()));
    }
    let (refined, uniform) = (&runs[0].0, &runs[1].0);
    let peak = uniform.iter().copied().fold(0.0, f64::max);
    let worst = refined
        .iter()
        .zip(uniform)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "pulse: worst difference {:.3e} of the peak; stages {} and {}",
        worst / peak,
        runs[0].1,
        runs[1].1
    );
    assert!(worst / peak < 0.01, "{:e}", worst / peak);
    // The finest level sets the stage count.
    assert_eq!(runs[0].1, runs[1].1);
}

/// The steady field around a point source with decay, `Q/(4πDr)·e^{−r/λ}`, on a box refined
/// twice around the source: within 3 % from r = 5 finest voxels to r = 15 coarse voxels, on an
/// axis and on a diagonal, across both level boundaries, and within 4.5 % from 2 to 5 finest
/// voxels (the stencil's own error near a source, as large on a uniform grid).
#[test]
fn a_point_source_is_right_across_the_levels() {
    let (n, h) = (48usize, 0.1);
    let mid = 0.5 * n as f64 * h;
    let lambda = 0.3;
    let k = D / (lambda * lambda);
    // Level 1 within 0.6 mm of the source, level 2 within 0.3 mm.
    let grid = Composite::new([n; 3], h, 2, |l, p| {
        let half = if l == 0 { 0.6 } else { 0.3 };
        cube(half, mid)(l, p)
    })
    .unwrap();
    let per = grid.per_level();
    assert_eq!(per.len(), 3, "{per:?}");
    let hf = h / 4.0;
    // dt = 60 s: k·dt = 0.07 keeps the splitting's error in the steady state far below 1 %.
    let mut s = LevelSolver::new(grid, D, k, 60.0);
    // Q = 1 ng/s split over the 8 finest voxels around the centre (a vertex of the grid).
    let q = 1.0;
    for i in 0..s.c.len() {
        let p = s.grid.centre(i);
        if s.grid.cells[i].level == 2 && p.iter().all(|&x| (x - mid).abs() < hf) {
            s.source[i] = q / 8.0 / s.grid.volume(i);
        }
    }
    let exact = |r: f64| q / (4.0 * std::f64::consts::PI * D * r) * (-r / lambda).exp();
    // Start from the answer at the cell centres: what is left relaxes at rate ≥ k.
    for i in 0..s.c.len() {
        let c = s.grid.centre(i);
        let r = (0..3).map(|k| (c[k] - mid).powi(2)).sum::<f64>().sqrt();
        s.c[i] = exact(r);
    }
    s.step(200); // 12000 s = 13/k: steady
    let mut worst: f64 = 0.0;
    for dir in [[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]] {
        let norm: f64 = dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2];
        let u = dir.map(|d: f64| d / norm.sqrt());
        let mut r = 2.0 * hf;
        while r <= 15.0 * h + 1e-9 {
            let p = [0, 1, 2].map(|k| mid + r * u[k]);
            let i = s.grid.leaf_at(p).unwrap();
            let c = s.grid.centre(i);
            let rc = (0..3).map(|k| (c[k] - mid).powi(2)).sum::<f64>().sqrt();
            let err = (s.c[i] - exact(rc)).abs() / exact(rc);
            worst = worst.max(err);
            // Within 5 finest voxels of the source the 7-point stencil's own error dominates:
            // a uniform grid at the finest spacing is +4.6 % at 2.6 voxels and +3.4 % at 5.5
            // (measured with λ = 0.1 mm, 2026-11-30); the levels add nothing to it.
            let tol = if rc < 5.0 * hf { 0.045 } else { 0.03 };
            assert!(
                err < tol,
                "r = {rc:.3} mm (level {}): {:.4e} vs {:.4e}, {:.1} %",
                s.grid.cells[i].level,
                s.c[i],
                exact(rc),
                100.0 * err
            );
            r += hf;
        }
    }
    eprintln!("point source: worst {:.2} %", 100.0 * worst);
}

/// The same point source on a box refined once around it and on the box refined everywhere:
/// the coarse images agree within 1 % of the local value wherever the field is above 1 % of
/// its maximum.
#[test]
fn refined_matches_uniformly_fine() {
    let (n, h) = (32usize, 0.1);
    let mid = 0.5 * n as f64 * h;
    let lambda = 0.3;
    let k = D / (lambda * lambda);
    let mut images = Vec::new();
    for all in [false, true] {
        let grid = Composite::new([n; 3], h, 1, |l, p| all || cube(0.6, mid)(l, p)).unwrap();
        let mut s = LevelSolver::new(grid, D, k, 60.0);
        for i in 0..s.c.len() {
            let p = s.grid.centre(i);
            if p.iter().all(|&x| (x - mid).abs() < h / 2.0) {
                s.source[i] = 1.0 / 8.0 / s.grid.volume(i);
            }
        }
        s.step(200);
        images.push(s.grid.coarse_average(&s.c));
    }
    let max = images[1].iter().copied().fold(0.0, f64::max);
    let mut worst: f64 = 0.0;
    for (i, (a, b)) in images[0].iter().zip(&images[1]).enumerate() {
        if *b > 0.01 * max {
            let e = (a - b).abs() / b;
            if e > worst {
                worst = e;
                eprintln!(
                    "  voxel {:?}: {a:.4e} vs {b:.4e}",
                    [i % n, (i / n) % n, i / (n * n)]
                );
            }
        }
    }
    eprintln!("refined vs fine: worst {:.3} %", 100.0 * worst);
    assert!(worst < 0.01, "{:.3} %", 100.0 * worst);
}

/// Any time step is stable on levels: the finest level sets the RKL1 stage count (through the
/// Gershgorin bound of the stencils, whose coarse–fine weights include a negative one). Hour-long
/// steps of a sharp pulse (σ = 2 finest voxels) stay below its start, keep its amount to 1e-12
/// and settle to the mean. RKL1 damps the stiffest modes only partly, so the first step rings:
/// its minimum is −2.6e-3 of the peak here, and −4.2e-3 on the box refined everywhere (the time
/// scheme's, not the levels'); the bound is −5e-3.
#[test]
fn an_hour_long_step_is_stable_on_levels() {
    let (n, h) = (16usize, 0.1);
    let grid = Composite::new([n; 3], h, 2, |l, p| {
        let half = if l == 0 { 0.5 } else { 0.25 };
        cube(half, 0.8)(l, p)
    })
    .unwrap();
    let mut s = LevelSolver::new(grid, D, 0.0, 3600.0);
    for i in 0..s.c.len() {
        let p = s.grid.centre(i);
        let r2: f64 = p.iter().map(|x| (x - 0.8).powi(2)).sum();
        s.c[i] = (-r2 / (2.0 * 0.05f64.powi(2))).exp();
    }
    let m0 = s.amount();
    let peak = s.c.iter().copied().fold(0.0, f64::max);
    for _ in 0..5 {
        s.step(1);
        let max = s.c.iter().copied().fold(f64::MIN, f64::max);
        let min = s.c.iter().copied().fold(f64::MAX, f64::min);
        assert!(max <= peak && min > -5e-3 * peak, "{min} {max}");
        assert!(((s.amount() - m0) / m0).abs() < 1e-12);
    }
    // Noise in every cell excites every mode, the stiffest included: 300 steps of 60 s at the
    // stage count the bound gives must not let any grow.
    let mut rng = crate::common::Rng(7);
    let mut noise = LevelSolver::new(s.grid.clone(), D, 0.0, 60.0);
    for c in noise.c.iter_mut() {
        *c = rng.next_f64();
    }
    let m = noise.amount();
    let top = noise.c.iter().copied().fold(0.0, f64::max);
    for _ in 0..300 {
        noise.step(1);
        let max = noise.c.iter().map(|c| c.abs()).fold(0.0, f64::max);
        assert!(max <= top, "{max} > {top}");
    }
    assert!(((noise.amount() - m) / m).abs() < 1e-12);
    let mean = m / 1.6f64.powi(3);
    let left = noise.c.iter().map(|c| (c - mean).abs()).fold(0.0, f64::max);
    assert!(left < 0.1 * mean, "{left} vs {mean}");
    // After 5 h the box (1.6 mm, √(2Dt) = 1.9 mm) is nearly uniform at the mean.
    let mean = m0 / (1.6f64).powi(3);
    let spread = s.c.iter().map(|c| (c - mean).abs()).fold(0.0, f64::max);
    assert!(spread < 0.05 * mean, "{spread} vs {mean}");
    assert!(s.stages() > 30, "{}", s.stages());
}

/// A field on three levels written as overlapping AMR (`.vthb`) reads back with the
/// independent `.vti` parser: level 0 is the box's cell averages; every leaf's value sits in an
/// image of its level at its place, each image's `amr_box` agrees with its origin, spacing and
/// extent, and each image lies inside the box.
#[test]
fn levels_are_written_as_overlapping_amr() {
    use crate::common::vti_reader::{element, read_array, read_vti};
    let (n, h) = (6usize, 0.5);
    let grid = Composite::new([n; 3], h, 2, |l, p| {
        let half = if l == 0 { 1.0 } else { 0.4 };
        cube(half, 1.5)(l, p)
    })
    .unwrap();
    let field: Vec<f64> = (0..grid.cells.len())
        .map(|i| {
            let c = grid.centre(i);
            1.0 + c[0] + 10.0 * c[1] + 100.0 * c[2]
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("secretome-amr-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.vthb");
    let origin = [10.0, 20.0, 30.0];
    secretome::output::amr::write_vthb(&path, &grid, origin, &[("c", &field)], true).unwrap();

    let xml = std::fs::read_to_string(&path).unwrap();
    let (_, file) = element(&xml, "VTKFile", 0).unwrap();
    assert_eq!(file["type"], "vtkOverlappingAMR");
    // (level, spacing, amr_box, values) of every image.
    let mut images = Vec::new();
    let mut from = 0;
    while let Some((end, block)) = element(&xml, "Block", from) {
        let level: u32 = block["level"].parse().unwrap();
        let spacing: f64 = block["spacing"].split(' ').next().unwrap().parse().unwrap();
        assert!((spacing - h / f64::from(1u32 << level)).abs() < 1e-12);
        let block_end = end + xml[end..].find("</Block>").unwrap();
        let mut at = end;
        while let Some((e, ds)) = element(&xml, "DataSet", at) {
            if e > block_end {
                break;
            }
            let b: Vec<i64> = ds["amr_box"]
                .split(' ')
                .map(|v| v.parse().unwrap())
                .collect();
            let v = read_vti(&dir.join(&ds["file"]));
            let vo: Vec<f64> = v.image["Origin"]
                .split(' ')
                .map(|x| x.parse().unwrap())
                .collect();
            let ext: Vec<i64> = v.image["WholeExtent"]
                .split(' ')
                .map(|x| x.parse().unwrap())
                .collect();
            for k in 0..3 {
                // The box's cells lo..=hi: the image's corner and its point extent.
                assert!((vo[k] - (origin[k] + b[2 * k] as f64 * spacing)).abs() < 1e-9);
                assert_eq!(ext[2 * k + 1] - ext[2 * k], b[2 * k + 1] - b[2 * k] + 1);
                assert!(b[2 * k] >= 0 && b[2 * k + 1] < (n as i64) << level);
            }
            let (ty, bits, _) = read_array(&v, "c");
            assert_eq!(ty, "Float64");
            let values: Vec<f64> = bits.into_iter().map(f64::from_bits).collect();
            images.push((level, b, values));
            at = e;
        }
        from = block_end;
    }
    assert_eq!(images.iter().map(|i| i.0).max(), Some(2));
    // Level 0: the cell averages, as the uniform .vti of a run.
    let coarse = grid.coarse_average(&field);
    let level0: Vec<_> = images.iter().filter(|i| i.0 == 0).collect();
    assert_eq!(level0.len(), 1);
    for (a, b) in level0[0].2.iter().zip(&coarse) {
        assert!((a - b).abs() <= 1e-12 * b.abs());
    }
    // Every leaf, in an image of its level.
    for (i, cell) in grid.cells.iter().enumerate() {
        let found = images
            .iter()
            .filter(|im| im.0 == u32::from(cell.level))
            .find_map(|im| {
                let b = &im.1;
                let inside = (0..3).all(|k| {
                    let v = i64::from(cell.ijk[k]);
                    v >= b[2 * k] && v <= b[2 * k + 1]
                });
                inside.then(|| {
                    let size: Vec<i64> = (0..3).map(|k| b[2 * k + 1] - b[2 * k] + 1).collect();
                    let [x, y, z] = [0, 1, 2].map(|k| i64::from(cell.ijk[k]) - b[2 * k]);
                    im.2[(x + size[0] * (y + size[1] * z)) as usize]
                })
            });
        assert_eq!(found, Some(field[i]), "leaf {cell:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
