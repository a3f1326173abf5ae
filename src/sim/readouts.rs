//! The readouts of MODEL.md §5 that live on the grid: exposure per voxel (AUC and time above
//! EC50) and statistics per region (each tissue or blood label, each AHA segment).
//!
//! The GPU computes both while running (`Simulation::exposure`, `Simulation::region_stats`);
//! [`region_stats_from`] computes the same statistics from fields on the host, for the CPU
//! reference and the tests.

use crate::base::Grid;
use crate::base::{LabelKind, TissueLabel};

/// Number of AHA segments (1..=17; 0 means "in no segment").
pub use crate::base::tissue::AHA_SEGMENTS;

/// Exposure per voxel, species-major like the fields (`[s * n_voxels + voxel]`); zero outside
/// tissue.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Exposure {
    /// `∫c dt`, ng·s/mL.
    pub auc: Vec<f32>,
    /// `∫[c > EC50] dt`, s.
    pub above: Vec<f32>,
    /// `∫ c/(c + K_d) dt`, the receptor occupancy's integral, s.
    pub occupancy: Vec<f32>,
}

/// Exposure per voxel in f64, species-major, as the host twin reads it.
#[derive(Clone, Copy, Debug)]
pub struct ExposureView<'a> {
    pub auc: &'a [f64],
    pub above: &'a [f64],
    pub occupancy: &'a [f64],
}

/// A region of the grid: a label or an AHA segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Label(TissueLabel),
    /// AHA segment 1..=17.
    Segment(u8),
}

impl Region {
    /// Name in readouts: the label's name, or `aha_1` … `aha_17`.
    pub fn name(&self) -> String {
        match self {
            Region::Label(l) => l.name().to_string(),
            Region::Segment(s) => format!("aha_{s}"),
        }
    }

    /// Slot of the region in the GPU reduction (`regions.wgsl`).
    pub fn slot(&self) -> usize {
        match self {
            Region::Label(l) => *l as usize,
            Region::Segment(s) => 8 + *s as usize,
        }
    }
}

/// One species in one region.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SpeciesStats {
    /// Mean concentration, ng per mL of interstitial fluid (of plasma in blood regions).
    pub mean: f64,
    /// Largest concentration, ng per mL of interstitial fluid (of plasma in blood regions).
    pub max: f64,
    /// Mean exposure `∫c dt` over the region's voxels, ng·s/mL.
    pub auc: f64,
    /// Mean time above EC50, s.
    pub time_above: f64,
    /// Fraction of the region's voxels above EC50 now.
    pub fraction_above: f64,
    /// Mean receptor occupancy `c/(c + K_d)` now, 0..1.
    pub occupancy: f64,
    /// Mean of `∫ c/(c + K_d) dt` over the region's voxels, s (divided by the time run, the
    /// time-averaged occupancy).
    pub occupancy_auc: f64,
}

/// Statistics of one region.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionStat {
    pub region: Region,
    pub voxels: usize,
    /// One entry per species, in table order.
    pub species: Vec<SpeciesStats>,
}

/// The regions reported for a grid: every tissue or blood label present, then every AHA
/// segment present, with their voxel counts.
pub fn regions(grid: &Grid, segments: &[u8]) -> Vec<(Region, usize)> {
    regions_present(grid.labels.iter().copied(), segments.iter().copied())
}

/// The regions a problem's statistics report, with their voxel counts: every label and AHA
/// segment present (on a refined problem, in the voxels that carry weight).
pub fn regions_of(p: &crate::problem::Problem) -> Vec<(Region, usize)> {
    if p.levels.is_some() {
        regions_weighted(&p.all_labels(), &p.region_weights(), &p.segments)
    } else {
        regions(&p.grid, &p.segments)
    }
}

/// The regions of the voxels of a refined problem that carry weight
/// ([`region_stats_weighted`]), with their voxel counts.
pub fn regions_weighted(
    labels: &[TissueLabel],
    weights: &[f64],
    segments: &[u8],
) -> Vec<(Region, usize)> {
    let present: Vec<usize> = (0..labels.len()).filter(|&v| weights[v] > 0.0).collect();
    regions_present(
        present.iter().map(|&v| labels[v]),
        present.iter().filter_map(|&v| segments.get(v).copied()),
    )
}

/// The regions of voxels with these labels and segments (0 = none), with their voxel counts.
fn regions_present(
    labels: impl IntoIterator<Item = TissueLabel>,
    segments: impl IntoIterator<Item = u8>,
) -> Vec<(Region, usize)> {
    let mut label_count = [0usize; TissueLabel::COUNT];
    for l in labels {
        label_count[l as usize] += 1;
    }
    let mut seg_count = [0usize; AHA_SEGMENTS as usize + 1];
    for s in segments {
        if (1..=AHA_SEGMENTS).contains(&s) {
            seg_count[s as usize] += 1;
        }
    }
    let labels = TissueLabel::ALL
        .into_iter()
        .filter(|l| l.kind() != LabelKind::Outside && label_count[*l as usize] > 0)
        .map(|l| (Region::Label(l), label_count[l as usize]));
    let segs = (1..=AHA_SEGMENTS)
        .filter(|s| seg_count[*s as usize] > 0)
        .map(|s| (Region::Segment(s), seg_count[s as usize]));
    labels.chain(segs).collect()
}

/// Region statistics from fields and exposure on the host (f64 sums): the reference for
/// `Simulation::region_stats`. `fields`, `exposure` species-major; `ec50` and `kd` per species;
/// `segments` per voxel or empty.
pub fn region_stats_from(
    grid: &Grid,
    segments: &[u8],
    fields: &[f64],
    exposure: Option<ExposureView<'_>>,
    ec50: &[f64],
    kd: &[f64],
) -> Vec<RegionStat> {
    let weights = vec![1.0; grid.voxel_count()];
    region_stats_weighted(&grid.labels, &weights, segments, fields, exposure, ec50, kd)
}

/// Region statistics over voxels of unequal weight (a refined problem's levels: each voxel's
/// volume in coarse voxels; weight 0 leaves a voxel out): means and fractions weighted, the
/// count of voxels with weight. `labels`, `weights` and `segments` (or empty) per voxel.
pub fn region_stats_weighted(
    labels: &[TissueLabel],
    weights: &[f64],
    segments: &[u8],
    fields: &[f64],
    exposure: Option<ExposureView<'_>>,
    ec50: &[f64],
    kd: &[f64],
) -> Vec<RegionStat> {
    let n = labels.len();
    let ns = ec50.len();
    let present: Vec<usize> = (0..n).filter(|&v| weights[v] > 0.0).collect();
    regions_weighted(labels, weights, segments)
        .into_iter()
        .map(|(region, voxels)| {
            let inside = |v: usize| match region {
                Region::Label(l) => labels[v] == l,
                Region::Segment(s) => segments[v] == s,
            };
            let members: Vec<usize> = present.iter().copied().filter(|&v| inside(v)).collect();
            let total: f64 = members.iter().map(|&v| weights[v]).sum();
            let species = (0..ns)
                .map(|s| {
                    let mut st = SpeciesStats::default();
                    let mut over = 0.0;
                    for &v in &members {
                        let w = weights[v];
                        let c = fields[s * n + v];
                        st.mean += w * c;
                        st.max = st.max.max(c);
                        st.occupancy += w * c.max(0.0) / (c.max(0.0) + kd[s]);
                        if let Some(e) = exposure {
                            st.auc += w * e.auc[s * n + v];
                            st.time_above += w * e.above[s * n + v];
                            st.occupancy_auc += w * e.occupancy[s * n + v];
                        }
                        if c > ec50[s] {
                            over += w;
                        }
                    }
                    st.mean /= total;
                    st.auc /= total;
                    st.time_above /= total;
                    st.occupancy /= total;
                    st.occupancy_auc /= total;
                    st.fraction_above = over / total;
                    st
                })
                .collect();
            RegionStat {
                region,
                voxels,
                species,
            }
        })
        .collect()
}
