//! Patches of a refinement level (issue 17): boxes around groups of one level's leaves, kept
//! apart so that every face between two leaves of the level lies inside one patch
//! ([`super::Problem::refine`] builds each level's grids from them).

/// Boxes (low and high corners, inclusive) around the `cells` of one level, whose positions
/// run below `extent`: the cells grouped by 8³ blocks that touch (26 neighbours), each group's
/// box widened by one cell where `extent` allows, and boxes that then meet merged, until none
/// meet. Sorted by their low corners.
pub(super) fn patch_boxes(cells: &[[u32; 3]], extent: [u32; 3]) -> Vec<([u32; 3], [u32; 3])> {
    const BLOCK: u32 = 8;
    let mut blocks: std::collections::HashMap<[u32; 3], ([u32; 3], [u32; 3])> =
        std::collections::HashMap::new();
    type Box3 = ([u32; 3], [u32; 3]);
    // `b` widened to hold `other`.
    fn widen(b: &mut Box3, other: &Box3) {
        b.0 = [0, 1, 2].map(|k| b.0[k].min(other.0[k]));
        b.1 = [0, 1, 2].map(|k| b.1[k].max(other.1[k]));
    }
    for c in cells {
        widen(
            blocks.entry(c.map(|v| v / BLOCK)).or_insert((*c, *c)),
            &(*c, *c),
        );
    }
    let mut keys: Vec<[u32; 3]> = blocks.keys().copied().collect();
    keys.sort_unstable();
    let id: std::collections::HashMap<[u32; 3], usize> =
        keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, k) in keys.iter().enumerate() {
        for d in 0..27u32 {
            let n = [d % 3, (d / 3) % 3, d / 9].map(|x| x as i64 - 1);
            let at = [0, 1, 2].map(|a| i64::from(k[a]) + n[a]);
            if at.iter().any(|&x| x < 0) {
                continue;
            }
            if let Some(&j) = id.get(&at.map(|x| x as u32)) {
                let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                parent[ri.max(rj)] = ri.min(rj);
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, ([u32; 3], [u32; 3])> =
        std::collections::BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        let r = root(&mut parent, i);
        let b = blocks[k];
        widen(groups.entry(r).or_insert(b), &b);
    }
    let mut boxes: Vec<([u32; 3], [u32; 3])> = groups
        .into_values()
        .map(|(lo, hi)| {
            (
                lo.map(|v| v.saturating_sub(1)),
                [0, 1, 2].map(|a| (hi[a] + 1).min(extent[a].saturating_sub(1))),
            )
        })
        .collect();
    let meet = |a: &([u32; 3], [u32; 3]), b: &([u32; 3], [u32; 3])| {
        (0..3).all(|k| a.0[k] <= b.1[k] && b.0[k] <= a.1[k])
    };
    'merge: loop {
        for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                if meet(&boxes[i], &boxes[j]) {
                    let b = boxes.swap_remove(j);
                    widen(&mut boxes[i], &b);
                    continue 'merge;
                }
            }
        }
        break;
    }
    boxes.sort_unstable();
    boxes
}

#[cfg(test)]
mod tests {
    use crate::base::{Grid, Species, SpeciesTable, TissueLabel};
    use crate::problem::composite::Composite;
    use crate::problem::Problem;

    /// Three refined zones along a long box, two of them close: each level's leaves fall into
    /// patches that keep apart (the close zones share one at level 1, where their cells'
    /// blocks touch), every leaf lies in exactly one patch, and every face between two leaves
    /// of one level is a face inside one patch, so no flux is lost between patches.
    #[test]
    fn patches_hold_every_leaf_once_and_every_face_of_a_level() {
        let g = Grid::filled([24, 8, 8], 1.0, TissueLabel::Myocardium);
        let species = SpeciesTable {
            species: vec![Species::simple("s", 1e-4, 1e-4)],
        };
        let mut p = Problem::new(g, species, 60.0);
        for v in 0..p.grid.voxel_count() {
            p.initial[v] = 1.0 + p.grid.coords(v)[0] as f32;
        }
        let comp = Composite::new([24, 8, 8], 1.0, 2, |l, c| {
            let r = if l == 0 { 1.5 } else { 0.8 };
            [3.0, 7.0, 20.0]
                .iter()
                .any(|&x| (c[0] - x).abs() < r && (1..3).all(|a| (c[a] - 4.0).abs() < r))
        })
        .unwrap();
        let r = p.refine(&comp).unwrap();
        let levels = r.levels.as_ref().unwrap();
        assert_eq!(levels.level, vec![1, 1, 2, 2, 2]);
        // Patches of a level do not meet, even by their margins.
        let grids = r.level_grids();
        for a in 1..grids.len() {
            for b in a + 1..grids.len() {
                if r.grid_level(a) != r.grid_level(b) {
                    continue;
                }
                let (ga, gb) = (grids[a], grids[b]);
                let apart = (0..3).any(|k| {
                    let (la, lb) = (r.level_corner(a)[k], r.level_corner(b)[k]);
                    la + ga.dims[k] as i64 <= lb || lb + gb.dims[k] as i64 <= la
                });
                assert!(apart, "patches {a} and {b} meet");
            }
        }
        // Every leaf once; every same-level face inside a patch.
        let per_level = comp.per_level();
        let mut leaves = [0usize; 3];
        let mut inner_faces = 0usize;
        for (k, g) in grids.iter().enumerate().skip(1) {
            for i in 0..g.voxel_count() {
                if g.labels[i].is_tissue() {
                    leaves[r.grid_level(k)] += 1;
                    inner_faces += g
                        .neighbours(i)
                        .filter(|&j| j > i && g.labels[j].is_tissue())
                        .count();
                }
            }
        }
        assert_eq!(&leaves[1..], &per_level[1..]);
        let same_level = comp
            .faces
            .iter()
            .filter(|f| {
                let (a, b) = (comp.cells[f.a], comp.cells[f.b]);
                a.level == b.level && a.level > 0
            })
            .count();
        assert_eq!(inner_faces, same_level);
        let a = p.tissue_amounts(&p.initial);
        let b = r.tissue_amounts(&r.initial);
        assert!(a[0] > 0.0 && (a[0] - b[0]).abs() < 1e-12 * a[0]);
    }
}
