//! `[view]`: what the viewer shows when it opens a scenario — the species, a cut through the
//! heart and the point it passes through, the camera, and the colour scale and range. The
//! batch runs ignore it; it lets each lesson open on the view that shows its point.

use serde::Serialize;
use toml::de::DeValue;

use super::read::{article, read_point, read_quantity, Doc, Tbl, CONCENTRATION};
use super::{DepotSpec, ReadoutSpec, Route};
use crate::error::Result;

/// The keys of `[view]`.
const VIEW_KEYS: [&str; 6] = ["species", "cut", "through", "camera", "scale", "range"];

/// Where the heart is cut open (the part beyond the plane is cut away).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewCut {
    /// `"none"`: the whole heart (default).
    #[default]
    None,
    /// `"short_axis"`: a plane across the long axis, the base side cut away.
    ShortAxis,
    /// `"long_axis"`: a plane along the long axis (through septum and lateral wall), the
    /// anterior side cut away.
    LongAxis,
    /// `"camera"`: a plane facing the camera, the side towards it cut away.
    Camera,
}

impl ViewCut {
    const NAMES: &'static str = "none, short_axis, long_axis, camera";

    fn from_name(s: &str) -> Option<ViewCut> {
        Some(match s {
            "none" => ViewCut::None,
            "short_axis" => ViewCut::ShortAxis,
            "long_axis" => ViewCut::LongAxis,
            "camera" => ViewCut::Camera,
            _ => return None,
        })
    }
}

/// The point the cut passes through.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewPoint {
    /// `"depot"`: the centre of the scenario's first cells in the heart (a depot in the grid;
    /// a bolus is a field, not a depot).
    Depot,
    /// `"border_zone"`: the border zone's centre (as `site = "border_zone"`).
    BorderZone,
    /// `"centre"`: half-way between apex and base (the middle of a box).
    Centre,
    /// `[x, y, z]`, mm.
    Point([f64; 3]),
}

/// Where the camera looks from (it always looks at the heart's centre, the whole heart in
/// view).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewCamera {
    /// `"default"`: the anterior wall from a little above and to the left.
    Default,
    /// `"anterior"`: from the front, a little above (faces a long-axis cut).
    Anterior,
    /// `"base"`: from above the base, tilted towards the front (looks into a short-axis cut).
    Base,
    /// `"lateral"`: from the LV free wall's side.
    Lateral,
}

impl ViewCamera {
    const NAMES: &'static str = "default, anterior, base, lateral";

    fn from_name(s: &str) -> Option<ViewCamera> {
        Some(match s {
            "default" => ViewCamera::Default,
            "anterior" => ViewCamera::Anterior,
            "base" => ViewCamera::Base,
            "lateral" => ViewCamera::Lateral,
            _ => return None,
        })
    }

    /// The camera that looks into a cut: from above the base for a short-axis cut, from the
    /// front for a long-axis cut, the default otherwise.
    pub fn facing(cut: ViewCut) -> ViewCamera {
        match cut {
            ViewCut::ShortAxis => ViewCamera::Base,
            ViewCut::LongAxis => ViewCamera::Anterior,
            ViewCut::None | ViewCut::Camera => ViewCamera::Default,
        }
    }
}

/// How concentrations map to colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColourScale {
    Log,
    Linear,
}

/// `[view]`, resolved: every default filled in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ViewSpec {
    /// `species`: the species shown (default: the first of `[readouts] species`).
    pub species: String,
    /// `cut` (default none).
    pub cut: ViewCut,
    /// `through`: the point the cut passes through (default: the first depot in the heart,
    /// else the centre).
    pub through: ViewPoint,
    /// `camera` (default: the one facing the cut, [`ViewCamera::facing`]).
    pub camera: ViewCamera,
    /// `scale`: `"log"` (default) or `"linear"`.
    pub scale: ColourScale,
    /// `range = ["0.01 ng/mL", "100 ng/mL"]`: the colour range, ng/mL (default
    /// [`default_range`] around the species' EC50).
    pub range_ng_ml: [f64; 2],
    /// Whether the file gave the range (else it is [`default_range`] of the species' EC50).
    pub range_given: bool,
}

/// A colour range that shows the EC50 with room on both sides: on a log scale three decades
/// below it and one above (EC50 at three quarters of the bar), on a linear one 0 to twice
/// the EC50.
pub fn default_range(ec50_ng_ml: f64, scale: ColourScale) -> [f64; 2] {
    match scale {
        ColourScale::Log => [ec50_ng_ml * 1e-3, ec50_ng_ml * 10.0],
        ColourScale::Linear => [0.0, ec50_ng_ml * 2.0],
    }
}

/// Whether a depot puts cells in the grid, so that the viewer has its centre. (A bolus at the
/// start is a field, not a depot: cut through its site instead.)
fn in_heart(d: &DepotSpec) -> bool {
    match &d.route {
        Route::Intramyocardial { .. } | Route::Transendocardial { .. } => true,
        Route::Intracoronary { .. } => true,
        Route::Intravenous { heart_fraction, .. } => *heart_fraction > 0.0,
        Route::Intramuscular { .. } | Route::Subcutaneous { .. } => false,
        Route::Bolus { .. } => false,
    }
}

impl Doc<'_> {
    /// `[view]`; read after the depots and readouts it refers to.
    pub(super) fn view(
        &self,
        v: &Tbl<'_>,
        depots: &[DepotSpec],
        has_infarct: bool,
        readouts: &ReadoutSpec,
    ) -> Result<ViewSpec> {
        v.allow(&VIEW_KEYS, "[view]")?;
        let species = match v.string("species", "a species id")? {
            Some(id) => {
                v.ensure(
                    self.species.index_of(id).is_some(),
                    "species",
                    &format!(
                        "a species id of the species table: {} (`{id}` is unknown)",
                        self.ids()
                    ),
                )?;
                id.to_string()
            }
            None => readouts
                .species
                .first()
                .cloned()
                .or_else(|| self.species.species.first().map(|s| s.id.clone()))
                .unwrap_or_default(),
        };

        let cut = match v.string("cut", &format!("a cut: {}", ViewCut::NAMES))? {
            None => ViewCut::None,
            Some(s) => ViewCut::from_name(s)
                .ok_or_else(|| v.err("cut", &format!("a cut: {}; got \"{s}\"", ViewCut::NAMES)))?,
        };

        let has_depot = depots.iter().any(in_heart);
        let through = match self.view_point(v)? {
            Some(p) => {
                v.ensure(
                    cut != ViewCut::None,
                    "through",
                    "a cut for the plane to pass through (cut = \"short_axis\", \"long_axis\" or \"camera\")",
                )?;
                match p {
                    ViewPoint::Depot => v.ensure(
                        has_depot,
                        "through",
                        "\"depot\" with cells in the heart (here they act from remote sites, or there is only a bolus: cut through its site): \"centre\", \"border_zone\" or [x, y, z]",
                    )?,
                    ViewPoint::BorderZone => v.ensure(
                        has_infarct,
                        "through",
                        "a point that exists: with no infarct there is no border zone",
                    )?,
                    _ => {}
                }
                p
            }
            None if has_depot => ViewPoint::Depot,
            None => ViewPoint::Centre,
        };

        let camera = match v.string("camera", &format!("a camera: {}", ViewCamera::NAMES))? {
            None => ViewCamera::facing(cut),
            Some(s) => ViewCamera::from_name(s).ok_or_else(|| {
                v.err(
                    "camera",
                    &format!("a camera: {}; got \"{s}\"", ViewCamera::NAMES),
                )
            })?,
        };

        let scale = match v.string("scale", "a colour scale: log, linear")? {
            None | Some("log") => ColourScale::Log,
            Some("linear") => ColourScale::Linear,
            Some(s) => {
                return Err(v.err(
                    "scale",
                    &format!("a colour scale: log, linear; got \"{s}\""),
                ))
            }
        };

        let ec50 = readouts
            .ec50_ng_ml
            .iter()
            .find(|(id, _)| *id == species)
            .map_or(1.0, |e| e.1);
        let range = self.view_range(v, scale)?;
        Ok(ViewSpec {
            species,
            cut,
            through,
            camera,
            scale,
            range_ng_ml: range.unwrap_or_else(|| default_range(ec50, scale)),
            range_given: range.is_some(),
        })
    }

    /// `through`: `"depot"`, `"border_zone"`, `"centre"` or `[x, y, z]`.
    fn view_point(&self, v: &Tbl<'_>) -> Result<Option<ViewPoint>> {
        let Some(val) = v.get("through") else {
            return Ok(None);
        };
        let expected =
            "a point to cut through: \"depot\", \"border_zone\", \"centre\" or [x, y, z] in mm";
        Ok(Some(match val.get_ref() {
            DeValue::Array(_) => ViewPoint::Point(read_point(self, val, &v.key("through"))?),
            DeValue::String(s) => match s.as_ref() {
                "depot" => ViewPoint::Depot,
                "border_zone" => ViewPoint::BorderZone,
                "centre" | "center" => ViewPoint::Centre,
                other => return Err(v.err("through", &format!("{expected}; got \"{other}\""))),
            },
            other => return Err(v.err("through", &format!("{expected}, got {}", article(other)))),
        }))
    }

    /// `range = [low, high]`: two concentrations, low < high, low > 0 on a log scale.
    fn view_range(&self, v: &Tbl<'_>, scale: ColourScale) -> Result<Option<[f64; 2]>> {
        let Some(val) = v.get("range") else {
            return Ok(None);
        };
        let expected = "a colour range [low, high] of two concentrations such as [\"0.01 ng/mL\", \"100 ng/mL\"]";
        let DeValue::Array(items) = val.get_ref() else {
            return Err(v.type_err("range", val, expected));
        };
        if items.len() != 2 {
            return Err(v.err(
                "range",
                &format!("{expected}, got a list of {}", items.len()),
            ));
        }
        let mut r = [0.0; 2];
        for (i, item) in items.iter().enumerate() {
            r[i] = read_quantity(
                self,
                item,
                &format!("{}[{i}]", v.key("range")),
                CONCENTRATION,
            )?;
        }
        v.ensure(
            r[0] >= 0.0 && r[0] < r[1],
            "range",
            &format!(
                "a colour range with 0 ≤ low < high, got [{}, {}] ng/mL",
                r[0], r[1]
            ),
        )?;
        v.ensure(
            scale == ColourScale::Linear || r[0] > 0.0,
            "range",
            &format!(
                "a low end > 0 on a log scale (scale = \"linear\" starts at 0), got {} ng/mL",
                r[0]
            ),
        )?;
        Ok(Some(r))
    }
}
