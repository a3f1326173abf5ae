//! Levels of refinement (issue 17), the double-precision reference (`sim::levels`): known
//! answers across coarse–fine boundaries. Tolerances are stated in each test.

use secretome::sim::levels::{Composite, LevelSolver};

use crate::common;

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

// ---- The problem on levels and the CPU twin on them (`Problem::refine`, `CpuReference`) ----

use secretome::base::{Grid, Species, SpeciesTable, TissueLabel};
use secretome::problem::{DepotSource, Problem};
use secretome::sim::cpu_reference::CpuReference;

/// A cube of `n` voxels of `h` mm refined twice around its middle.
fn two_levels(n: usize, h: f64) -> Composite {
    let mid = 0.5 * n as f64 * h;
    Composite::new([n; 3], h, 2, move |l, p| {
        let r = if l == 0 {
            0.3 * n as f64 * h
        } else {
            0.15 * n as f64 * h
        };
        p.iter().all(|&x| (x - mid).abs() < r)
    })
    .unwrap()
}

/// The CPU twin on a refined problem takes the same steps as the levels' reference: a pulse
/// with decay in myocardium, two levels, 20 steps of 30 s, every leaf within 1e-9 of the peak
/// (both f64; they differ only in the order of their sums).
#[test]
fn the_twin_on_levels_takes_the_reference_steps() {
    let (n, h, k) = (16, 0.1, 2e-4);
    let comp = two_levels(n, h);
    let species = SpeciesTable {
        species: vec![Species::simple("s", D, k)],
    };
    let grid = Grid::filled([n; 3], h, TissueLabel::Myocardium);
    let mut p = Problem::new(grid, species, 30.0).refine(&comp).unwrap();
    let pulse = |c: [f64; 3]| {
        let r2: f64 = c.iter().map(|x| (x - 0.75).powi(2)).sum();
        (-r2 / (2.0 * 0.12f64.powi(2))).exp()
    };
    for v in 0..p.voxel_count() {
        if p.label_at(v).is_tissue() {
            p.initial[v] = pulse(p.voxel_centre(v)) as f32;
        }
    }
    let mut twin = CpuReference::new(&p).unwrap();
    // The reference has no volume fraction: the myocardium's ε·m_D/ε = m_D = 1.
    let mut reference = LevelSolver::new(comp.clone(), D, k, 30.0);
    for i in 0..comp.cells.len() {
        let v = p.voxel_at(comp.centre(i)).unwrap();
        reference.c[i] = p.initial[v] as f64;
    }
    assert_eq!(twin.plan().stages(), reference.stages());
    let m0 = twin.amounts()[0];
    twin.step(20);
    reference.step(20);
    let mut worst: f64 = 0.0;
    for i in 0..comp.cells.len() {
        let v = p.voxel_at(comp.centre(i)).unwrap();
        worst = worst.max((twin.fields()[v] - reference.c[i]).abs());
    }
    eprintln!(
        "twin vs reference on {:?} leaves per level: {worst:.2e} (stages {})",
        comp.per_level(),
        reference.stages()
    );
    assert!(worst < 1e-9, "{worst:e}");
    // Only decay takes the amount away: e^{−k t}.
    let expected = m0 * (-k * 600.0).exp();
    let m = twin.amounts()[0];
    assert!((m - expected).abs() < 1e-12 * m0, "{m} vs {expected}");
}

/// A problem holding every label (blood, outside, infarct, border zone, myocardium), a depot
/// of cells across the labels with autocrine feedback, a fixed source, dynamic plasma and every
/// term on, in double precision.
pub(crate) fn full_problem(grid: Grid) -> Problem {
    let table = SpeciesTable::default_table().unwrap();
    let mut p = Problem::new(grid, table, 600.0);
    p.plasma = vec![0.1, 0.3, 0.5, 2.0];
    p.exposure = true;
    p.compartment.dynamic = true;
    let n = p.grid.voxel_count();
    for v in 0..n {
        for s in 0..4 {
            // Smooth: RKL1 at long steps may undershoot on voxel-scale noise, on any grid.
            let [x, y, z] = p.grid.coords(v).map(|i| i as f64);
            let wave = (0.5 * x + s as f64).sin() * (0.4 * y).cos() + 0.3 * (0.3 * z).sin();
            p.initial[s * n + v] = (3.0 + 2.0 * wave) as f32;
        }
    }
    let mid = p.grid.dims.map(|d| d / 2);
    let mut voxels = Vec::new();
    for z in mid[2] - 2..mid[2] + 2 {
        for y in mid[1] - 3..mid[1] + 1 {
            for x in mid[0]..mid[0] + 5 {
                let v = p.grid.index(x, y, z);
                if p.grid.labels[v].is_tissue() {
                    voxels.push(v);
                }
            }
        }
    }
    let w = 1.0 / voxels.len() as f64;
    p.depots = vec![DepotSource {
        name: "cells".into(),
        voxels: voxels.iter().map(|&v| (v, w)).collect(),
        cells: 1e5,
        secretion: vec![1e-8, 2e-8, 5e-9, 3e-8],
        k_death: 2.7e-6,
        cell_free: false,
    }];
    p.autocrine.enabled = true;
    p.autocrine.weights = vec![1.0; 4];
    let v = voxels[0];
    let vol = p.interstitial_ml(v);
    for s in 0..4 {
        p.sources.add_amount(v, s, 1e-4, vol);
    }
    p
}

/// Every voxel refined once is the uniform grid of half the spacing with the coarse labels:
/// the twin on the refined problem and on that grid agree to round-off in every field,
/// exposure, ledger term, depot and regional statistic.
#[test]
fn refined_everywhere_is_the_grid_of_half_the_spacing() {
    let coarse = common::heterogeneous_grid([12, 11, 10], 0.2);
    let everywhere = Composite::new(coarse.dims, coarse.spacing, 1, |_, _| true).unwrap();
    let refined = full_problem(coarse.clone()).refine(&everywhere).unwrap();
    // The same problem on the fine grid: labels, fields, sources and depots of the parents.
    let fine_dims = coarse.dims.map(|d| 2 * d);
    let mut fine = Grid::filled(fine_dims, 0.1, TissueLabel::Outside);
    for v in 0..fine.voxel_count() {
        let [x, y, z] = fine.coords(v);
        fine.labels[v] = coarse.labels[coarse.index(x / 2, y / 2, z / 2)];
    }
    let mut uniform = full_problem(coarse.clone());
    let n0 = coarse.voxel_count();
    let nf = fine.voxel_count();
    let parent = |v: usize| {
        let [x, y, z] = fine.coords(v);
        coarse.index(x / 2, y / 2, z / 2)
    };
    let mut initial = vec![0.0f32; 4 * nf];
    for s in 0..4 {
        for v in 0..nf {
            initial[s * nf + v] = uniform.initial[s * n0 + parent(v)];
        }
    }
    let children = |v0: usize| -> Vec<usize> {
        (0..nf)
            .filter(|&v| parent(v) == v0 && fine.labels[v].is_tissue())
            .collect()
    };
    uniform.depots[0].voxels = uniform.depots[0]
        .voxels
        .iter()
        .flat_map(|&(v0, w)| children(v0).into_iter().map(move |v| (v, w / 8.0)))
        .collect();
    let mut sources = secretome::problem::SourceMap::new(4);
    for (&v0, rates) in &uniform.sources.entries {
        for v in children(v0) {
            for (s, &r) in rates.iter().enumerate() {
                sources.add_rate(v, s, r);
            }
        }
    }
    uniform.sources = sources;
    uniform.initial = initial;
    uniform.grid = fine;
    let mut a = CpuReference::new(&refined).unwrap();
    let mut b = CpuReference::new(&uniform).unwrap();
    assert_eq!(a.plan().stages(), b.plan().stages());
    // One step per call: a refined problem takes each step's leading half-step on its own
    // (as the GPU does on levels), which a uniform one does when stepped one at a time.
    for _ in 0..12 {
        a.step(1);
        b.step(1);
    }
    let na = refined.voxel_count();
    let scale = b.fields().iter().copied().fold(0.0, f64::max);
    for s in 0..4 {
        for v in 0..nf {
            if uniform.grid.labels[v].is_tissue() {
                let (x, y) = (a.fields()[s * na + n0 + v], b.fields()[s * nf + v]);
                assert!(
                    (x - y).abs() < 1e-12 * scale,
                    "species {s} voxel {v}: {x} vs {y}"
                );
                let (x, y) = (
                    a.exposure().auc[s * na + n0 + v],
                    b.exposure().auc[s * nf + v],
                );
                assert!((x - y).abs() < 1e-12 * x.abs().max(1.0), "AUC {x} vs {y}");
            }
        }
    }
    let (la, lb) = (a.ledger(), b.ledger());
    for s in 0..4 {
        let (x, y) = (&la.species[s], &lb.species[s]);
        for (p, q) in [
            (x.in_tissue, y.in_tissue),
            (x.secreted, y.secreted),
            (x.degraded, y.degraded),
            (x.taken_up, y.taken_up),
            (x.to_plasma_capillary, y.to_plasma_capillary),
            (x.to_blood_faces, y.to_blood_faces),
        ] {
            assert!(
                (p - q).abs() <= 1e-10 * p.abs().max(q.abs()),
                "{s}: {p} vs {q}"
            );
        }
        assert!(x.closure_error(a.initial_amounts()[s]).abs() < 1e-12);
    }
    assert!((a.depot_cells()[0] - b.depot_cells()[0]).abs() < 1e-9 * b.depot_cells()[0]);
    let (ra, rb) = (a.region_stats(), b.region_stats());
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!(x.region, y.region);
        for (p, q) in x.species.iter().zip(&y.species) {
            for (u, w) in [
                (p.mean, q.mean),
                (p.max, q.max),
                (p.auc, q.auc),
                (p.fraction_above, q.fraction_above),
                (p.occupancy, q.occupancy),
            ] {
                assert!(
                    (u - w).abs() <= 1e-10 * u.abs().max(1e-12),
                    "{:?}: {u} vs {w}",
                    x.region
                );
            }
        }
    }
}

/// A depot refined twice, amid blood, outside voxels and four tissues, with every term on: the
/// ledger closes to 1e-12 over 3 hours (f64), the fields undershoot no more than on one level,
/// and the cells feel their own factors.
#[test]
fn a_refined_problem_with_every_term_keeps_its_ledger() {
    let coarse = common::heterogeneous_grid([14, 12, 12], 0.2);
    let mid = coarse.dims.map(|d| d as f64 * 0.1);
    let comp = Composite::new(coarse.dims, coarse.spacing, 2, move |l, p| {
        let r = if l == 0 { 0.7 } else { 0.4 };
        (p[0] - mid[0] - 0.4).abs() < r
            && (p[1] - mid[1] + 0.2).abs() < r
            && (p[2] - mid[2]).abs() < r
    })
    .unwrap();
    let p = full_problem(coarse).refine(&comp).unwrap();
    let levels = p.levels.as_ref().unwrap();
    assert!(!levels.faces.is_empty() && levels.grids.len() == 2);
    let mut twin = CpuReference::new(&p).unwrap();
    twin.step(18);
    let ledger = twin.ledger();
    for (s, l) in ledger.species.iter().enumerate() {
        let e = l.closure_error(twin.initial_amounts()[s]);
        eprintln!("species {s}: closure {e:.1e}");
        assert!(e.abs() < 1e-12, "species {s}: {e:e} ({l:?})");
        assert!(l.secreted > 0.0 && l.taken_up > 0.0 && l.to_blood_faces != 0.0);
    }
    // RKL1 with 10-minute steps undershoots a little next to the strong point source, on any
    // grid: −3.1e-5 of the peak on the coarse grid alone, −2.3e-5 refined twice everywhere.
    let n = p.voxel_count();
    for s in 0..4 {
        let tissue = (0..n).filter(|&v| p.label_at(v).is_tissue());
        let c: Vec<f64> = tissue.map(|v| twin.fields()[s * n + v]).collect();
        let lo = c.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = c.iter().copied().fold(0.0, f64::max);
        eprintln!("species {s}: least {:.1e} of the peak", lo / hi);
        assert!(lo > -1e-4 * hi, "species {s}: {lo} with a peak of {hi}");
    }
    assert!(twin.depot_concentrations()[0].iter().all(|&c| c > 0.0));
}

/// The full model refined once around its depot vs refined once everywhere (the same labels at
/// half the spacing), 3 h: in the refined zone every leaf within 1 % of the peak, and the
/// cells' sampled concentrations within 1 %.
#[test]
fn refined_around_the_depot_matches_refined_everywhere_on_the_full_model() {
    let coarse = common::heterogeneous_grid([14, 12, 12], 0.2);
    let mid = coarse.dims.map(|d| d as f64 * 0.1);
    // The depot spans x 1.4–2.4 mm, y 0.6–1.4 mm, z 0.8–1.6 mm; refine 0.8 mm around it.
    let around = Composite::new(coarse.dims, coarse.spacing, 1, move |_, p| {
        (p[0] - mid[0] - 0.5).abs() < 1.3
            && (p[1] - mid[1] + 0.2).abs() < 1.2
            && (p[2] - mid[2]).abs() < 1.2
    })
    .unwrap();
    let everywhere = Composite::new(coarse.dims, coarse.spacing, 1, |_, _| true).unwrap();
    let mut runs = Vec::new();
    for comp in [&around, &everywhere] {
        let p = full_problem(coarse.clone()).refine(comp).unwrap();
        let mut twin = CpuReference::new(&p).unwrap();
        twin.step(18);
        runs.push((p, twin));
    }
    let (pa, a) = &runs[0];
    let (pb, b) = &runs[1];
    let (na, nb) = (pa.voxel_count(), pb.voxel_count());
    let off = pa.level_offsets();
    for s in 0..4 {
        let peak = (0..nb)
            .filter(|&v| pb.label_at(v).is_tissue())
            .map(|v| b.fields()[s * nb + v])
            .fold(0.0, f64::max);
        let mut worst: f64 = 0.0;
        for v in off[1]..off[2] {
            if pa.label_at(v).is_tissue() {
                let u = pb.voxel_at(pa.voxel_centre(v)).unwrap();
                worst = worst.max((a.fields()[s * na + v] - b.fields()[s * nb + u]).abs());
            }
        }
        let (ca, cb) = (
            a.depot_concentrations()[0][s],
            b.depot_concentrations()[0][s],
        );
        eprintln!(
            "species {s}: refined zone {:.2e} of the peak; at the cells {:.2e}",
            worst / peak,
            (ca - cb).abs() / cb
        );
        assert!(worst < 0.01 * peak, "species {s}: {:e}", worst / peak);
        assert!((ca - cb).abs() < 0.01 * cb, "species {s}: {ca} vs {cb}");
    }
}
