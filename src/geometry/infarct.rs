//! Infarcts: a core in a coronary territory or a list of AHA segments, reaching a fraction of
//! the wall from the endocardium, surrounded by a border zone inside the myocardium.

use super::distance::{bounding_box, distance_in_box};
use crate::error::{Result, SimError};
use crate::model::TissueLabel;
use crate::sim::Grid;

/// Coronary territories of the AHA 17-segment model (Cerqueira 2002).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Territory {
    /// Left anterior descending: 1, 2, 7, 8, 13, 14, 17.
    Lad,
    /// Right coronary: 3, 4, 9, 10, 15.
    Rca,
    /// Left circumflex: 5, 6, 11, 12, 16.
    Lcx,
}

impl Territory {
    pub fn segments(self) -> &'static [u8] {
        match self {
            Territory::Lad => &[1, 2, 7, 8, 13, 14, 17],
            Territory::Rca => &[3, 4, 9, 10, 15],
            Territory::Lcx => &[5, 6, 11, 12, 16],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Territory::Lad => "LAD",
            Territory::Rca => "RCA",
            Territory::Lcx => "LCx",
        }
    }

    pub fn from_name(s: &str) -> Option<Territory> {
        match s.to_ascii_lowercase().as_str() {
            "lad" => Some(Territory::Lad),
            "rca" => Some(Territory::Rca),
            "lcx" => Some(Territory::Lcx),
            _ => None,
        }
    }
}

/// One infarct.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InfarctSpec {
    /// AHA segments (1–17) of the core.
    pub segments: Vec<u8>,
    /// Fraction of the wall, from the endocardium, that is infarcted (0 < f ≤ 1).
    pub transmural: f64,
    /// Width of the border zone around the core, inside the myocardium, mm.
    pub border_zone_mm: f64,
}

impl InfarctSpec {
    /// MODEL.md's default: LAD occlusion, segments 7, 8, 13, 14, 17, 70 % transmural, 4 mm
    /// border zone.
    pub fn default_lad() -> InfarctSpec {
        InfarctSpec {
            segments: vec![7, 8, 13, 14, 17],
            transmural: 0.7,
            border_zone_mm: 4.0,
        }
    }

    /// A whole coronary territory.
    pub fn territory(t: Territory, transmural: f64, border_zone_mm: f64) -> InfarctSpec {
        InfarctSpec {
            segments: t.segments().to_vec(),
            transmural,
            border_zone_mm,
        }
    }

    pub fn validate(&self) -> Result<()> {
        if self.segments.is_empty() {
            return Err(SimError::Geometry(
                "infarct: no segments; expected AHA segments 1–17 or a territory".into(),
            ));
        }
        if let Some(s) = self.segments.iter().find(|&&s| !(1..=17).contains(&s)) {
            return Err(SimError::Geometry(format!(
                "infarct segment {s}: expected an AHA segment 1–17"
            )));
        }
        if !(self.transmural > 0.0 && self.transmural <= 1.0) {
            return Err(SimError::Geometry(format!(
                "infarct transmural extent {}: expected a fraction of the wall, 0 < f ≤ 1",
                self.transmural
            )));
        }
        if !(self.border_zone_mm >= 0.0 && self.border_zone_mm.is_finite()) {
            return Err(SimError::Geometry(format!(
                "infarct border zone {} mm: expected a width ≥ 0 mm",
                self.border_zone_mm
            )));
        }
        Ok(())
    }
}

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
