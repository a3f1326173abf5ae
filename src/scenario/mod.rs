//! Scenario files (TOML): everything one run needs — geometry, infarcts, time, species
//! overrides, cell depots and their routes, plasma, the autocrine feedback, which terms run and
//! what is reported (MODEL.md §3–§6) — and what the viewer opens on (`[view]`, in `view.rs`).
//!
//! Every dimensional value is a quantity string with its unit (`"12 min"`, `"3 mm"`, `"2e7"`
//! cells, `"1.2 ng/1e6 cells/day"`, `"15 %"`) or a bare number read in the key's default unit:
//! lengths mm, cell counts cells, concentrations ng/mL, amounts ng, volumes mL, rates 1/h,
//! fractions plain numbers, times **h** except `[time] dt` (s); species parameters use the units
//! of the species table (half-lives min). [`Scenario::parse`] resolves the file into internal
//! units (mm, s, ng, mL, cells) with every default filled in, so nothing downstream needs to
//! know a default or a unit.
//!
//! Bad input is refused with one line: `file:line:col: key.path: expected …`. Unknown keys are
//! errors everywhere (a misspelt key would otherwise silently fall back to its default).
//!
//! An empty file is a valid scenario: the default heart with MODEL.md's LAD infarct, no depots,
//! 24 h, every term on (useful as a base and as a check of the defaults).
//!
//! Per-species lists in the resolved types (`PlasmaSpec::initial_ng_ml`, `AutocrineSpec::weights`,
//! `ReadoutSpec::ec50_ng_ml`, a bolus's `amounts_ng`) hold every species of the table, in table
//! order, so entry `i` belongs to field `i`.
//!
//! `assets/scenarios/README.md` describes the format key by key; the presets there are examples.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::base::species::{Parameter, Species, SpeciesTable};
use crate::base::units::{parse_quantity, Dimension, UnitError};
use crate::error::{InputError, Result, SimError};
use heart::{AnatomyHints, BasePlane, HeartParams, InfarctSpec, Territory};

mod depots;
mod geometry;
pub mod heart;
pub mod presets;
mod read;
mod resolve;
pub mod route_defaults;
mod species;
mod view;

use read::{Doc, Tbl};
use resolve::{heart_field, route_keys, DEPOT_KEYS, HEART_FIELDS};
pub use resolve::{FINEST_SLACK, MAX_LEVEL_RATIO};
pub use view::{default_range, ColourScale, ViewCamera, ViewCut, ViewPoint, ViewSpec};

const LN2: f64 = std::f64::consts::LN_2;
const HOUR: f64 = 3600.0;
const DAY: f64 = 86400.0;

// ------------------------------------------------------------------------------------------
// Resolved types
// ------------------------------------------------------------------------------------------

/// A whole run, resolved: internal units (mm, s, ng, mL, cells), every default filled in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scenario {
    /// The file it was read from, as given (for messages).
    pub source: String,
    /// `[scenario] name`; default: the file stem.
    pub name: String,
    /// `[scenario] description`: the 2–3 sentence teaching text (default empty).
    pub description: String,
    /// `[grid] spacing`: voxel edge, mm (default 1 mm).
    pub grid_spacing_mm: f64,
    /// `[grid] finest`: the finest voxel edge of the levels refined around the depots, mm
    /// (issue 17; `problem::build`). Absent, or no finer than the spacing: no refinement. Left
    /// out of the serialised scenario when absent, so that runs without it keep their hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid_finest_mm: Option<f64>,
    /// 1-based line and column of `[grid] finest`'s value, for the errors of later stages.
    #[serde(skip)]
    pub grid_finest_at: Option<(usize, usize)>,
    /// `[geometry]`: the default heart, a user mesh or a plain box.
    pub geometry: GeometrySpec,
    /// `[[infarct]]` tables. Default: MODEL.md's LAD infarct on a heart, none on a box, none with
    /// `[geometry] no_infarct = true`.
    pub infarcts: Vec<InfarctSpec>,
    /// `[time] duration`: simulated time, s (default 24 h).
    pub duration_s: f64,
    /// `[time] output_interval`: time between written fields, s (default 1 h).
    pub output_interval_s: f64,
    /// `[time] dt`: time step, s (default 60 s).
    pub dt_s: f64,
    /// `[species.<id>]` tables (and `[readouts] ec50`): parameters replacing those of the
    /// species table, in file order.
    pub species_overrides: Vec<SpeciesOverride>,
    /// `[tissue.<label>]` tables: per-label properties (multipliers, interstitial fraction)
    /// replacing the defaults of [`crate::base::LabelTable`], in file order.
    pub tissue_overrides: Vec<TissueOverride>,
    /// `[[depot]]` tables: cells (or a cell-free bolus) and how they are delivered.
    pub depots: Vec<DepotSpec>,
    /// `[plasma]`: the circulation compartment.
    pub plasma: PlasmaSpec,
    /// `[autocrine]`: the depots' survival feedback.
    pub autocrine: AutocrineSpec,
    /// `[terms]`: which terms of the equations run.
    pub terms: TermSwitches,
    /// `[readouts]`: EC50s and reported species.
    pub readouts: ReadoutSpec,
    /// `[view]`: what the viewer shows when it opens the scenario. The batch runs ignore it,
    /// so it is left out of the serialised scenario (summary.json and the fingerprint that
    /// `--resume` checks): changing the view does not change a run.
    #[serde(skip)]
    pub view: ViewSpec,
}

/// The tissue the run happens in.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GeometrySpec {
    /// `kind = "default_heart"`: the procedural heart, `[geometry.heart]` overriding its
    /// dimensions (mm).
    DefaultHeart { params: HeartParams },
    /// `kind = "mesh"`: a closed surface mesh (OBJ/STL, mm). `path` is resolved against the
    /// scenario file's directory and exists.
    Mesh { path: PathBuf, hints: MeshHints },
    /// `kind = "box"`: a block of myocardium spanning `[0, size]` mm on each axis, for
    /// verification; with `blood_pool` the voxel layer of its x = 0 face is blood (well mixed
    /// with plasma). It has no AHA segments, so no infarct and only point sites.
    Box { size_mm: [f64; 3], blood_pool: bool },
}

/// What the user tells the labeller about a mesh instead of letting it estimate (all mm).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MeshHints {
    /// A point on the base plane, mm (given together with `base_normal`).
    pub base_point: Option<[f64; 3]>,
    /// The base plane's normal pointing from the apex towards the base (any length > 0).
    pub base_normal: Option<[f64; 3]>,
    /// A point inside the LV cavity, mm.
    pub lv_point: Option<[f64; 3]>,
    /// The anterior RV insertion point, mm.
    pub anterior_insertion: Option<[f64; 3]>,
}

impl MeshHints {
    /// The hints in the form the labeller takes (normal made unit length).
    pub fn anatomy_hints(&self) -> AnatomyHints {
        let base_plane = match (self.base_point, self.base_normal) {
            (Some(point), Some(n)) => {
                let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
                Some(BasePlane {
                    point,
                    normal: [n[0] / len, n[1] / len, n[2] / len],
                })
            }
            _ => None,
        };
        AnatomyHints {
            base_plane,
            lv_point: self.lv_point,
            anterior_insertion: self.anterior_insertion,
        }
    }
}

/// One `[[depot]]`: a group of MSCs (or a cell-free bolus) delivered by one route.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DepotSpec {
    /// Key path of the table in the file (`depot[0]`).
    pub key: String,
    /// Key path of what places the depot (`depot[0].site`, `depot[0].segments`,
    /// `depot[0].territory`, …): a caller that cannot place it (a point outside the tissue)
    /// reports this key, see [`Scenario::site_error`].
    pub site_key: String,
    /// 1-based line and column of that key's value (of the table when it is a default).
    #[serde(skip)]
    pub site_at: Option<(usize, usize)>,
    /// Name in readouts; default `depot N` (N counts from 1 in file order).
    pub name: String,
    /// How the cells get there, with the route's own parameters.
    pub route: Route,
    /// Delivered cells (the dose), cells; 0 for a bolus.
    pub cells: f64,
    /// Fraction of the delivered cells (of a bolus: of its amounts) at the target at ~1 h,
    /// 0..=1. Defaults (MODEL.md §3): intramyocardial and transendocardial 0.15, intracoronary
    /// 0.08, intravenous = its `heart_fraction`, intramuscular, subcutaneous and bolus 1.
    pub retained: f64,
    /// How the depot's cells are spread around its centre.
    pub shape: DepotShape,
    /// Radius of the sphere, or σ of the Gaussian, mm (default 2 mm).
    pub radius_mm: f64,
    /// Injection time after the run's start, s (default 0).
    pub start_s: f64,
    /// Multiplies every species' secretion rate σ (default 1; dimensionless).
    pub secretion_scale: f64,
}

impl DepotSpec {
    /// Cells that reach the heart, cells (`cells · retained`; 0 for remote routes and boluses).
    pub fn cells_in_heart(&self) -> f64 {
        match self.route {
            Route::Intramuscular { .. } | Route::Subcutaneous { .. } | Route::Bolus { .. } => 0.0,
            _ => self.cells * self.retained,
        }
    }
}

/// How a depot's cells are spread around its centre: the placement code's own type.
/// How a depot's cells (`problem::depot::Spread`) are spread around its centre.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DepotShape {
    /// Evenly over the tissue voxels whose centres lie within the radius.
    Sphere,
    /// With weights `exp(−r²/2ρ²)` over tissue voxels within 3ρ (ρ = the radius).
    Gaussian,
}

/// Where an intramyocardial depot or a bolus sits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Site {
    /// A point, mm (`site = [x, y, z]`).
    Point([f64; 3]),
    /// The centre of an AHA segment (1–17) at a transmural depth, 0 endocardium … 1 epicardium
    /// (`site = { segment = 8, depth = 0.5 }`; depth defaults to 0.5, mid-wall).
    Segment { segment: u8, depth: f64 },
    /// The border zone's centre (`site = "border_zone"`).
    BorderZone,
    /// Remote, non-infarcted LV myocardium (`site = "remote"`).
    Remote,
}

/// A delivery route and its parameters (MODEL.md §3, §4).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Injection into the myocardium at `site`; with `track_to` (mm), a needle track from the
    /// site to that point split into `track_depots` evenly spaced depots (ends included) sharing
    /// the cells equally.
    Intramyocardial {
        site: Site,
        track_to: Option<[f64; 3]>,
        track_depots: u32,
    },
    /// `injections` injections into the LV endocardium of `segments`, `depth_mm` mm deep
    /// (POSEIDON: 10 sites), sharing the cells equally.
    Transendocardial {
        injections: u32,
        segments: Vec<u8>,
        depth_mm: f64,
    },
    /// Infusion into a coronary artery: cells spread over the territory by perfusion.
    Intracoronary { territory: Territory },
    /// Intravenous infusion: `heart_fraction` of the cells reach the heart (spread by
    /// perfusion), `lung_fraction` are trapped in the lungs, a remote depot whose cells die at
    /// `lung_k_death_per_s` (1/s) and whose secretion reaches plasma at `lung_k_abs_per_s`
    /// (1/s) with `lung_bioavailability` (0..=1); the rest is cleared.
    Intravenous {
        lung_fraction: f64,
        heart_fraction: f64,
        lung_k_death_per_s: f64,
        lung_k_abs_per_s: f64,
        lung_bioavailability: f64,
    },
    /// A remote depot in skeletal muscle: its secretion is absorbed into plasma at
    /// `k_abs_per_s` (1/s) with `bioavailability` (0..=1).
    Intramuscular {
        k_abs_per_s: f64,
        bioavailability: f64,
    },
    /// A remote depot under the skin, absorbed by lymph at `k_abs_per_s` (1/s; T_max 2–4 h)
    /// with `bioavailability` (0..=1).
    Subcutaneous {
        k_abs_per_s: f64,
        bioavailability: f64,
    },
    /// Cell-free conditioned medium or exosomes: `amounts_ng` (species id → ng, every species
    /// of the table) at `site` once at the depot's start, or into plasma with `into_plasma`
    /// (then `site` is `None`).
    Bolus {
        site: Option<Site>,
        amounts_ng: Vec<(String, f64)>,
        into_plasma: bool,
    },
}

/// The route names a scenario file may use, in MODEL.md's order.
pub const ROUTE_NAMES: [&str; 7] = [
    "intramyocardial",
    "transendocardial",
    "intracoronary",
    "intravenous",
    "intramuscular",
    "subcutaneous",
    "bolus",
];

impl Route {
    /// The route's name as written in files.
    pub fn name(&self) -> &'static str {
        match self {
            Route::Intramyocardial { .. } => "intramyocardial",
            Route::Transendocardial { .. } => "transendocardial",
            Route::Intracoronary { .. } => "intracoronary",
            Route::Intravenous { .. } => "intravenous",
            Route::Intramuscular { .. } => "intramuscular",
            Route::Subcutaneous { .. } => "subcutaneous",
            Route::Bolus { .. } => "bolus",
        }
    }

    /// Whether the route puts cells in a remote depot that reaches the heart through plasma
    /// (the endocrine axis): intravenous (its lung part), intramuscular, subcutaneous.
    pub fn has_remote_depot(&self) -> bool {
        matches!(
            self,
            Route::Intravenous { .. } | Route::Intramuscular { .. } | Route::Subcutaneous { .. }
        )
    }
}

/// The well-mixed plasma compartment (MODEL.md §4).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlasmaSpec {
    /// Plasma volume, mL (default 3000 mL).
    pub volume_ml: f64,
    /// Initial plasma concentration per species, ng/mL (every species, default 0).
    pub initial_ng_ml: Vec<(String, f64)>,
    /// Local distribution volume of a remote depot, mL (default 10 mL).
    pub remote_depot_volume_ml: f64,
}

/// The autocrine survival feedback (MODEL.md §3):
/// `dN/dt = −k_death · (1 − a_max · Σ w_s c_s^n / (K^n + c_s^n)) · N`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AutocrineSpec {
    /// Whether the feedback acts (default true); off, cells die at `k_death` alone.
    pub enabled: bool,
    /// Death rate of cells in the heart, 1/s (default ln2 / 3 d).
    pub k_death_heart_per_s: f64,
    /// Largest fraction of the death rate the feedback removes, 0..=1 (default 0.5).
    pub a_max: f64,
    /// Half-effect concentration `K_auto`, ng/mL (default 1 ng/mL).
    pub k_auto_ng_ml: f64,
    /// Hill exponent `n`, dimensionless (default 1).
    pub hill: f64,
    /// Weight `w_s` per species (every species, in table order; default VEGF 0.5, HGF 0.5, others
    /// 0); each ≥ 0, summing to at most 1.
    pub weights: Vec<(String, f64)>,
}

/// Which terms of the tissue equation run (all on by default); switching one off shows its
/// share of the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TermSwitches {
    pub diffusion: bool,
    pub decay: bool,
    pub uptake: bool,
    pub exchange: bool,
    pub secretion: bool,
}

impl Default for TermSwitches {
    fn default() -> Self {
        TermSwitches {
            diffusion: true,
            decay: true,
            uptake: true,
            exchange: true,
            secretion: true,
        }
    }
}

/// What the readouts report (MODEL.md §5).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReadoutSpec {
    /// EC50 per species, ng/mL: every species in table order, from the table, a
    /// `[species.<id>] ec50` override or `[readouts] ec50` (which is also listed in
    /// `Scenario::species_overrides`).
    pub ec50_ng_ml: Vec<(String, f64)>,
    /// Species reported (default all, in table order).
    pub species: Vec<String>,
    /// Accumulate exposure per voxel (AUC, time above EC50) on the GPU (default true; two
    /// more f32 per species and voxel).
    pub exposure: bool,
}

/// One species parameter replaced by the scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpeciesOverride {
    /// Species id (`VEGF`).
    pub species: String,
    /// Parameter name as in the species table (`tissue_half_life`).
    pub parameter: String,
    /// New value in the species table's internal unit (see [`SPECIES_PARAMETERS`]).
    pub value: f64,
    /// Where the value comes from (`source = …` in the file, else `scenario <name>`).
    pub source: String,
}

/// One per-label property replaced by the scenario (`[tissue.<label>]`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TissueOverride {
    /// Label name (`myocardium`, `border_zone`, `infarct`, `blood_lv`, `blood_rv`).
    pub label: String,
    /// One of [`TISSUE_PROPERTIES`].
    pub property: String,
    /// New value (dimensionless).
    pub value: f64,
    /// Where the value comes from (`source = …` in the file, else `scenario <name>`).
    pub source: String,
}

/// The per-label properties a scenario may set: the multipliers of diffusion, uptake and
/// perfusion (≥ 0) and the interstitial volume fraction (0 < ε ≤ 1).
pub const TISSUE_PROPERTIES: [&str; 4] = ["diffusion", "uptake", "perfusion", "volume_fraction"];

/// A species-table parameter a scenario may override: name, dimension, the unit of a bare
/// number, and whether it must be > 0 (else ≥ 0).
pub struct SpeciesParameter {
    pub name: &'static str,
    pub dim: Dimension,
    pub default_unit: &'static str,
    pub positive: bool,
    /// What it is and a typical value, for messages.
    pub noun: &'static str,
    pub example: &'static str,
}

/// Every overridable parameter, with the same units as `assets/species.toml`.
pub const SPECIES_PARAMETERS: [SpeciesParameter; 15] = [
    SpeciesParameter {
        name: "diffusion",
        dim: Dimension::DIFFUSIVITY,
        default_unit: "mm^2/s",
        positive: true,
        noun: "a diffusion coefficient",
        example: "\"3.5e-5 mm^2/s\"",
    },
    SpeciesParameter {
        name: "tissue_half_life",
        dim: Dimension::TIME,
        default_unit: "min",
        positive: true,
        noun: "a half-life",
        example: "\"12 min\"",
    },
    SpeciesParameter {
        name: "uptake_vmax",
        dim: Dimension::CONCENTRATION_RATE,
        default_unit: "ng/mL/s",
        positive: false,
        noun: "an uptake rate",
        example: "\"0.2 ng/mL/s\"",
    },
    SpeciesParameter {
        name: "uptake_km",
        dim: Dimension::CONCENTRATION,
        default_unit: "ng/mL",
        positive: true,
        noun: "a concentration",
        example: "\"2 ng/mL\"",
    },
    SpeciesParameter {
        name: "permeability",
        dim: Dimension::RATE,
        default_unit: "1/s",
        positive: false,
        noun: "a rate",
        example: "\"3.5e-4 1/s\"",
    },
    SpeciesParameter {
        name: "plasma_half_life",
        dim: Dimension::TIME,
        default_unit: "min",
        positive: true,
        noun: "a half-life",
        example: "\"34 min\"",
    },
    SpeciesParameter {
        name: "secretion",
        dim: Dimension::SECRETION,
        default_unit: "ng/1e6 cells/day",
        positive: false,
        noun: "a secretion rate",
        example: "\"1.2 ng/1e6 cells/day\"",
    },
    SpeciesParameter {
        name: "hypoxia_fold",
        dim: Dimension::NONE,
        default_unit: "1",
        positive: true,
        noun: "a fold change",
        example: "5",
    },
    SpeciesParameter {
        name: "ec50",
        dim: Dimension::CONCENTRATION,
        default_unit: "ng/mL",
        positive: true,
        noun: "a concentration",
        example: "\"1 ng/mL\"",
    },
    SpeciesParameter {
        name: "kd",
        dim: Dimension::CONCENTRATION,
        default_unit: "ng/mL",
        positive: true,
        noun: "a dissociation constant",
        example: "\"2 ng/mL\"",
    },
    SpeciesParameter {
        name: "baseline_plasma",
        dim: Dimension::CONCENTRATION,
        default_unit: "ng/mL",
        positive: false,
        noun: "a baseline concentration",
        example: "\"0.3 ng/mL\"",
    },
    SpeciesParameter {
        name: "baseline_tissue",
        dim: Dimension::CONCENTRATION,
        default_unit: "ng/mL",
        positive: false,
        noun: "a baseline concentration",
        example: "\"0.3 ng/mL\"",
    },
    SpeciesParameter {
        name: "lung_fold",
        dim: Dimension::NONE,
        default_unit: "1",
        positive: false,
        noun: "a fold change",
        example: "30",
    },
    SpeciesParameter {
        name: "muscle_fold",
        dim: Dimension::NONE,
        default_unit: "1",
        positive: false,
        noun: "a fold change",
        example: "1",
    },
    SpeciesParameter {
        name: "skin_fold",
        dim: Dimension::NONE,
        default_unit: "1",
        positive: false,
        noun: "a fold change",
        example: "1",
    },
];

/// The parameter of `s` called `name` (one of [`SPECIES_PARAMETERS`]).
fn parameter_mut<'s>(s: &'s mut Species, name: &str) -> Option<&'s mut Parameter> {
    Some(match name {
        "diffusion" => &mut s.diffusion,
        "tissue_half_life" => &mut s.tissue_half_life,
        "uptake_vmax" => &mut s.uptake_vmax,
        "uptake_km" => &mut s.uptake_km,
        "permeability" => &mut s.permeability,
        "plasma_half_life" => &mut s.plasma_half_life,
        "secretion" => &mut s.secretion,
        "hypoxia_fold" => &mut s.hypoxia_fold,
        "ec50" => &mut s.ec50,
        "kd" => &mut s.kd,
        "baseline_plasma" => &mut s.baseline_plasma,
        "baseline_tissue" => &mut s.baseline_tissue,
        "lung_fold" => &mut s.lung_fold,
        "muscle_fold" => &mut s.muscle_fold,
        "skin_fold" => &mut s.skin_fold,
        _ => return None,
    })
}

impl Scenario {
    /// Reads a scenario file against the default species table; a mesh path is resolved
    /// against the file's directory.
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let species = SpeciesTable::default_table()?;
        let base = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Self::parse(&text, &path.display().to_string(), base, &species)
    }

    /// Parses and resolves a scenario. `file` names it in messages and gives the default name
    /// (its stem); `base_dir` resolves a relative mesh path; species ids and the defaults of
    /// per-species values come from `species`.
    pub fn parse(
        text: &str,
        file: &str,
        base_dir: &Path,
        species: &SpeciesTable,
    ) -> Result<Scenario> {
        let parsed = DeTable::parse(text).map_err(|e| InputError::from_toml(file, text, &e))?;
        let doc = Doc {
            file,
            text,
            species,
        };
        let root = Tbl {
            doc: &doc,
            path: String::new(),
            span: Some(0..0),
            map: Some(parsed.get_ref()),
        };
        doc.resolve(&root, base_dir)
    }

    /// Writes the scenario's species overrides (`[species.<id>]`, and `[readouts] ec50`) into
    /// `table`. Fails with the key path when the table lacks one of the species.
    pub fn apply_species_overrides(&self, table: &mut SpeciesTable) -> Result<()> {
        for o in &self.species_overrides {
            let key = format!("species.{}.{}", o.species, o.parameter);
            let s = table
                .species
                .iter_mut()
                .find(|s| s.id == o.species)
                .ok_or_else(|| {
                    InputError::new(&self.source, None, &key, "a species of the species table")
                })?;
            let p = parameter_mut(s, &o.parameter).ok_or_else(|| {
                InputError::new(&self.source, None, &key, "a species table parameter")
            })?;
            *p = Parameter::new(o.value, &o.source);
        }
        Ok(())
    }

    /// Writes the scenario's `[tissue.<label>]` values into `table`.
    pub fn apply_tissue_overrides(&self, table: &mut crate::base::LabelTable) -> Result<()> {
        for o in &self.tissue_overrides {
            let key = format!("tissue.{}.{}", o.label, o.property);
            let label = crate::base::TissueLabel::from_name(&o.label)
                .ok_or_else(|| InputError::new(&self.source, None, &key, "a tissue label"))?;
            let mut e = table.get(label);
            match o.property.as_str() {
                "diffusion" => e.diffusion = o.value,
                "uptake" => e.uptake = o.value,
                "perfusion" => e.perfusion = o.value,
                "volume_fraction" => e.volume_fraction = o.value,
                _ => {
                    return Err(
                        InputError::new(&self.source, None, &key, "a tissue property").into(),
                    )
                }
            }
            table.set(label, e);
        }
        Ok(())
    }

    /// The error a caller reports when depot `d` cannot be placed (a point outside the
    /// tissue, …): `file:line:col: depot[i].site: expected <expected>`.
    pub fn site_error(&self, d: &DepotSpec, expected: &str) -> SimError {
        InputError::new(&self.source, d.site_at, &d.site_key, expected).into()
    }

    /// A later stage's error about depot `d` (placing it in the tissue, delivering it),
    /// located at the key that places it: `file:line:col: depot[i].site: <its sentence>`. The
    /// stage's sentence says what is wrong and what was expected; it is said once, not spliced
    /// into an "expected …" of its own. An input error (already located) is kept as it is.
    pub fn site_problem(&self, d: &DepotSpec, e: SimError) -> SimError {
        let message = match e {
            SimError::Input(_) => return e,
            SimError::Problem(m) => m,
            other => other.to_string(),
        };
        InputError::stated(&self.source, d.site_at, &d.site_key, &message).into()
    }

    /// A later stage's error about `[grid] finest`: `file:line:col: grid.finest: <sentence>`.
    pub fn finest_problem(&self, message: &str) -> SimError {
        InputError::stated(&self.source, self.grid_finest_at, "grid.finest", message).into()
    }

    /// Number of time steps (the last one may be shortened to end at `duration_s`).
    pub fn steps(&self) -> u64 {
        (self.duration_s / self.dt_s).ceil() as u64
    }
}
