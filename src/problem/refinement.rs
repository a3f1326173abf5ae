//! The problem refined around its depots (issue 17; the scenario's `[grid] finest`): once,
//! before the run, around every depot the scenario places at a site, including those whose
//! injection comes later, so that no regridding is needed during the run.
//!
//! Each site refines where [`depot_refinement`] says: level l within 3 decay lengths of the
//! depot's surface for every species that level l − 1 leaves unresolved (λ/2 below its edge),
//! down to the finest edge not below `finest`. The decay lengths are those of the tissues the
//! depot covers, `√(D·m_D / k_eff)` with the terms that run. The criteria of all sites are
//! united and the problem is refined once ([`Problem::refine`]). Each depot placed at a site
//! then takes its shape on the leaves ([`place_on_levels`]): its surface as fine as the leaves
//! around it, not the coarse voxels' staircase.

use super::composite::{depot_refinement, Composite};
use super::depot::{place, place_on_levels, Spread};
use super::{DepotSource, Problem};
use crate::base::TissueLabel;
use crate::error::Result;

/// Reach of each level beyond the depot's surface, in decay lengths of the species it is the
/// first to resolve (`docs/levels.md`: 3 keeps the cost of a 125 µm finest level near 2.6×).
pub const REACH_LENGTHS: f64 = 3.0;

/// A depot placed at a site: the centre of its shape (mm, the problem's coordinates) and its
/// radius (a sphere's; a Gaussian's σ, where its density falls fastest).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepotSite {
    pub centre: [f64; 3],
    pub radius_mm: f64,
    pub spread: Spread,
}

/// Levels below the coarse grid that a finest edge of `finest` mm gives on a grid of `spacing`
/// mm: the spacing halved while it stays at or above `finest`.
pub fn levels_below(spacing: f64, finest: f64) -> u8 {
    depot_refinement(spacing, finest, [0.0; 3], 0.0, &[], REACH_LENGTHS).0
}

/// Decay lengths `√(D·m_D / k_eff)` (mm) of every species in every tissue label of `labels`,
/// with the problem's terms: a term switched off does not shorten them.
pub fn decay_lengths(p: &Problem, labels: &[TissueLabel]) -> Vec<f64> {
    let t = p.terms;
    let on = |b: bool| if b { 1.0 } else { 0.0 };
    let mut out = Vec::new();
    for &label in labels.iter().filter(|l| l.is_tissue()) {
        let m = p.labels.get(label);
        for s in &p.species.species {
            let d = on(t.diffusion) * s.diffusion.value * m.diffusion;
            let k = on(t.decay) * s.decay_rate()
                + on(t.uptake) * m.uptake * s.uptake_vmax.value / s.uptake_km.value
                + on(t.exchange) * m.perfusion * s.permeability.value;
            out.push(crate::base::species::decay_length_mm(d, k));
        }
    }
    out
}

/// The tissue labels a site's shape covers on the problem's grid.
fn site_labels(p: &Problem, site: &DepotSite) -> Result<Vec<TissueLabel>> {
    let voxels = place(&p.grid, site.centre, site.radius_mm, site.spread, "depot")?;
    let mut labels: Vec<TissueLabel> = voxels.iter().map(|&(v, _)| p.grid.labels[v]).collect();
    labels.sort();
    labels.dedup();
    Ok(labels)
}

/// The composite of `p`'s box refined around `sites` down to `finest` mm (see the module's
/// description).
pub fn composite_around(p: &Problem, finest: f64, sites: &[DepotSite]) -> Result<Composite> {
    let g = &p.grid;
    let mut criteria = Vec::new();
    let mut levels = 0;
    for site in sites {
        let lengths = decay_lengths(p, &site_labels(p, site)?);
        // The composite's coordinates start at the box's corner.
        let centre = [0, 1, 2].map(|k| site.centre[k] - g.origin[k]);
        let (l, criterion) = depot_refinement(
            g.spacing,
            finest,
            centre,
            site.radius_mm,
            &lengths,
            REACH_LENGTHS,
        );
        levels = l;
        criteria.push(criterion);
    }
    Composite::new(g.dims, g.spacing, levels, |level, at| {
        criteria.iter().any(|c| c(level, at))
    })
}

/// What a refined problem was refined from, kept so that it can be refined again around
/// depots placed, moved or resized while it runs (the viewer).
#[derive(Clone, Debug)]
pub struct Refinement {
    /// The problem before refinement (its depots on the coarse grid).
    pub coarse: Problem,
    /// The finest voxel edge asked for, mm.
    pub finest_mm: f64,
    /// The site each of `coarse`'s depots was placed at (`None`: spread by perfusion).
    pub sites: Vec<Option<DepotSite>>,
    /// Sites refined around that no depot of `coarse` was placed from (none from `build`,
    /// where every site's depot exists from the start, later injections' too).
    pub around: Vec<DepotSite>,
}

impl Refinement {
    /// The coarse problem with `depots` (coarse voxels; the site of each in `sites`) refined
    /// around those sites and [`Refinement::around`], each depot with a site shaped on the
    /// leaves; the coarse problem with `depots` when no site calls for a level.
    pub fn refine(&self, depots: &[DepotSource], sites: &[Option<DepotSite>]) -> Result<Problem> {
        let mut p = self.coarse.clone();
        p.depots = depots.to_vec();
        let mut all: Vec<DepotSite> = sites.iter().flatten().copied().collect();
        all.extend(self.around.iter().copied());
        if all.is_empty() || levels_below(p.grid.spacing, self.finest_mm) == 0 {
            return Ok(p);
        }
        let composite = composite_around(&p, self.finest_mm, &all)?;
        if composite.per_level().len() < 2 {
            return Ok(p); // every species resolved on the coarse grid already
        }
        let mut refined = p.refine(&composite)?;
        let shapes = sites
            .iter()
            .zip(&refined.depots)
            .map(|(site, d)| match site {
                Some(s) => place_on_levels(&refined, s.centre, s.radius_mm, s.spread, &d.name),
                None => Ok(d.voxels.clone()),
            })
            .collect::<Result<Vec<_>>>()?;
        for (d, voxels) in refined.depots.iter_mut().zip(shapes) {
            d.voxels = voxels;
        }
        Ok(refined)
    }
}

/// `p` refined around `sites` down to `finest` mm, with what it was refined from; `p` itself
/// and no refinement when no level is asked for (`finest` no finer than half the spacing),
/// there is no site, or every species is resolved on the coarse grid.
pub fn refine_around(
    p: Problem,
    finest: f64,
    sites: &[DepotSite],
) -> Result<(Problem, Option<Refinement>)> {
    if sites.is_empty() || levels_below(p.grid.spacing, finest) == 0 {
        return Ok((p, None));
    }
    // The site each depot was placed from (its shares on the coarse grid are that site's).
    let from: Vec<Option<DepotSite>> = p
        .depots
        .iter()
        .map(|d| {
            sites
                .iter()
                .find(|s| {
                    place(&p.grid, s.centre, s.radius_mm, s.spread, "depot")
                        .is_ok_and(|v| v == d.voxels)
                })
                .copied()
        })
        .collect();
    let refinement = Refinement {
        finest_mm: finest,
        around: sites
            .iter()
            .filter(|s| !from.contains(&Some(**s)))
            .copied()
            .collect(),
        coarse: p,
        sites: from,
    };
    let refined = refinement.refine(&refinement.coarse.depots, &refinement.sites)?;
    if refined.levels.is_none() {
        return Ok((refined, None));
    }
    Ok((refined, Some(refinement)))
}

impl Problem {
    /// Arrays over this problem's voxels (every level's, `k` of them one after the other:
    /// species-major fields, exposure) carried onto `to`, a refinement of the same coarse grid
    /// with the same labels: each tissue leaf of `to` takes the average over its cube, the
    /// value of the leaf of this problem holding it, or the volume-weighted mean of the finer
    /// leaves tiling it. The amount in tissue ∫ε c dV is kept (to rounding), and leaves both
    /// problems share keep their values. Other voxels get 0.
    pub fn carry_onto(&self, values: &[f32], to: &Problem) -> Vec<f32> {
        let (n, m) = (self.voxel_count().max(1), to.voxel_count());
        let arrays = values.len() / n;
        let from_grids = self.level_grids();
        let from_offsets = self.level_offsets();
        let corners: Vec<[i64; 3]> = (0..from_grids.len())
            .map(|l| self.level_corner(l))
            .collect();
        let to_corners: Vec<[i64; 3]> = (0..to.level_grids().len())
            .map(|l| to.level_corner(l))
            .collect();
        // For each tissue leaf of `to`: the leaves of this problem it reads, with weights.
        let mut sources: Vec<Vec<(usize, f64)>> = vec![Vec::new(); m];
        for (v, reads) in sources.iter_mut().enumerate() {
            if !to.label_at(v).is_tissue() {
                continue;
            }
            let at = to.locate(v);
            let level = to.grid_level(at.grid);
            let Some(holder) = self.voxel_at(to.voxel_centre(v)) else {
                continue;
            };
            if self.level_at(holder) <= level {
                reads.push((holder, 1.0));
                continue;
            }
            // Finer here: the leaves of every finer level inside the cube.
            let Some(g) = to.level_grids().get(at.grid).copied() else {
                continue;
            };
            let c = g.coords(at.index);
            let global: [i64; 3] = [0, 1, 2].map(|a| c[a] as i64 + to_corners[at.grid][a]);
            for (l, fg) in from_grids.iter().enumerate() {
                let finer = self.grid_level(l);
                if finer <= level {
                    continue;
                }
                let k = 1i64 << (finer - level);
                let share = 1.0 / (k * k * k) as f64;
                for dz in 0..k {
                    for dy in 0..k {
                        for dx in 0..k {
                            let d = [dx, dy, dz];
                            let p: [i64; 3] =
                                [0, 1, 2].map(|a| global[a] * k + d[a] - corners[l][a]);
                            if (0..3).any(|a| p[a] < 0 || p[a] >= fg.dims[a] as i64) {
                                continue;
                            }
                            let i = fg.index(p[0] as usize, p[1] as usize, p[2] as usize);
                            if fg.labels[i].is_tissue() {
                                reads.push((from_offsets[l] + i, share));
                            }
                        }
                    }
                }
            }
        }
        let mut out = vec![0f32; arrays * m];
        for a in 0..arrays {
            let src = &values[a * n..(a + 1) * n];
            for (v, reads) in sources.iter().enumerate() {
                let w: f64 = reads.iter().map(|r| r.1).sum();
                if w > 0.0 {
                    let s: f64 = reads.iter().map(|&(u, x)| x * f64::from(src[u])).sum();
                    out[a * m + v] = (s / w) as f32;
                }
            }
        }
        out
    }
}
