//! Volumes, wall thickness and segment shares of a labelled heart: what `secretome geometry`
//! prints and what the tests check against MODEL.md §1.

use super::anatomy::HeartAnatomy;
use super::distance::{bounding_box, distance_in_box};
use crate::base::TissueLabel;

/// Median and 10th/90th percentiles, mm.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Spread {
    pub p10: f64,
    pub median: f64,
    pub p90: f64,
    pub count: usize,
}

impl Spread {
    fn of(mut v: Vec<f64>) -> Spread {
        v.retain(|x| x.is_finite());
        if v.is_empty() {
            return Spread::default();
        }
        v.sort_by(f64::total_cmp);
        let q = |f: f64| v[((v.len() - 1) as f64 * f).round() as usize];
        Spread {
            p10: q(0.1),
            median: q(0.5),
            p90: q(0.9),
            count: v.len(),
        }
    }
}

/// Summary figures of a labelled heart.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct HeartStats {
    /// Volume per label (outside, blood_lv, blood_rv, myocardium, border_zone, infarct), mL.
    pub label_ml: Vec<(String, f64)>,
    /// LV cavity, mL.
    pub lv_cavity_ml: f64,
    /// RV cavity, mL.
    pub rv_cavity_ml: f64,
    /// LV myocardium (free wall and septum, all tissue labels), mL.
    pub lv_myocardium_ml: f64,
    /// RV free wall, mL.
    pub rv_wall_ml: f64,
    /// Volume of each AHA segment 1–17, mL.
    pub segment_ml: [f64; 17],
    /// LV wall thickness over the basal and mid levels (mid-wall voxels), mm.
    pub lv_wall: Spread,
    /// LV wall thickness per level (basal, mid, apical), mm.
    pub lv_wall_by_level: [Spread; 3],
    /// RV free wall thickness (mid-wall voxels), mm.
    pub rv_wall: Spread,
    /// Epicardial base–apex length along the long axis, mm.
    pub base_apex_mm: f64,
    /// Infarct core as a fraction of LV myocardium.
    pub infarct_share: f64,
    /// Border zone as a fraction of LV myocardium (border zone in the RV wall excluded).
    pub border_zone_share: f64,
}

impl HeartStats {
    pub fn of(a: &HeartAnatomy) -> HeartStats {
        let g = &a.grid;
        let ml = g.voxel_ml();
        let counts = g.label_counts();
        let label_ml = TissueLabel::ALL
            .iter()
            .map(|&l| (l.name().to_string(), counts[l as usize] as f64 * ml))
            .collect();
        let mut segment_ml = [0.0; 17];
        let mut lv_myo = 0usize;
        let mut rv_wall = 0usize;
        let mut infarct = 0usize;
        let mut bz = 0usize;
        let mut levels: [Vec<f64>; 3] = Default::default();
        // RV free wall thickness: distances to the RV cavity and to the outside, around it.
        let rv_wall_mask: Vec<bool> = (0..g.voxel_count())
            .map(|i| g.labels[i].is_tissue() && !a.lv_myocardium[i])
            .collect();
        let (d_rv, d_out) = match bounding_box(&rv_wall_mask, g.dims, 2) {
            Some((lo, hi)) => {
                let rv: Vec<bool> = g
                    .labels
                    .iter()
                    .map(|&l| l == TissueLabel::BloodRv)
                    .collect();
                let out: Vec<bool> = g
                    .labels
                    .iter()
                    .map(|&l| l == TissueLabel::Outside)
                    .collect();
                (
                    distance_in_box(&rv, g.dims, g.spacing, lo, hi),
                    distance_in_box(&out, g.dims, g.spacing, lo, hi),
                )
            }
            None => (Vec::new(), Vec::new()),
        };
        let half = 0.5 * g.spacing;
        let mut rv_t = Vec::new();
        for i in 0..g.voxel_count() {
            let l = g.labels[i];
            if !l.is_tissue() {
                continue;
            }
            if a.lv_myocardium[i] {
                lv_myo += 1;
                match l {
                    TissueLabel::Infarct => infarct += 1,
                    TissueLabel::BorderZone => bz += 1,
                    _ => {}
                }
                let s = a.aha_segment[i];
                if (1..=17).contains(&s) {
                    segment_ml[s as usize - 1] += ml;
                }
                let d = a.depth[i];
                if (0.35..=0.65).contains(&d) && (1..=16).contains(&s) {
                    let level = ((s - 1) / 6).min(2) as usize;
                    levels[level].push(a.wall_thickness[i] as f64);
                }
            } else {
                rv_wall += 1;
                rv_t.push((d_rv[i] - half).max(0.0) + (d_out[i] - half).max(0.0));
            }
        }
        let lv_wall = Spread::of(levels[0].iter().chain(&levels[1]).copied().collect());
        let rv_wall_spread = Spread::of(rv_t);
        let base_apex_mm = a.frame.length();
        HeartStats {
            label_ml,
            lv_cavity_ml: counts[TissueLabel::BloodLv as usize] as f64 * ml,
            rv_cavity_ml: counts[TissueLabel::BloodRv as usize] as f64 * ml,
            lv_myocardium_ml: lv_myo as f64 * ml,
            rv_wall_ml: rv_wall as f64 * ml,
            segment_ml,
            lv_wall,
            lv_wall_by_level: levels.map(Spread::of),
            rv_wall: rv_wall_spread,
            base_apex_mm,
            infarct_share: infarct as f64 / lv_myo.max(1) as f64,
            border_zone_share: bz as f64 / lv_myo.max(1) as f64,
        }
    }

    /// Share of LV myocardium in the given segments.
    pub fn share_of_segments(&self, segments: &[u8]) -> f64 {
        let total: f64 = self.segment_ml.iter().sum();
        let part: f64 = segments
            .iter()
            .filter(|&&s| (1..=17).contains(&s))
            .map(|&s| self.segment_ml[s as usize - 1])
            .sum();
        part / total.max(1e-30)
    }
}
