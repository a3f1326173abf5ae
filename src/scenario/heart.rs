//! The heart a scenario asks for, as data: the default heart's dimensions, its infarcts and the
//! hints that help label a mesh. `geometry` builds the labelled heart from these.

use crate::error::{Result, SimError};

/// Dimensions of the default heart, mm. The defaults meet every MODEL.md §1 target.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeartParams {
    /// LV cavity radius at the equator, mm.
    pub lv_cavity_radius: f64,
    /// LV cavity half-length along the long axis, mm.
    pub lv_cavity_half_length: f64,
    /// LV wall thickness at the equator, mm.
    pub lv_wall: f64,
    /// LV wall thickness at the apex, mm.
    pub lv_apex_wall: f64,
    /// Height of the base plane above the LV ellipsoids' equator, mm.
    pub base_above_equator: f64,
    /// Offset of the RV ellipsoid's centre from the LV axis towards the septum, mm.
    pub rv_offset: f64,
    /// RV cavity ellipsoid semi-axis towards the septum (x), mm.
    pub rv_radius_septal: f64,
    /// RV cavity ellipsoid semi-axis along the anterior–inferior direction (y), mm.
    pub rv_radius_wrap: f64,
    /// RV cavity ellipsoid half-length along the long axis, mm.
    pub rv_half_length: f64,
    /// RV free wall thickness, mm.
    pub rv_wall: f64,
}

impl Default for HeartParams {
    fn default() -> Self {
        HeartParams {
            lv_cavity_radius: 28.0,
            lv_cavity_half_length: 68.0,
            lv_wall: 9.5,
            lv_apex_wall: 8.0,
            base_above_equator: 14.0,
            rv_offset: 23.0,
            rv_radius_septal: 35.0,
            rv_radius_wrap: 49.0,
            rv_half_length: 66.0,
            rv_wall: 4.0,
        }
    }
}

impl HeartParams {
    /// Lattice step of the default heart's surface meshes, mm: fine enough for the RV
    /// crescent's tips, coarse enough to keep `assets/heart.obj` small.
    pub const MESH_STEP: f64 = 1.5;

    /// Checks that the dimensions make a heart: positive, RV overlapping the LV.
    pub fn validate(&self) -> Result<()> {
        let named = [
            ("lv_cavity_radius", self.lv_cavity_radius),
            ("lv_cavity_half_length", self.lv_cavity_half_length),
            ("lv_wall", self.lv_wall),
            ("lv_apex_wall", self.lv_apex_wall),
            ("rv_radius_septal", self.rv_radius_septal),
            ("rv_radius_wrap", self.rv_radius_wrap),
            ("rv_half_length", self.rv_half_length),
            ("rv_wall", self.rv_wall),
        ];
        for (k, v) in named {
            if !(v > 0.0 && v.is_finite() && v < 500.0) {
                return Err(SimError::Geometry(format!(
                    "heart.{k} = {v}: expected a length in mm between 0 and 500"
                )));
            }
        }
        if !(self.base_above_equator >= 0.0 && self.base_above_equator < self.lv_cavity_half_length)
        {
            return Err(SimError::Geometry(format!(
                "heart.base_above_equator = {}: expected 0 ≤ value < lv_cavity_half_length ({})",
                self.base_above_equator, self.lv_cavity_half_length
            )));
        }
        let epi = self.lv_cavity_radius + self.lv_wall;
        if self.rv_offset - self.rv_radius_septal >= epi || self.rv_offset < 0.0 {
            return Err(SimError::Geometry(format!(
                "heart.rv_offset = {}: expected 0 ≤ offset and the RV ellipsoid to overlap the LV epicardium (offset − rv_radius_septal < {epi})",
                self.rv_offset
            )));
        }
        Ok(())
    }
}

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

/// The base plane: a point on it and its normal pointing from the apex towards the base.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BasePlane {
    /// A point on the plane, mm.
    pub point: [f64; 3],
    /// Unit normal towards the base side (away from the apex).
    pub normal: [f64; 3],
}

/// What the user may tell the labeller instead of letting it estimate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnatomyHints {
    /// The base plane; estimated from the mesh when absent.
    pub base_plane: Option<BasePlane>,
    /// A point inside the LV cavity, mm: says which cavity is the LV.
    pub lv_point: Option<[f64; 3]>,
    /// The anterior RV insertion point, mm.
    pub anterior_insertion: Option<[f64; 3]>,
}
