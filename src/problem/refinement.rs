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
use super::Problem;
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

/// `p` refined around `sites` down to `finest` mm; `p` itself when no level is asked for
/// (`finest` no finer than half the spacing) or there is no site.
pub fn refine_around(p: Problem, finest: f64, sites: &[DepotSite]) -> Result<Problem> {
    if sites.is_empty() || levels_below(p.grid.spacing, finest) == 0 {
        return Ok(p);
    }
    let composite = composite_around(&p, finest, sites)?;
    if composite.per_level().len() < 2 {
        return Ok(p); // every species resolved on the coarse grid already
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
    let mut refined = p.refine(&composite)?;
    let shapes = from
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
