//! Named places in a labelled heart where delivery routes put cells (MODEL.md §3): points in
//! the border zone or remote myocardium, injection sites on the LV endocardium of given AHA
//! segments, and the voxels of a coronary territory.

use super::anatomy::HeartAnatomy;
use super::frame::{dot, sub};
use crate::base::TissueLabel;
use crate::error::{Result, SimError};

/// Centre of the voxel with index `i`, mm.
fn centre(a: &HeartAnatomy, i: usize) -> [f64; 3] {
    let [x, y, z] = a.grid.coords(i);
    a.grid.centre(x, y, z)
}

/// The voxel of `label` nearest to the centroid of all voxels of that label (a point that lies
/// in it even when the region is curved), mm.
pub fn label_centre(a: &HeartAnatomy, label: TissueLabel) -> Result<[f64; 3]> {
    let members: Vec<usize> = (0..a.grid.voxel_count())
        .filter(|&i| a.grid.labels[i] == label)
        .collect();
    if members.is_empty() {
        return Err(SimError::Geometry(format!(
            "the heart has no {} voxels",
            label.name()
        )));
    }
    let mut c = [0.0; 3];
    for &i in &members {
        let p = centre(a, i);
        for k in 0..3 {
            c[k] += p[k] / members.len() as f64;
        }
    }
    let best = members
        .iter()
        .copied()
        .min_by(|&i, &j| {
            let d = |v: usize| {
                let p = sub(centre(a, v), c);
                dot(p, p)
            };
            d(i).total_cmp(&d(j))
        })
        .unwrap_or(members[0]);
    Ok(centre(a, best))
}

/// LV myocardial voxels (any tissue label) in the given AHA segments.
pub fn segment_voxels(a: &HeartAnatomy, segments: &[u8]) -> Vec<usize> {
    (0..a.grid.voxel_count())
        .filter(|&i| {
            a.lv_myocardium[i]
                && a.grid.labels[i].is_tissue()
                && segments.contains(&a.aha_segment[i])
        })
        .collect()
}

/// Injection sites on the LV endocardium: `count` sites spread over `segments` in turn, each
/// `depth_mm` into the wall from the endocardium (transendocardial delivery, as POSEIDON's
/// 10 injections). Within a segment the sites are the voxels at that depth nearest to evenly
/// spaced fractions of the segment's extent.
pub fn endocardial_sites(
    a: &HeartAnatomy,
    segments: &[u8],
    count: usize,
    depth_mm: f64,
) -> Result<Vec<[f64; 3]>> {
    if segments.is_empty() || count == 0 {
        return Err(SimError::Geometry(
            "transendocardial: expected at least one segment and one injection".into(),
        ));
    }
    let mut sites = Vec::with_capacity(count);
    for (n, &seg) in segments.iter().cycle().take(count).enumerate() {
        // Candidates: voxels of the segment whose distance from the endocardium is nearest
        // the requested depth (within a voxel).
        let vox = segment_voxels(a, &[seg]);
        if vox.is_empty() {
            return Err(SimError::Geometry(format!(
                "transendocardial: segment {seg} has no LV myocardium"
            )));
        }
        let from_endo = |i: usize| a.depth[i] as f64 * a.wall_thickness[i] as f64;
        let best = vox
            .iter()
            .map(|&i| (from_endo(i) - depth_mm).abs())
            .filter(|d| d.is_finite())
            .fold(f64::INFINITY, f64::min);
        let ring: Vec<usize> = vox
            .iter()
            .copied()
            .filter(|&i| (from_endo(i) - depth_mm).abs() <= best + a.grid.spacing)
            .collect();
        // The k-th injection into this segment takes the k-th of `per` evenly spaced voxels
        // of the ring, ordered along the long axis then around it.
        let per = segments.len();
        let k = n / per;
        let total_in_seg = count / per + usize::from(n % per < count % per);
        let mut order = ring.clone();
        let axis = a.frame.long_axis;
        order.sort_by(|&i, &j| {
            let ti = dot(sub(centre(a, i), a.frame.base_centre), axis);
            let tj = dot(sub(centre(a, j), a.frame.base_centre), axis);
            ti.total_cmp(&tj).then(i.cmp(&j))
        });
        let idx = ((2 * k + 1) * order.len()) / (2 * total_in_seg.max(1));
        sites.push(centre(a, order[idx.min(order.len() - 1)]));
    }
    Ok(sites)
}

/// Remote myocardium (`site = "remote"`): healthy LV myocardium far from the infarct. Among the
/// LV voxels labelled myocardium in the mid-wall (depth 0.3–0.7), in segments 1–16 and at least
/// 10 mm below the base plane (so a depot's sphere stays in the wall), the one farthest from
/// every border-zone and infarct voxel. Without an infarct, the candidate nearest their
/// centroid. (The myocardium's own centroid may lie in the RV or beside the infarct.)
pub fn remote_myocardium(a: &HeartAnatomy) -> Result<[f64; 3]> {
    let g = &a.grid;
    let n = g.voxel_count();
    let candidates: Vec<usize> = (0..n)
        .filter(|&i| {
            let d = a.depth[i];
            a.lv_myocardium[i]
                && g.labels[i] == TissueLabel::Myocardium
                && (1..=16).contains(&a.aha_segment[i])
                && (0.3..=0.7).contains(&d)
                && a.base_plane.height(centre(a, i)) <= -10.0
        })
        .collect();
    if candidates.is_empty() {
        return Err(SimError::Geometry(
            "the heart has no mid-wall LV myocardium away from the base".into(),
        ));
    }
    let injured: Vec<bool> = g
        .labels
        .iter()
        .map(|l| matches!(l, TissueLabel::BorderZone | TissueLabel::Infarct))
        .collect();
    let best = if injured.iter().any(|&x| x) {
        let dist = super::distance::distance_to(&injured, g.dims, g.spacing);
        candidates
            .iter()
            .copied()
            .max_by(|&i, &j| dist[i].total_cmp(&dist[j]).then(j.cmp(&i)))
    } else {
        let mut c = [0.0; 3];
        for &i in &candidates {
            let p = centre(a, i);
            for k in 0..3 {
                c[k] += p[k] / candidates.len() as f64;
            }
        }
        candidates.iter().copied().min_by(|&i, &j| {
            let d = |v: usize| {
                let p = sub(centre(a, v), c);
                dot(p, p)
            };
            d(i).total_cmp(&d(j)).then(i.cmp(&j))
        })
    };
    Ok(best.map_or([0.0; 3], |i| centre(a, i)))
}
