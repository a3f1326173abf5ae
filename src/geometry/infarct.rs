//! Infarcts: a core in a coronary territory or a list of AHA segments, reaching a fraction of
//! the wall from the endocardium, surrounded by a border zone inside the myocardium.

use super::distance::{bounding_box, distance_in_box};
use crate::base::Grid;
use crate::base::TissueLabel;
use crate::error::Result;
pub use crate::scenario::heart::{InfarctSpec, Territory};

/// Relabels infarct cores (`infarct`) and their border zones (`border_zone`) on a grid whose
/// LV myocardial voxels carry `aha` segments and transmural `depth`.
pub fn apply_infarcts(
    grid: &mut Grid,
    aha: &[u8],
    depth: &[f32],
    infarcts: &[InfarctSpec],
) -> Result<()> {
    for inf in infarcts {
        inf.validate()?;
    }
    let n = grid.voxel_count();
    for inf in infarcts {
        let mut core = vec![false; n];
        for i in 0..n {
            if aha[i] != 0
                && inf.segments.contains(&aha[i])
                && grid.labels[i].is_tissue()
                && depth[i] as f64 <= inf.transmural
            {
                core[i] = true;
            }
        }
        for i in 0..n {
            if core[i] {
                grid.labels[i] = TissueLabel::Infarct;
            }
        }
        if inf.border_zone_mm > 0.0 {
            let margin = (inf.border_zone_mm / grid.spacing).ceil() as usize + 1;
            let Some((lo, hi)) = bounding_box(&core, grid.dims, margin) else {
                continue;
            };
            let d = distance_in_box(&core, grid.dims, grid.spacing, lo, hi);
            for i in 0..n {
                if grid.labels[i] == TissueLabel::Myocardium && d[i] <= inf.border_zone_mm {
                    grid.labels[i] = TissueLabel::BorderZone;
                }
            }
        }
    }
    Ok(())
}
