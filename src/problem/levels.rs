//! The problem on levels (issue 17): a uniform [`Problem`] refined in places into finer voxels
//! (h/2, h/4, …), as a [`Composite`] of the problem's box says.
//!
//! Each level is one or more [`Grid`]s of its own spacing (patches: boxes around groups of its
//! leaves, apart from each other), so every solver keeps its per-grid machinery (the CPU
//! twin's face lists, the GPU's brick grids). The problem numbers the voxels of all grids one
//! after the other: level 0 (the problem's grid) first, then the finer levels' patches, level
//! by level. A voxel that is a leaf of the composite carries its label at its own level;
//! every other position of a level's grid is `outside` (no flux), except where the coarse voxel
//! holding it is blood: blood is well mixed with plasma at every level, so it stays blood there
//! and each level meets the blood next to it with its own faces, ledger and volume.
//!
//! Faces between tissue of two levels are the composite's coarse–fine stencils
//! ([`super::composite::Face`]: a parabola through two fine voxels and the coarse field moved
//! along the face), times the harmonic mean of the two labels' `ε·m_D`. Each flux goes into the
//! fine voxel and out of the coarse one, so the amount is conserved exactly.
//!
//! Labels are inherited: a refined voxel's children carry its label. The refinement resolves
//! the fields near the cells, not the geometry, which stays that of the coarse grid.

use super::composite::{Cell, Composite};
use super::patches::patch_boxes;
use super::{DepotSource, Problem, SourceMap};
use crate::base::{Grid, LabelKind, TissueLabel};
use crate::error::{Result, SimError};

/// A face between tissue voxels of two levels. Its flux, `D · conductance · Σ wᵢ cᵢ` (mm³/s ×
/// ng/mL), goes into `fine` and out of `coarse`.
#[derive(Clone, Debug, PartialEq)]
pub struct LevelFace {
    /// The fine voxel (problem numbering).
    pub fine: usize,
    /// The coarse voxel across the face.
    pub coarse: usize,
    /// `hm(ε m_D, ε' m_D')` of the two voxels' labels.
    pub conductance: f64,
    /// Voxels and weights (area over distance, mm); the weights sum to zero.
    pub stencil: Vec<(usize, f64)>,
}

/// The finer levels of a problem.
#[derive(Clone, Debug, PartialEq)]
pub struct Levels {
    /// The patches of the finer levels, level by level: each the box around a group of one
    /// level's leaves, one voxel wider on each side where the problem's box allows (so that
    /// each leaf meets the blood beside it). Patches of one level do not overlap, even by
    /// that margin, so leaves of one level that share a face lie in one patch.
    pub grids: Vec<Grid>,
    /// The level of each patch (edge `h/2^l`), non-decreasing.
    pub level: Vec<usize>,
    /// Tissue faces between levels.
    pub faces: Vec<LevelFace>,
}

/// Where a voxel of the problem's numbering lies: its grid (0: the problem's grid, k: patch
/// k − 1 of the finer levels) and its index in that grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelVoxel {
    pub grid: usize,
    pub index: usize,
}

impl Problem {
    /// The grids of every level, coarsest (the problem's grid) first, then each finer level's
    /// patches ([`Problem::grid_level`] gives their levels).
    pub fn level_grids(&self) -> Vec<&Grid> {
        let mut out = vec![&self.grid];
        if let Some(l) = &self.levels {
            out.extend(l.grids.iter());
        }
        out
    }

    /// Grid `k` of [`Problem::level_grids`] (0: the problem's grid), without building the list.
    fn grid_of(&self, k: usize) -> Option<&Grid> {
        match (k, &self.levels) {
            (0, _) => Some(&self.grid),
            (k, Some(levels)) => levels.grids.get(k - 1),
            (_, None) => None,
        }
    }

    /// The level of grid `k` of [`Problem::level_grids`] (edge `h/2^l`; 0 for the problem's
    /// grid).
    pub fn grid_level(&self, k: usize) -> usize {
        match (k, &self.levels) {
            (0, _) | (_, None) => 0,
            (k, Some(levels)) => levels.level.get(k - 1).copied().unwrap_or(0),
        }
    }

    /// Levels below the problem's grid (0 without refinement).
    pub fn finest_level(&self) -> usize {
        self.levels
            .as_ref()
            .and_then(|l| l.level.last().copied())
            .unwrap_or(0)
    }

    /// First voxel of each grid of [`Problem::level_grids`] in the problem's numbering, and
    /// one past the last.
    pub fn level_offsets(&self) -> Vec<usize> {
        let mut out = vec![0];
        for g in self.level_grids() {
            out.push(out[out.len() - 1] + g.voxel_count());
        }
        out
    }

    /// Voxels of all levels.
    pub fn voxel_count(&self) -> usize {
        self.level_grids().iter().map(|g| g.voxel_count()).sum()
    }

    /// The grid and grid index of voxel `v` (problem numbering).
    pub fn locate(&self, v: usize) -> LevelVoxel {
        let Some(l) = &self.levels else {
            return LevelVoxel { grid: 0, index: v };
        };
        let mut start = self.grid.voxel_count();
        if v < start {
            return LevelVoxel { grid: 0, index: v };
        }
        for (k, g) in l.grids.iter().enumerate() {
            if v < start + g.voxel_count() {
                return LevelVoxel {
                    grid: k + 1,
                    index: v - start,
                };
            }
            start += g.voxel_count();
        }
        LevelVoxel {
            grid: l.grids.len(),
            index: v - start,
        }
    }

    /// The level of voxel `v` (problem numbering).
    pub fn level_at(&self, v: usize) -> usize {
        self.grid_level(self.locate(v).grid)
    }

    /// Each voxel's weight in the regional statistics, in coarse voxels (problem numbering):
    /// a tissue voxel of level l weighs 8^−l; blood counts at level 0 only (finer levels
    /// repeat it); outside voxels weigh nothing.
    pub fn region_weights(&self) -> Vec<f64> {
        self.level_grids()
            .into_iter()
            .enumerate()
            .flat_map(|(k, grid)| {
                let share = 1.0 / f64::from(1u32 << (3 * self.grid_level(k)));
                grid.labels.iter().map(move |l| match l.kind() {
                    LabelKind::Tissue => share,
                    LabelKind::Blood if k == 0 => 1.0,
                    _ => 0.0,
                })
            })
            .collect()
    }

    /// The labels of every level's voxels, in the problem's numbering.
    pub fn all_labels(&self) -> Vec<TissueLabel> {
        self.level_grids()
            .iter()
            .flat_map(|g| g.labels.iter().copied())
            .collect()
    }

    /// Label of voxel `v` (problem numbering).
    pub fn label_at(&self, v: usize) -> TissueLabel {
        let at = self.locate(v);
        self.grid_of(at.grid)
            .and_then(|g| g.labels.get(at.index))
            .copied()
            .unwrap_or(TissueLabel::Outside)
    }

    /// Volume of voxel `v` (problem numbering), mL.
    pub fn voxel_ml_at(&self, v: usize) -> f64 {
        self.grid_of(self.locate(v).grid)
            .map_or(0.0, |g| g.voxel_ml())
    }

    /// Voxel `v` as a readable position: grid coordinates, with the level when refined.
    pub fn voxel_name(&self, v: usize) -> String {
        let at = self.locate(v);
        match self.grid_of(at.grid) {
            Some(g) if at.grid == 0 => format!("{:?}", g.coords(at.index)),
            Some(g) => format!(
                "{:?} of level {} (patch {})",
                g.coords(at.index),
                self.grid_level(at.grid),
                at.grid
            ),
            None => format!("{v}"),
        }
    }

    /// Centre of voxel `v` (problem numbering), mm.
    pub fn voxel_centre(&self, v: usize) -> [f64; 3] {
        let at = self.locate(v);
        let g = self.grid_of(at.grid).unwrap_or(&self.grid);
        let [x, y, z] = g.coords(at.index);
        g.centre(x, y, z)
    }

    /// The voxel holding point `p` (mm): the tissue leaf of the finest level there, else the
    /// level-0 voxel; `None` outside the grid.
    pub fn voxel_at(&self, p: [f64; 3]) -> Option<usize> {
        let offsets = self.level_offsets();
        for (k, g) in self.level_grids().iter().enumerate().rev() {
            let mut ijk = [0usize; 3];
            let mut inside = true;
            for a in 0..3 {
                let f = (p[a] - g.origin[a]) / g.spacing;
                if !(f >= 0.0 && f < g.dims[a] as f64) {
                    inside = false;
                    break;
                }
                ijk[a] = f as usize;
            }
            if !inside {
                continue;
            }
            let i = g.index(ijk[0], ijk[1], ijk[2]);
            if k == 0 || g.labels[i].is_tissue() {
                return Some(offsets[k] + i);
            }
        }
        None
    }

    /// The labels of the problem's grid as before refinement: a coarse voxel that finer levels
    /// cover takes the label its leaves inherited.
    pub fn coarse_labels(&self) -> Vec<TissueLabel> {
        let mut out = self.grid.labels.clone();
        if self.levels.is_none() {
            return out;
        }
        for (v, l) in out.iter_mut().enumerate() {
            if *l == TissueLabel::Outside {
                let [x, y, z] = self.grid.coords(v);
                if let Some(u) = self.voxel_at(self.grid.centre(x, y, z)) {
                    *l = self.label_at(u);
                }
            }
        }
        out
    }

    /// The problem's grid with the labels as before refinement ([`Problem::coarse_labels`]):
    /// what the geometry looks like, for pictures and for placing depots.
    pub fn coarse_grid(&self) -> Grid {
        Grid {
            labels: self.coarse_labels(),
            ..self.grid.clone()
        }
    }

    /// Where grid `k` of [`Problem::level_grids`] starts, in voxels of its level counted from
    /// the problem's corner.
    pub fn level_corner(&self, k: usize) -> [i64; 3] {
        match self.grid_of(k) {
            Some(g) => {
                [0, 1, 2].map(|k| ((g.origin[k] - self.grid.origin[k]) / g.spacing).round() as i64)
            }
            None => [0; 3],
        }
    }

    /// The tissue leaves inside level-0 voxel `v0` (problem numbering) with their shares of its
    /// volume: the voxel itself where it is a tissue leaf.
    pub fn leaves_of(&self, v0: usize) -> Vec<(usize, f64)> {
        if v0 >= self.grid.voxel_count() {
            return Vec::new();
        }
        if self.grid.labels[v0].is_tissue() {
            return vec![(v0, 1.0)];
        }
        let Some(levels) = &self.levels else {
            return Vec::new();
        };
        let offsets = self.level_offsets();
        let c = self.grid.coords(v0);
        let mut out = Vec::new();
        for (k, g) in levels.grids.iter().enumerate() {
            let level = levels.level[k];
            let n = 1i64 << level;
            let corner = self.level_corner(k + 1);
            let share = 1.0 / f64::from(1u32 << (3 * level));
            for dz in 0..n {
                for dy in 0..n {
                    for dx in 0..n {
                        let ijk = [dx, dy, dz];
                        let at: [i64; 3] = [0, 1, 2].map(|a| c[a] as i64 * n + ijk[a] - corner[a]);
                        if (0..3).any(|a| at[a] < 0 || at[a] >= g.dims[a] as i64) {
                            continue;
                        }
                        let i = g.index(at[0] as usize, at[1] as usize, at[2] as usize);
                        if g.labels[i].is_tissue() {
                            out.push((offsets[k + 1] + i, share));
                        }
                    }
                }
            }
        }
        out
    }

    /// A depot's shares of level-0 voxels (as `depot::place` gives them on
    /// [`Problem::coarse_grid`]) as shares of the tissue leaves, divided by volume, as
    /// [`Problem::refine`] divides them.
    pub fn depot_on_levels(&self, voxels: &[(usize, f64)]) -> Vec<(usize, f64)> {
        voxels
            .iter()
            .flat_map(|&(v0, w)| self.leaves_of(v0).into_iter().map(move |(v, f)| (v, w * f)))
            .collect()
    }

    /// Arrays over the voxels of every level (one after the other, each `voxel_count` long:
    /// species-major fields or exposure) as arrays over the problem's grid: the cell averages
    /// of the leaves (`coarse_average`). Without levels, the arrays as they are.
    pub fn on_coarse_grid(&self, values: &[f32]) -> Vec<f32> {
        if self.levels.is_none() {
            return values.to_vec();
        }
        let n = self.voxel_count().max(1);
        values
            .chunks(n)
            .flat_map(|a| {
                let wide: Vec<f64> = a.iter().map(|&x| f64::from(x)).collect();
                self.coarse_average(&wide)
                    .into_iter()
                    .map(|x| x as f32)
                    .collect::<Vec<f32>>()
            })
            .collect()
    }

    /// This problem with the voxels that `composite` splits replaced by their leaves (see the
    /// module's description). The composite must cover the problem's grid voxel for voxel.
    /// Fields, sources and segments pass to the children unchanged (concentrations and
    /// concentration rates: the amounts stay), a depot's share of a voxel is divided among its
    /// tissue leaves by volume.
    pub fn refine(&self, composite: &Composite) -> Result<Problem> {
        let bad = |m: String| Err(SimError::Problem(m));
        if self.levels.is_some() {
            return bad("levels: the problem is refined already".into());
        }
        if composite.dims != self.grid.dims || composite.spacing != self.grid.spacing {
            return bad(format!(
                "levels: a composite of {:?} voxels of {} mm for a grid of {:?} of {} mm",
                composite.dims, composite.spacing, self.grid.dims, self.grid.spacing
            ));
        }
        self.validate()?;
        let g0 = &self.grid;
        let dims = g0.dims;
        let top = composite
            .cells
            .iter()
            .map(|c| c.level as usize)
            .max()
            .unwrap_or(0);
        let ancestor = |c: &Cell| -> usize {
            let [x, y, z] = c.ijk.map(|v| (v >> c.level) as usize);
            g0.index(x, y, z)
        };

        // Each level's patches: boxes around groups of its leaves, one voxel wider.
        let mut grids: Vec<Grid> = Vec::new();
        let mut lo_of: Vec<[u32; 3]> = Vec::new();
        let mut level_of: Vec<usize> = Vec::new();
        for level in 1..=top {
            let cells: Vec<[u32; 3]> = composite
                .cells
                .iter()
                .filter(|c| c.level as usize == level)
                .map(|c| c.ijk)
                .collect();
            let extent = dims.map(|d| (d as u32) << level);
            let h = g0.spacing / f64::from(1u32 << level);
            for (lo, hi) in patch_boxes(&cells, extent) {
                let ldims = [0, 1, 2].map(|k| (hi[k] - lo[k] + 1) as usize);
                let mut grid = Grid {
                    dims: ldims,
                    spacing: h,
                    origin: [0, 1, 2].map(|k| g0.origin[k] + f64::from(lo[k]) * h),
                    labels: vec![TissueLabel::Outside; ldims[0] * ldims[1] * ldims[2]],
                };
                for z in 0..ldims[2] {
                    for y in 0..ldims[1] {
                        for x in 0..ldims[0] {
                            let c = Cell {
                                level: level as u8,
                                ijk: [lo[0] + x as u32, lo[1] + y as u32, lo[2] + z as u32],
                            };
                            let parent = g0.labels[ancestor(&c)];
                            let i = grid.index(x, y, z);
                            if parent.kind() == LabelKind::Blood || composite.index_of(&c).is_some()
                            {
                                grid.labels[i] = parent;
                            }
                        }
                    }
                }
                grids.push(grid);
                lo_of.push(lo);
                level_of.push(level);
            }
        }
        let mut offsets = vec![0, g0.voxel_count()];
        for g in &grids {
            offsets.push(offsets[offsets.len() - 1] + g.voxel_count());
        }
        let total = offsets[offsets.len() - 1];
        // Problem numbering of each composite cell: level 0's voxel, or its place in the patch
        // of its level that holds it.
        let mut numbers = Vec::with_capacity(composite.cells.len());
        for c in &composite.cells {
            let l = c.level as usize;
            if l == 0 {
                numbers.push(ancestor(c));
                continue;
            }
            let k = (0..grids.len())
                .find(|&k| {
                    let g = &grids[k];
                    level_of[k] == l
                        && (0..3).all(|a| {
                            c.ijk[a] >= lo_of[k][a]
                                && ((c.ijk[a] - lo_of[k][a]) as usize) < g.dims[a]
                        })
                })
                .ok_or_else(|| {
                    SimError::Problem(format!("levels: no patch holds the leaf {c:?}"))
                })?;
            let (g, lo) = (&grids[k], lo_of[k]);
            numbers.push(
                offsets[k + 1]
                    + g.index(
                        (c.ijk[0] - lo[0]) as usize,
                        (c.ijk[1] - lo[1]) as usize,
                        (c.ijk[2] - lo[2]) as usize,
                    ),
            );
        }
        // Level 0: covered voxels become outside, except blood.
        let mut level0 = g0.clone();
        for (v, l) in level0.labels.iter_mut().enumerate() {
            let [x, y, z] = g0.coords(v).map(|i| i as u32);
            let leaf = composite
                .index_of(&Cell {
                    level: 0,
                    ijk: [x, y, z],
                })
                .is_some();
            if !leaf && l.kind() != LabelKind::Blood {
                *l = TissueLabel::Outside;
            }
        }

        // The leaves below each level-0 voxel, with their volume fractions of it.
        let mut leaves_of: Vec<Vec<(usize, f64)>> = vec![Vec::new(); g0.voxel_count()];
        for (i, c) in composite.cells.iter().enumerate() {
            let share = 1.0 / f64::from(1u32 << (3 * c.level));
            leaves_of[ancestor(c)].push((numbers[i], share));
        }
        let n0 = g0.voxel_count();
        let ns = self.n_species();
        let labels: Vec<TissueLabel> = std::iter::once(&level0)
            .chain(grids.iter())
            .flat_map(|g| g.labels.iter().copied())
            .collect();
        let tissue = |v: usize| labels[v].is_tissue();

        let mut initial = vec![0.0f32; ns * total];
        for s in 0..ns {
            for (v0, leaves) in leaves_of.iter().enumerate() {
                for &(v, _) in leaves {
                    initial[s * total + v] = self.initial[s * n0 + v0];
                }
            }
        }
        let segments = if self.segments.is_empty() {
            Vec::new()
        } else {
            let mut out = vec![0u8; total];
            for (v0, leaves) in leaves_of.iter().enumerate() {
                for &(v, _) in leaves {
                    out[v] = self.segments[v0];
                }
            }
            out
        };
        let mut sources = SourceMap::new(ns);
        for (&v0, rates) in &self.sources.entries {
            for &(v, _) in leaves_of[v0].iter().filter(|l| tissue(l.0)) {
                for (s, &r) in rates.iter().enumerate() {
                    sources.add_rate(v, s, r);
                }
            }
        }
        let depots = self
            .depots
            .iter()
            .map(|d| DepotSource {
                voxels: d
                    .voxels
                    .iter()
                    .flat_map(|&(v0, w)| {
                        leaves_of[v0]
                            .iter()
                            .filter(|l| tissue(l.0))
                            .map(move |&(v, f)| (v, w * f))
                    })
                    .collect(),
                ..d.clone()
            })
            .collect();

        // Faces between tissue of two levels.
        let mut faces = Vec::new();
        for f in &composite.faces {
            let (ca, cb) = (composite.cells[f.a], composite.cells[f.b]);
            if ca.level == cb.level {
                continue;
            }
            let (a, b) = (numbers[f.a], numbers[f.b]);
            let (la, lb) = (labels[a], labels[b]);
            let conductance = self.labels.face(la, lb);
            if !(la.is_tissue() && lb.is_tissue()) || conductance == 0.0 {
                continue;
            }
            let mut stencil: Vec<(usize, f64)> =
                f.stencil.iter().map(|&(i, w)| (numbers[i], w)).collect();
            // The parabola and the tangential gradient assume a smooth field: where the face
            // or its stencil meets another label (a jump in ε·m_D, a kink in c), or no tissue,
            // the two-point difference over 1.5 fine voxels.
            if la != lb || stencil.iter().any(|&(v, _)| labels[v] != la) {
                let g = composite.edge(f.a) * (2.0 / 3.0);
                stencil = vec![(a, -g), (b, g)];
            }
            faces.push(LevelFace {
                fine: a,
                coarse: b,
                conductance,
                stencil,
            });
        }

        let mut out = self.clone();
        out.grid = level0;
        out.levels = Some(Levels {
            grids,
            level: level_of,
            faces,
        });
        out.initial = initial;
        out.segments = segments;
        out.sources = sources;
        out.depots = depots;
        out.validate()?;
        Ok(out)
    }

    /// Checks the levels: grids finer by halves, faces between tissue voxels of the problem,
    /// finite weights summing to zero.
    pub(super) fn validate_levels(&self) -> Result<()> {
        let Some(levels) = &self.levels else {
            return Ok(());
        };
        let bad = |m: String| Err(SimError::Problem(m));
        if levels.level.len() != levels.grids.len()
            || levels.level.windows(2).any(|w| w[1] < w[0])
            || levels.level.contains(&0)
        {
            return bad(format!(
                "levels: {} patches with levels {:?}, expected one level ≥ 1 each, in order",
                levels.grids.len(),
                levels.level
            ));
        }
        for (k, g) in levels.grids.iter().enumerate() {
            let h = self.grid.spacing / f64::from(1u32 << levels.level[k]);
            if g.labels.len() != g.voxel_count() || (g.spacing - h).abs() > 1e-9 * h {
                return bad(format!(
                    "level {} (patch {}): {} labels for {:?} voxels of {} mm, expected voxels of {h} mm",
                    levels.level[k],
                    k + 1,
                    g.labels.len(),
                    g.dims,
                    g.spacing
                ));
            }
        }
        let n = self.voxel_count();
        for f in &levels.faces {
            let ok = f.fine < n
                && f.coarse < n
                && self.label_at(f.fine).is_tissue()
                && self.label_at(f.coarse).is_tissue()
                && f.conductance >= 0.0
                && f.conductance.is_finite()
                && f.stencil.iter().all(|&(v, w)| v < n && w.is_finite())
                && f.stencil.iter().map(|w| w.1).sum::<f64>().abs()
                    <= 1e-9 * f.stencil.iter().map(|w| w.1.abs()).sum::<f64>();
            if !ok {
                return bad(format!(
                    "levels: the face between voxels {} and {} is not between tissue, or its weights do not sum to zero",
                    self.voxel_name(f.fine),
                    self.voxel_name(f.coarse)
                ));
            }
        }
        Ok(())
    }

    /// The forward-Euler limit of diffusion on levels with largest diffusivity `d_max`
    /// (mm²/s), s: 2/ρ with ρ the Gershgorin bound of the operator, per tissue voxel
    /// `D (Σ 2 g·h + Σ conductance·Σ|w|)/(ε V)` over its faces of its own level (conductance
    /// `g`, area over distance `h`) and between levels (the stencil's weights). On one level
    /// that is `h²/(D Σg/ε)`, as without levels; the same bound as `Composite::dt_fe`.
    pub(super) fn levels_dt_forward_euler(&self, d_max: f64) -> f64 {
        let offsets = self.level_offsets();
        let mut sum = vec![0.0; self.voxel_count()];
        for (k, g) in self.level_grids().into_iter().enumerate() {
            for (i, &l) in g.labels.iter().enumerate() {
                if l.is_tissue() {
                    sum[offsets[k] + i] = g
                        .neighbours(i)
                        .map(|j| self.labels.face(l, g.labels[j]))
                        .sum::<f64>()
                        * 2.0
                        * g.spacing;
                }
            }
        }
        if let Some(levels) = &self.levels {
            for f in &levels.faces {
                let w: f64 = f.stencil.iter().map(|s| s.1.abs()).sum::<f64>() * f.conductance;
                sum[f.fine] += w;
                sum[f.coarse] += w;
            }
        }
        let mut best = f64::INFINITY;
        for (v, &s) in sum.iter().enumerate() {
            if s > 0.0 {
                let eps = self.labels.get(self.label_at(v)).volume_fraction;
                let vol = self.voxel_ml_at(v) * 1e3;
                best = best.min(2.0 * eps * vol / (d_max * s));
            }
        }
        best
    }

    /// Cell averages of a field over the coarse grid (problem numbering in, the level-0
    /// grid's out): what the uniform `.vti` outputs of a refined problem hold. `field` has one
    /// value per voxel; outside-tissue positions of the finer levels do not count, and a
    /// level-0 voxel without tissue leaves keeps its own value.
    pub fn coarse_average(&self, field: &[f64]) -> Vec<f64> {
        let n0 = self.grid.voxel_count();
        let mut out: Vec<f64> = field[..n0.min(field.len())].to_vec();
        let Some(levels) = &self.levels else {
            return out;
        };
        let mut sum = vec![0.0; n0];
        let mut vol = vec![0.0; n0];
        let offsets = self.level_offsets();
        let g0 = &self.grid;
        for (k, g) in levels.grids.iter().enumerate() {
            let share = 1.0 / f64::from(1u32 << (3 * levels.level[k]));
            for (i, l) in g.labels.iter().enumerate() {
                if !l.is_tissue() {
                    continue;
                }
                let [x, y, z] = g.coords(i);
                let c = g.centre(x, y, z);
                let p = [0, 1, 2].map(|a| ((c[a] - g0.origin[a]) / g0.spacing).floor() as usize);
                let v0 = g0.index(p[0], p[1], p[2]);
                sum[v0] += field[offsets[k + 1] + i] * share;
                vol[v0] += share;
            }
        }
        for v in 0..n0 {
            if vol[v] > 0.0 && !g0.labels[v].is_tissue() {
                out[v] = sum[v] / vol[v];
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "levels_tests.rs"]
mod tests;
