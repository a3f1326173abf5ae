//! Tests of the problem on levels (`problem::levels`).
use super::*;
use crate::base::{Species, SpeciesTable};

/// An 8³ box of 1 mm: blood in the lowest x layer, infarct in the highest, myocardium
/// between; one species; a field rising along x; a source and a depot in the middle.
fn problem() -> Problem {
    let mut g = Grid::filled([8; 3], 1.0, TissueLabel::Myocardium);
    for v in 0..g.voxel_count() {
        match g.coords(v)[0] {
            0 => g.labels[v] = TissueLabel::BloodLv,
            7 => g.labels[v] = TissueLabel::Infarct,
            _ => {}
        }
    }
    let species = SpeciesTable {
        species: vec![Species::simple("s", 1e-4, 1e-4)],
    };
    let mut p = Problem::new(g, species, 60.0);
    for v in 0..p.grid.voxel_count() {
        p.initial[v] = 1.0 + p.grid.coords(v)[0] as f32;
    }
    let mid = p.grid.index(4, 4, 4);
    p.sources.add_rate(mid, 0, 2.0);
    p.depots = vec![DepotSource {
        name: "d".into(),
        voxels: vec![(mid, 0.5), (p.grid.index(1, 4, 4), 0.5)],
        cells: 10.0,
        secretion: vec![1e-6],
        k_death: 0.0,
        cell_free: false,
    }];
    p
}

#[test]
fn refining_keeps_every_amount_and_meets_blood_at_each_level() {
    let p = problem();
    // Refine the voxels within 2.5 mm of (1.5, 4, 4), twice near it.
    let comp = Composite::new([8; 3], 1.0, 2, |l, c| {
        let r = if l == 0 { 2.5 } else { 1.2 };
        (c[0] - 1.5).abs() < r && (c[1] - 4.0).abs() < r && (c[2] - 4.0).abs() < r
    })
    .unwrap();
    let r = p.refine(&comp).unwrap();
    let levels = r.levels.as_ref().unwrap();
    assert_eq!(levels.grids.len(), 2);
    // Covered voxels leave level 0, except blood.
    for (v, l) in r.grid.labels.iter().enumerate() {
        let [x, y, z] = r.grid.coords(v).map(|i| i as u32);
        let leaf = comp.cells.contains(&Cell {
            level: 0,
            ijk: [x, y, z],
        });
        let was = p.grid.labels[v];
        let expect = if leaf || was.kind() == LabelKind::Blood {
            was
        } else {
            TissueLabel::Outside
        };
        assert_eq!(*l, expect);
    }
    // The amounts in tissue, secreted by the sources and by the depot, stay.
    let a = p.tissue_amounts(&p.initial);
    let b = r.tissue_amounts(&r.initial);
    assert!((a[0] - b[0]).abs() < 1e-12 * a[0], "{a:?} vs {b:?}");
    let rate = |q: &Problem| -> f64 {
        q.source_entries()
            .iter()
            .flat_map(|(&v, list)| {
                let scales = q.depot_scales();
                list.iter()
                    .map(move |e| e.rates[0] * scales[e.depot] * q.interstitial_ml(v))
                    .collect::<Vec<_>>()
            })
            .sum()
    };
    assert!((rate(&p) - rate(&r)).abs() < 1e-12 * rate(&p));
    let w: f64 = r.depots[0].voxels.iter().map(|x| x.1).sum();
    assert!((w - 1.0).abs() < 1e-12);
    // A depot placed on the coarse geometry afterwards lands on the same leaves.
    let mut placed = r.depot_on_levels(&p.depots[0].voxels);
    let mut refined = r.depots[0].voxels.clone();
    placed.sort_by_key(|x| x.0);
    refined.sort_by_key(|x| x.0);
    assert_eq!(placed, refined);
    assert_eq!(r.coarse_labels(), p.grid.labels);
    // The finest leaf at a point, and its blood: every level holds the blood pool beside
    // its leaves.
    let v = r.voxel_at([1.6, 4.1, 4.1]).unwrap();
    assert_eq!(r.level_at(v), 2);
    assert_eq!(r.label_at(v), TissueLabel::Myocardium);
    for (k, g) in levels.grids.iter().enumerate() {
        let x0 = ((1.0 - g.origin[0]) / g.spacing).round() as usize - 1;
        let [_, y, z] = [0, 1, 2].map(|k| ((4.1 - g.origin[k]) / g.spacing) as usize);
        assert_eq!(g.labels[g.index(x0, y, z)], TissueLabel::BloodLv);
        // Level 1 is split further there: its position is not a leaf.
        let next = [TissueLabel::Outside, TissueLabel::Myocardium][k];
        assert_eq!(g.labels[g.index(x0 + 1, y, z)], next);
    }
    // Faces only between tissue, weights summing to zero; the two-point form where labels
    // meet (none here: the refined zone holds myocardium only).
    assert!(!levels.faces.is_empty());
    for f in &levels.faces {
        assert!(r.label_at(f.fine).is_tissue() && r.label_at(f.coarse).is_tissue());
        assert!(r.level_at(f.fine) == r.level_at(f.coarse) + 1);
    }
    // One level's forward-Euler bound is the finest voxels' h²/(6D) at most.
    let fe = r.dt_forward_euler();
    assert!(fe <= 0.25f64.powi(2) / (6.0 * 1e-4) * (1.0 + 1e-12), "{fe}");
    // Cell averages give back the coarse field, which the refinement copied.
    let f: Vec<f64> = r.initial.iter().map(|&c| c as f64).collect();
    let avg = r.coarse_average(&f);
    for (v, a) in avg.iter().enumerate() {
        if p.grid.labels[v].is_tissue() {
            assert!((a - p.initial[v] as f64).abs() < 1e-12, "voxel {v}");
        }
    }
    // Refining twice is refused; so is a composite of another box.
    assert!(r.refine(&comp).is_err());
    let other = Composite::new([4; 3], 1.0, 1, |_, _| true).unwrap();
    let e = p.refine(&other).unwrap_err().to_string();
    assert!(e.contains("a composite of [4, 4, 4] voxels"), "{e}");
}
