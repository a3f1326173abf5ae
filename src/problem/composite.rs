//! Levels of refinement (issue 17), the discretisation: a box of coarse
//! voxels, some split into 2×2×2 finer ones, recursively, with neighbouring leaves at most one
//! level apart (2:1 balance). Finite volumes on the leaves: every face between two leaves is a
//! conductance `D·area/distance`, its flux computed once and added to one side and taken from
//! the other, so the amount is conserved exactly across coarse–fine faces. A coarse–fine face is
//! one fine voxel's face; its distance is that between the two centres along the normal
//! (1.5 fine voxels).
//!
//! Time steps as the solver's (`problem::scheme`): Strang splitting of the exact decay around
//! RKL1 super-time-stepping of diffusion, whose stage count the finest level sets.
//!
//! `Problem::refine` (`problem::levels`) builds a problem on levels from such a box;
//! `sim::levels::LevelSolver` steps one species on it in f64, the reference the problem on
//! levels is checked against.

use std::collections::HashMap;

use crate::error::{Result, SimError};

/// One leaf voxel: its level (0 = coarsest) and integer position at that level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cell {
    pub level: u8,
    pub ijk: [u32; 3],
}

impl Cell {
    /// The eight cells of the next level inside this one.
    pub fn children(&self) -> [Cell; 8] {
        std::array::from_fn(|k| {
            let k = k as u32;
            Cell {
                level: self.level + 1,
                ijk: [
                    2 * self.ijk[0] + (k & 1),
                    2 * self.ijk[1] + ((k >> 1) & 1),
                    2 * self.ijk[2] + ((k >> 2) & 1),
                ],
            }
        })
    }

    /// The cell of the previous level holding this one (level 0: itself).
    pub fn parent(&self) -> Cell {
        Cell {
            level: self.level.saturating_sub(1),
            ijk: if self.level == 0 {
                self.ijk
            } else {
                self.ijk.map(|v| v / 2)
            },
        }
    }
}

/// A face between two leaves. Its flux, `D · Σ wᵢ cᵢ` (mm³/s × ng/mL; the weights sum to zero),
/// goes into `a` and out of `b`. Between two voxels of one level the stencil is
/// `area/distance · (c_b − c_a)`. Between levels `a` is the fine voxel and `b` the coarse one:
/// the normal derivative at the face comes from a parabola through the fine voxel, the next
/// fine voxel inwards and the coarse field at the fine voxel's position across the face (`c_b`
/// plus the coarse gradient along the face times the fine centre's offset), second order where
/// a two-point difference over 1.5 fine voxels would be first.
#[derive(Clone, Debug)]
pub struct Face {
    pub a: usize,
    pub b: usize,
    pub stencil: Vec<(usize, f64)>,
}

/// A box of coarse voxels refined in places.
#[derive(Clone, Debug)]
pub struct Composite {
    /// Coarse voxels along each axis.
    pub dims: [usize; 3],
    /// Coarse voxel edge, mm.
    pub spacing: f64,
    pub cells: Vec<Cell>,
    pub faces: Vec<Face>,
    index: HashMap<Cell, usize>,
}

impl Composite {
    /// The box refined where `refine(level, centre)` says, down to `levels` levels below the
    /// coarse one, then balanced 2:1 (a leaf next to one two levels finer is split too).
    pub fn new(
        dims: [usize; 3],
        spacing: f64,
        levels: u8,
        refine: impl Fn(u8, [f64; 3]) -> bool,
    ) -> Result<Self> {
        if dims.contains(&0) || !(spacing > 0.0 && spacing.is_finite()) {
            return Err(SimError::Problem(format!(
                "levels: a box of {dims:?} voxels of {spacing} mm: expected positive sizes"
            )));
        }
        let mut leaves: HashMap<Cell, ()> = HashMap::new();
        for z in 0..dims[2] {
            for y in 0..dims[1] {
                for x in 0..dims[0] {
                    leaves.insert(
                        Cell {
                            level: 0,
                            ijk: [x as u32, y as u32, z as u32],
                        },
                        (),
                    );
                }
            }
        }
        let centre = |c: &Cell| {
            let h = spacing / f64::from(1u32 << c.level);
            c.ijk.map(|i| (f64::from(i) + 0.5) * h)
        };
        for level in 0..levels {
            let split: Vec<Cell> = leaves
                .keys()
                .filter(|c| c.level == level && refine(level, centre(c)))
                .copied()
                .collect();
            for c in split {
                split_cell(&mut leaves, c);
            }
        }
        // 2:1 balance: a leaf across a face of a leaf two or more levels finer is split, until
        // none is. Only leaves of level ≥ 2 can call for a split, and only those a split
        // creates can call for more: a worklist of them, not passes over the whole box.
        let mut work: Vec<Cell> = leaves.keys().filter(|c| c.level >= 2).copied().collect();
        while let Some(b) = work.pop() {
            if !leaves.contains_key(&b) {
                continue; // split since: its children are on the list
            }
            for dir in 0..6 {
                let Some(n) = same_level_neighbour(&b, dir, dims) else {
                    continue;
                };
                // The leaf holding that position, where a coarser one does.
                let mut up = n;
                while up.level > 0 && !leaves.contains_key(&up) {
                    up = up.parent();
                }
                if up.level + 1 < b.level && leaves.contains_key(&up) {
                    split_cell(&mut leaves, up);
                    work.extend(up.children().into_iter().filter(|c| c.level >= 2));
                    // Its children may still be too coarse for b: look again.
                    work.push(b);
                    break;
                }
            }
        }
        let mut cells: Vec<Cell> = leaves.into_keys().collect();
        cells.sort_by_key(|c| (c.level, c.ijk[2], c.ijk[1], c.ijk[0]));
        let index: HashMap<Cell, usize> = cells.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        let mut faces = Vec::new();
        for (a, c) in cells.iter().enumerate() {
            let h = spacing / f64::from(1u32 << c.level);
            for dir in 0..6 {
                let Some(n) = same_level_neighbour(c, dir, dims) else {
                    continue; // the box's wall: no flux
                };
                if let Some(&b) = index.get(&n) {
                    // Same level: each face once, from its lower side.
                    if dir % 2 == 1 {
                        faces.push(Face {
                            a,
                            b,
                            stencil: vec![(b, h), (a, -h)],
                        });
                    }
                } else if n.level > 0 {
                    // A coarser leaf holds the position: the face is this voxel's.
                    let coarse = n.parent();
                    if let Some(&b) = index.get(&coarse) {
                        // c_b′ = c_b + Σ tangential; the next fine voxel inwards, if a leaf.
                        let mut across = vec![(b, 1.0)];
                        across.extend(tangential(&index, c, &coarse, dir, dims));
                        let inner = same_level_neighbour(c, dir ^ 1, dims)
                            .and_then(|m| index.get(&m).copied());
                        // Positions along the normal in fine edges from the face: inner −1.5,
                        // a −0.5, across +1; d/dn at 0 of the parabola through them.
                        let (w_inner, w_a, w_across) = match inner {
                            Some(_) => (-0.2, -1.0 / 3.0, 8.0 / 15.0),
                            None => (0.0, -2.0 / 3.0, 2.0 / 3.0),
                        };
                        let g = h * h / h; // area / fine edge
                        let mut stencil = vec![(a, g * w_a)];
                        if let Some(m) = inner {
                            stencil.push((m, g * w_inner));
                        }
                        stencil.extend(across.into_iter().map(|(i, w)| (i, g * w * w_across)));
                        faces.push(Face { a, b, stencil });
                    }
                }
                // Otherwise the neighbour region is finer: its voxels own those faces.
            }
        }
        Ok(Composite {
            dims,
            spacing,
            cells,
            faces,
            index,
        })
    }

    /// The index of leaf `c` in `cells`, if it is a leaf.
    pub fn index_of(&self, c: &Cell) -> Option<usize> {
        self.index.get(c).copied()
    }

    /// Voxel edge of a cell, mm.
    pub fn edge(&self, i: usize) -> f64 {
        self.spacing / f64::from(1u32 << self.cells[i].level)
    }

    /// Volume of a cell, mm³ (µL).
    pub fn volume(&self, i: usize) -> f64 {
        self.edge(i).powi(3)
    }

    /// Centre of a cell, mm from the box's corner.
    pub fn centre(&self, i: usize) -> [f64; 3] {
        let h = self.edge(i);
        self.cells[i].ijk.map(|v| (f64::from(v) + 0.5) * h)
    }

    /// The leaf holding point `p` (mm from the box's corner), if inside the box.
    pub fn leaf_at(&self, p: [f64; 3]) -> Option<usize> {
        let max_level = self.cells.iter().map(|c| c.level).max().unwrap_or(0);
        for level in 0..=max_level {
            let h = self.spacing / f64::from(1u32 << level);
            let mut ijk = [0u32; 3];
            for k in 0..3 {
                let f = p[k] / h;
                if !(f >= 0.0 && f < (self.dims[k] << level) as f64) {
                    return None;
                }
                ijk[k] = f as u32;
            }
            if let Some(&i) = self.index.get(&Cell { level, ijk }) {
                return Some(i);
            }
        }
        None
    }

    /// The value a cell position of any level shows for `field` (one value per leaf): its
    /// leaf's, the coarser leaf's that holds it, or the mean of the leaves it is refined into
    /// (the exact cell average of the piecewise-constant field).
    pub fn value_at(&self, field: &[f64], cell: Cell) -> f64 {
        if let Some(&i) = self.index.get(&cell) {
            return field[i];
        }
        let mut up = cell;
        while up.level > 0 {
            up = up.parent();
            if let Some(&i) = self.index.get(&up) {
                return field[i];
            }
        }
        self.mean_below(field, cell)
    }

    /// The mean of `field` over a position that no coarser leaf holds.
    fn mean_below(&self, field: &[f64], cell: Cell) -> f64 {
        if let Some(&i) = self.index.get(&cell) {
            return field[i];
        }
        if cell.level >= 24 {
            return f64::NAN;
        }
        cell.children()
            .iter()
            .map(|&child| self.mean_below(field, child))
            .sum::<f64>()
            / 8.0
    }

    /// `field` carried onto `to`, another refinement of the same box (regridding): each cell of
    /// `to` takes the average of `field` over it. A cell inside a coarser leaf takes that leaf's
    /// value; a cell over finer leaves takes their mean. The amount `Σ c·V` is conserved.
    pub fn transfer(&self, field: &[f64], to: &Composite) -> Result<Vec<f64>> {
        if to.dims != self.dims || to.spacing != self.spacing {
            return Err(SimError::Problem(format!(
                "levels: a transfer from a box of {:?} voxels of {} mm to one of {:?} of {} mm",
                self.dims, self.spacing, to.dims, to.spacing
            )));
        }
        Ok(to.cells.iter().map(|&c| self.value_at(field, c)).collect())
    }

    /// Cells per level, coarsest first.
    pub fn per_level(&self) -> Vec<usize> {
        let mut n = Vec::new();
        for c in &self.cells {
            let l = c.level as usize;
            if n.len() <= l {
                n.resize(l + 1, 0);
            }
            n[l] += 1;
        }
        n
    }

    /// The forward-Euler limit of diffusion with diffusivity `d` (mm²/s), s: 2/ρ, with ρ the
    /// Gershgorin bound of the operator (per cell, the absolute stencil weights of its faces
    /// over its volume). On a uniform grid that is the solver's h²/(6D).
    pub fn dt_fe(&self, d: f64) -> f64 {
        // Gershgorin: each cell's own coefficient and the stencil weights that reach it.
        let mut sum = vec![0.0; self.cells.len()];
        for f in &self.faces {
            let total: f64 = f.stencil.iter().map(|w| w.1.abs()).sum();
            sum[f.a] += total;
            sum[f.b] += total;
        }
        (0..self.cells.len())
            .filter(|&i| sum[i] > 0.0)
            .map(|i| 2.0 * self.volume(i) / (d * sum[i]))
            .fold(f64::INFINITY, f64::min)
    }

    /// Average of the leaves over each coarse voxel (volume-weighted): the coarse image.
    pub fn coarse_average(&self, c: &[f64]) -> Vec<f64> {
        let [nx, ny, nz] = self.dims;
        let mut out = vec![0.0; nx * ny * nz];
        let v0 = self.spacing.powi(3);
        for (i, cell) in self.cells.iter().enumerate() {
            let [x, y, z] = cell.ijk.map(|v| (v >> cell.level) as usize);
            out[x + nx * (y + ny * z)] += c[i] * self.volume(i) / v0;
        }
        out
    }
}

/// The coarse field's change from the centre of `coarse` to the fine cell `fine`'s position
/// along the two axes of face `dir`: offset (± a quarter of the coarse edge) times a central
/// difference of the coarse neighbours (one-sided at a wall; a refined neighbour counts as the
/// mean of its children, which 2:1 balance makes leaves). As cells and weights.
fn tangential(
    index: &HashMap<Cell, usize>,
    fine: &Cell,
    coarse: &Cell,
    dir: usize,
    dims: [usize; 3],
) -> Vec<(usize, f64)> {
    let value = |c: &Cell| -> Option<Vec<(usize, f64)>> {
        if let Some(&i) = index.get(c) {
            return Some(vec![(i, 1.0)]);
        }
        c.children()
            .iter()
            .map(|child| index.get(child).map(|&i| (i, 0.125)))
            .collect()
    };
    let Some(centre) = value(coarse) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in (0..3).filter(|&t| t != dir / 2) {
        // Offset of the fine centre from the coarse centre, in coarse edges: ±1/4.
        let offset = if fine.ijk[t].is_multiple_of(2) {
            -0.25
        } else {
            0.25
        };
        let lo = same_level_neighbour(coarse, 2 * t, dims).and_then(|n| value(&n));
        let hi = same_level_neighbour(coarse, 2 * t + 1, dims).and_then(|n| value(&n));
        let (plus, minus, span) = match (hi, lo) {
            (Some(h), Some(l)) => (h, l, 2.0),
            (Some(h), None) => (h, centre.clone(), 1.0),
            (None, Some(l)) => (centre.clone(), l, 1.0),
            (None, None) => continue,
        };
        out.extend(plus.into_iter().map(|(i, w)| (i, w * offset / span)));
        out.extend(minus.into_iter().map(|(i, w)| (i, -w * offset / span)));
    }
    out
}

/// Where the fields of a spherical depot vary: within `reach` (mm; a few decay lengths) of its
/// surface, inside and out (deep inside, secretion and loss balance and the field is flat;
/// beyond, it has decayed). A cell at level `l` (edge `spacing / 2^l`) is split when its centre
/// lies within `reach` plus its half-diagonal of the surface, so its children cover the zone.
pub fn shell_refinement(
    spacing: f64,
    centre: [f64; 3],
    radius: f64,
    reach: f64,
) -> impl Fn(u8, [f64; 3]) -> bool {
    move |level: u8, p: [f64; 3]| {
        let h = spacing / f64::from(1u32 << level);
        let r = (0..3)
            .map(|k| (p[k] - centre[k]).powi(2))
            .sum::<f64>()
            .sqrt();
        (r - radius).abs() < reach + 0.5 * 3f64.sqrt() * h
    }
}

/// The levels a depot needs, from the decay lengths of the species (mm), down to `finest` (mm):
/// a species with decay length λ is resolved by voxels of edge ≤ λ/2, so level l is needed
/// within `reach_lengths`·λ of the depot's surface for every species whose λ/2 is below the
/// edge of level l − 1. Returns the number of levels below the coarse one and a criterion for
/// [`Composite::new`].
pub fn depot_refinement(
    spacing: f64,
    finest: f64,
    centre: [f64; 3],
    radius: f64,
    decay_lengths: &[f64],
    reach_lengths: f64,
) -> (u8, impl Fn(u8, [f64; 3]) -> bool) {
    let mut levels = 0u8;
    while levels < 16 && spacing / f64::from(1u32 << (levels + 1)) >= finest * (1.0 - 1e-9) {
        levels += 1;
    }
    // Reach of level l + 1 (what splitting a level-l cell is for): the species that level l
    // leaves unresolved.
    let reaches: Vec<f64> = (0..levels)
        .map(|l| {
            let h = spacing / f64::from(1u32 << l);
            decay_lengths
                .iter()
                .filter(|&&lambda| lambda / 2.0 < h)
                .map(|&lambda| reach_lengths * lambda)
                .fold(0.0, f64::max)
        })
        .collect();
    let criterion = move |level: u8, p: [f64; 3]| {
        let Some(&reach) = reaches.get(level as usize) else {
            return false;
        };
        reach > 0.0 && shell_refinement(spacing, centre, radius, reach)(level, p)
    };
    (levels, criterion)
}

fn split_cell(leaves: &mut HashMap<Cell, ()>, c: Cell) {
    leaves.remove(&c);
    for child in c.children() {
        leaves.insert(child, ());
    }
}

/// The cell of the same level across face `dir` (0 −x, 1 +x, 2 −y, 3 +y, 4 −z, 5 +z), if the
/// box holds it.
pub(crate) fn same_level_neighbour(c: &Cell, dir: usize, dims: [usize; 3]) -> Option<Cell> {
    let k = dir / 2;
    let mut ijk = c.ijk;
    if dir.is_multiple_of(2) {
        ijk[k] = ijk[k].checked_sub(1)?;
    } else {
        ijk[k] += 1;
        if ijk[k] as usize >= dims[k] << c.level {
            return None;
        }
    }
    Some(Cell {
        level: c.level,
        ijk,
    })
}

/// The finest level of the leaves inside region `r` (a cell position, leaf or not) that touch
/// its face `dir`; `r.level` if `r` is a leaf, less if a coarser leaf holds it.
#[cfg(test)]
fn finest_touching(leaves: &HashMap<Cell, ()>, r: &Cell, dir: usize) -> u8 {
    if leaves.contains_key(r) {
        return r.level;
    }
    // Held by a coarser leaf?
    let mut up = *r;
    while up.level > 0 {
        up = up.parent();
        if leaves.contains_key(&up) {
            return r.level.saturating_sub(1);
        }
    }
    // Split: the children on that face.
    let k = dir / 2;
    let side = (dir % 2) as u32;
    let mut finest = r.level + 1;
    for a in 0..2u32 {
        for b in 0..2u32 {
            let mut off = [0u32; 3];
            off[k] = side;
            off[(k + 1) % 3] = a;
            off[(k + 2) % 3] = b;
            let child = Cell {
                level: r.level + 1,
                ijk: [
                    2 * r.ijk[0] + off[0],
                    2 * r.ijk[1] + off[1],
                    2 * r.ijk[2] + off[2],
                ],
            };
            finest = finest.max(finest_touching_child(leaves, &child, dir));
        }
    }
    finest
}

#[cfg(test)]
fn finest_touching_child(leaves: &HashMap<Cell, ()>, c: &Cell, dir: usize) -> u8 {
    // (Level 24 stops a malformed tree from recursing without end.)
    if leaves.contains_key(c) || c.level >= 24 {
        c.level
    } else {
        finest_touching(leaves, c, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The balance's worklist leaves no leaf beside a region two or more levels finer (the
    /// condition checked the slow way, by the finest leaf touching each face), and the leaves
    /// tile the box.
    #[test]
    fn refinement_is_balanced_and_tiles_the_box() {
        let dims = [9, 7, 8];
        // Two sharp spots refined four levels down: unbalanced before the balance.
        let comp = Composite::new(dims, 1.0, 4, |level, p| {
            let near = |c: [f64; 3], r: f64| (0..3).all(|k| (p[k] - c[k]).abs() < r);
            near([2.3, 2.2, 2.6], 0.4 / f64::from(1u32 << level))
                || near([6.6, 4.1, 5.2], 0.3 / f64::from(1u32 << level))
        })
        .unwrap();
        let leaves: HashMap<Cell, ()> = comp.cells.iter().map(|c| (*c, ())).collect();
        assert!(comp.cells.iter().any(|c| c.level == 4));
        for c in &comp.cells {
            for dir in 0..6 {
                if let Some(n) = same_level_neighbour(c, dir, dims) {
                    assert!(
                        finest_touching(&leaves, &n, dir ^ 1) <= c.level + 1,
                        "{c:?} across {dir}"
                    );
                }
            }
        }
        let volume: f64 = (0..comp.cells.len()).map(|i| comp.volume(i)).sum();
        assert!((volume - (9 * 7 * 8) as f64).abs() < 1e-9, "{volume}");
    }
}
