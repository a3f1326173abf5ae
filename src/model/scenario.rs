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

use crate::error::{InputError, Result, SimError};
use crate::geometry::{AnatomyHints, BasePlane, HeartParams, InfarctSpec, Territory};
use crate::model::species::{Parameter, Species, SpeciesTable};
use crate::model::units::{parse_quantity, Dimension, UnitError};

mod view;
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
    /// replacing the defaults of [`crate::model::LabelTable`], in file order.
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
pub use crate::model::depot::Spread as DepotShape;

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
    pub fn apply_tissue_overrides(&self, table: &mut crate::model::LabelTable) -> Result<()> {
        for o in &self.tissue_overrides {
            let key = format!("tissue.{}.{}", o.label, o.property);
            let label = crate::model::TissueLabel::from_name(&o.label)
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

    /// Number of time steps (the last one may be shortened to end at `duration_s`).
    pub fn steps(&self) -> u64 {
        (self.duration_s / self.dt_s).ceil() as u64
    }
}

// ------------------------------------------------------------------------------------------
// Reading the TOML tree
// ------------------------------------------------------------------------------------------

type Val<'a> = Spanned<DeValue<'a>>;

/// The document being read: file name and text (for positions), the species table.
struct Doc<'a> {
    file: &'a str,
    text: &'a str,
    species: &'a SpeciesTable,
}

impl Doc<'_> {
    fn err(&self, span: Option<Range<usize>>, key: &str, expected: &str) -> SimError {
        let at = span.map(|s| InputError::line_col(self.text, s.start));
        InputError::new(self.file, at, key, expected).into()
    }

    fn ids(&self) -> String {
        self.species
            .species
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A quantity a key holds: its dimension, the unit of a bare number, a noun and an example for
/// messages.
#[derive(Clone, Copy)]
struct Q {
    dim: Dimension,
    unit: &'static str,
    noun: &'static str,
    example: &'static str,
}

const LENGTH: Q = Q {
    dim: Dimension::LENGTH,
    unit: "mm",
    noun: "a length",
    example: "\"3 mm\"",
};
const HOURS: Q = Q {
    dim: Dimension::TIME,
    unit: "h",
    noun: "a time",
    example: "\"12 h\"",
};
const SECONDS: Q = Q {
    dim: Dimension::TIME,
    unit: "s",
    noun: "a time",
    example: "\"60 s\"",
};
const RATE: Q = Q {
    dim: Dimension::RATE,
    unit: "1/h",
    noun: "a rate",
    example: "\"0.1 1/h\"",
};
const CELLS: Q = Q {
    dim: Dimension::CELLS,
    unit: "cells",
    noun: "a cell count",
    example: "\"2e7\"",
};
const FRACTION: Q = Q {
    dim: Dimension::NONE,
    unit: "1",
    noun: "a fraction",
    example: "0.15 or \"15 %\"",
};
const NUMBER: Q = Q {
    dim: Dimension::NONE,
    unit: "1",
    noun: "a number",
    example: "1",
};
const CONCENTRATION: Q = Q {
    dim: Dimension::CONCENTRATION,
    unit: "ng/mL",
    noun: "a concentration",
    example: "\"1 ng/mL\"",
};
const MASS: Q = Q {
    dim: Dimension::MASS,
    unit: "ng",
    noun: "an amount",
    example: "\"50 ng\"",
};
const VOLUME: Q = Q {
    dim: Dimension::VOLUME,
    unit: "mL",
    noun: "a volume",
    example: "\"3000 mL\"",
};

fn article(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A TOML number as f64 (integers and floats; digit separators allowed).
fn number(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Integer(i) => {
            let s = i.as_str().replace('_', "");
            i64::from_str_radix(&s, i.radix()).ok().map(|n| n as f64)
        }
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        _ => None,
    }
}

/// Formats a value for messages with its internal unit.
fn shown(v: f64, unit: &str) -> String {
    if unit.is_empty() {
        format!("{v}")
    } else {
        format!("{v} {unit}")
    }
}

/// A table being read: its key path (`depot[0]`), where it is, its entries (`None` when the
/// file leaves it out: every key takes its default).
struct Tbl<'a> {
    doc: &'a Doc<'a>,
    path: String,
    span: Option<Range<usize>>,
    map: Option<&'a DeTable<'a>>,
}

impl<'a> Tbl<'a> {
    fn key(&self, k: &str) -> String {
        if self.path.is_empty() {
            k.to_string()
        } else {
            format!("{}.{k}", self.path)
        }
    }

    fn get(&self, k: &str) -> Option<&'a Val<'a>> {
        self.map.and_then(|m| m.get(k))
    }

    fn has(&self, k: &str) -> bool {
        self.get(k).is_some()
    }

    /// Where a key's value is, or the table when the key is absent.
    fn loc(&self, k: &str) -> Option<Range<usize>> {
        self.get(k).map(|v| v.span()).or_else(|| self.span.clone())
    }

    fn at(&self, k: &str) -> Option<(usize, usize)> {
        self.loc(k)
            .map(|s| InputError::line_col(self.doc.text, s.start))
    }

    /// An error about key `k` of this table.
    fn err(&self, k: &str, expected: &str) -> SimError {
        self.doc.err(self.loc(k), &self.key(k), expected)
    }

    fn ensure(&self, ok: bool, k: &str, expected: &str) -> Result<()> {
        if ok {
            Ok(())
        } else {
            Err(self.err(k, expected))
        }
    }

    fn type_err(&self, k: &str, v: &Val<'_>, expected: &str) -> SimError {
        self.err(k, &format!("{expected}, got {}", article(v.get_ref())))
    }

    /// Refuses keys not in `keys`, naming the key and listing the valid ones.
    fn allow(&self, keys: &[&str], what: &str) -> Result<()> {
        let Some(map) = self.map else { return Ok(()) };
        for (k, _) in map.iter() {
            let name: &str = k.get_ref();
            if !keys.contains(&name) {
                return Err(self.doc.err(
                    Some(k.span()),
                    &self.key(name),
                    &format!(
                        "a key of {what}, one of: {} (`{name}` is unknown)",
                        keys.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A sub-table; an absent one reads as empty (all defaults).
    fn table(&self, k: &str) -> Result<Tbl<'a>> {
        match self.get(k) {
            None => Ok(Tbl {
                doc: self.doc,
                path: self.key(k),
                span: self.span.clone(),
                map: None,
            }),
            Some(v) => match v.get_ref() {
                DeValue::Table(t) => Ok(Tbl {
                    doc: self.doc,
                    path: self.key(k),
                    span: Some(v.span()),
                    map: Some(t),
                }),
                _ => Err(self.type_err(k, v, &format!("a table [{}]", self.key(k)))),
            },
        }
    }

    /// An array of tables (`[[depot]]`); `None` when absent.
    fn tables(&self, k: &str) -> Result<Option<Vec<Tbl<'a>>>> {
        let Some(v) = self.get(k) else {
            return Ok(None);
        };
        let expected = format!("an array of tables [[{}]]", self.key(k));
        let DeValue::Array(items) = v.get_ref() else {
            return Err(self.type_err(k, v, &expected));
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let DeValue::Table(t) = item.get_ref() else {
                return Err(self.doc.err(
                    Some(item.span()),
                    &format!("{}[{i}]", self.key(k)),
                    &format!("{expected}, got {}", article(item.get_ref())),
                ));
            };
            out.push(Tbl {
                doc: self.doc,
                path: format!("{}[{i}]", self.key(k)),
                span: Some(item.span()),
                map: Some(t),
            });
        }
        Ok(Some(out))
    }

    fn string(&self, k: &str, expected: &str) -> Result<Option<&'a str>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Ok(Some(s.as_ref())),
                _ => Err(self.type_err(k, v, expected)),
            },
        }
    }

    fn boolean(&self, k: &str) -> Result<Option<bool>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Boolean(b) => Ok(Some(*b)),
                _ => Err(self.type_err(k, v, "true or false")),
            },
        }
    }

    fn quantity(&self, k: &str, q: Q) -> Result<Option<f64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => read_quantity(self.doc, v, &self.key(k), q).map(Some),
        }
    }

    fn integer(&self, k: &str, expected: &str) -> Result<Option<i64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Integer(_) => match number(v.get_ref()) {
                    Some(n) => Ok(Some(n as i64)),
                    None => Err(self.err(k, expected)),
                },
                _ => Err(self.type_err(k, v, expected)),
            },
        }
    }

    /// `[x, y, z]` in mm (numbers or length strings).
    fn point(&self, k: &str) -> Result<Option<[f64; 3]>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => read_point(self.doc, v, &self.key(k)).map(Some),
        }
    }

    /// A list of AHA segments 1–17 (at least one).
    fn segments(&self, k: &str) -> Result<Option<Vec<u8>>> {
        let Some(v) = self.get(k) else {
            return Ok(None);
        };
        let expected = "a list of AHA segments 1–17 such as [7, 8, 13, 14]";
        let DeValue::Array(items) = v.get_ref() else {
            return Err(self.type_err(k, v, expected));
        };
        if items.is_empty() {
            return Err(self.err(k, &format!("{expected}, got an empty list")));
        }
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let key = format!("{}[{i}]", self.key(k));
            out.push(read_segment(self.doc, item, &key)?);
        }
        Ok(Some(out))
    }

    /// A table of species id → quantity, checked against the species table; every species in
    /// table order, `default` for those not given. `None` when absent.
    fn per_species(
        &self,
        k: &str,
        q: Q,
        default: impl Fn(&str) -> f64,
    ) -> Result<Option<Vec<(String, f64)>>> {
        let Some(v) = self.get(k) else {
            return Ok(None);
        };
        let DeValue::Table(t) = v.get_ref() else {
            return Err(self.type_err(
                k,
                v,
                &format!(
                    "a table of species id → {} such as {{ VEGF = {} }}",
                    q.noun, q.example
                ),
            ));
        };
        let mut given: Vec<(&str, f64)> = Vec::new();
        for (id, val) in t.iter() {
            let id: &str = id.get_ref();
            let key = format!("{}.{id}", self.key(k));
            if self.doc.species.index_of(id).is_none() {
                return Err(self.doc.err(
                    Some(val.span()),
                    &key,
                    &format!(
                        "a species id of the species table: {} (`{id}` is unknown)",
                        self.doc.ids()
                    ),
                ));
            }
            given.push((id, read_quantity(self.doc, val, &key, q)?));
        }
        Ok(Some(
            self.doc
                .species
                .species
                .iter()
                .map(|s| {
                    let v = given
                        .iter()
                        .find(|g| g.0 == s.id)
                        .map_or_else(|| default(&s.id), |g| g.1);
                    (s.id.clone(), v)
                })
                .collect(),
        ))
    }

    /// A rate given either as a rate (`rate_key`, 1/h) or as a half-life (`half_life_key`, h);
    /// returns 1/s.
    fn rate_or_half_life(&self, rate_key: &str, half_life_key: &str) -> Result<Option<f64>> {
        let rate = self.quantity(rate_key, RATE)?;
        let hl = self.quantity(half_life_key, HOURS)?;
        match (rate, hl) {
            (Some(_), Some(_)) => Err(self.err(
                half_life_key,
                &format!("either {rate_key} or {half_life_key}, not both"),
            )),
            (Some(r), None) => {
                self.ensure(
                    r > 0.0,
                    rate_key,
                    &format!("a positive rate, got {}", shown(r, "1/s")),
                )?;
                Ok(Some(r))
            }
            (None, Some(t)) => {
                self.ensure(
                    t > 0.0,
                    half_life_key,
                    &format!("a positive half-life, got {}", shown(t, "s")),
                )?;
                Ok(Some(LN2 / t))
            }
            (None, None) => Ok(None),
        }
    }

    /// A fraction in 0..=1 (`positive`: in (0, 1]).
    fn fraction(&self, k: &str, positive: bool) -> Result<Option<f64>> {
        let Some(f) = self.quantity(k, FRACTION)? else {
            return Ok(None);
        };
        let ok = if positive {
            f > 0.0 && f <= 1.0
        } else {
            (0.0..=1.0).contains(&f)
        };
        let range = if positive {
            "0 < f ≤ 1"
        } else {
            "0 ≤ f ≤ 1"
        };
        self.ensure(ok, k, &format!("a fraction {range}, got {f}"))?;
        Ok(Some(f))
    }
}

fn read_quantity(doc: &Doc<'_>, v: &Val<'_>, key: &str, q: Q) -> Result<f64> {
    let span = Some(v.span());
    let what = format!(
        "{} such as {} (a bare number is in {})",
        q.noun, q.example, q.unit
    );
    let value = match v.get_ref() {
        DeValue::String(s) => parse_quantity(s, q.dim, q.unit).map_err(|e| {
            let why = match &e {
                UnitError::WrongDimension { got, .. } => format!("wrong unit: {got}"),
                UnitError::UnknownUnit { unit, .. } => format!("unknown unit `{unit}`"),
                UnitError::NoNumber(_) => "not a number followed by a unit".into(),
                UnitError::NotFinite(_) => "not finite".into(),
            };
            doc.err(span.clone(), key, &format!("{what}, got \"{s}\" ({why})"))
        })?,
        DeValue::Integer(_) | DeValue::Float(_) => {
            let n = number(v.get_ref())
                .ok_or_else(|| doc.err(span.clone(), key, &format!("{what}, got a bad number")))?;
            let unit = parse_quantity("1", q.dim, q.unit).unwrap_or(1.0);
            n * unit
        }
        other => {
            return Err(doc.err(span, key, &format!("{what}, got {}", article(other))));
        }
    };
    if !value.is_finite() {
        return Err(doc.err(
            span,
            key,
            &format!("{what}, got a value that is not finite"),
        ));
    }
    Ok(value)
}

fn read_point(doc: &Doc<'_>, v: &Val<'_>, key: &str) -> Result<[f64; 3]> {
    let expected = "a point [x, y, z] of 3 numbers in mm";
    let DeValue::Array(items) = v.get_ref() else {
        return Err(doc.err(
            Some(v.span()),
            key,
            &format!("{expected}, got {}", article(v.get_ref())),
        ));
    };
    if items.len() != 3 {
        return Err(doc.err(
            Some(v.span()),
            key,
            &format!("{expected}, got {} numbers", items.len()),
        ));
    }
    let mut p = [0.0; 3];
    for (i, item) in items.iter().enumerate() {
        p[i] = read_quantity(doc, item, &format!("{key}[{i}]"), LENGTH)?;
    }
    Ok(p)
}

fn read_segment(doc: &Doc<'_>, v: &Val<'_>, key: &str) -> Result<u8> {
    let expected = "an AHA segment 1–17";
    match v.get_ref() {
        DeValue::Integer(_) => match number(v.get_ref()) {
            Some(n) if (1.0..=17.0).contains(&n) => Ok(n as u8),
            Some(n) => Err(doc.err(Some(v.span()), key, &format!("{expected}, got {n}"))),
            None => Err(doc.err(Some(v.span()), key, expected)),
        },
        other => Err(doc.err(
            Some(v.span()),
            key,
            &format!("{expected}, got {}", article(other)),
        )),
    }
}

// ------------------------------------------------------------------------------------------
// Resolving each section
// ------------------------------------------------------------------------------------------

const TOP_KEYS: [&str; 13] = [
    "scenario",
    "grid",
    "geometry",
    "infarct",
    "time",
    "species",
    "tissue",
    "depot",
    "plasma",
    "autocrine",
    "terms",
    "readouts",
    "view",
];

const HEART_FIELDS: [&str; 10] = [
    "lv_cavity_radius",
    "lv_cavity_half_length",
    "lv_wall",
    "lv_apex_wall",
    "base_above_equator",
    "rv_offset",
    "rv_radius_septal",
    "rv_radius_wrap",
    "rv_half_length",
    "rv_wall",
];

fn heart_field<'p>(p: &'p mut HeartParams, name: &str) -> Option<&'p mut f64> {
    Some(match name {
        "lv_cavity_radius" => &mut p.lv_cavity_radius,
        "lv_cavity_half_length" => &mut p.lv_cavity_half_length,
        "lv_wall" => &mut p.lv_wall,
        "lv_apex_wall" => &mut p.lv_apex_wall,
        "base_above_equator" => &mut p.base_above_equator,
        "rv_offset" => &mut p.rv_offset,
        "rv_radius_septal" => &mut p.rv_radius_septal,
        "rv_radius_wrap" => &mut p.rv_radius_wrap,
        "rv_half_length" => &mut p.rv_half_length,
        "rv_wall" => &mut p.rv_wall,
        _ => return None,
    })
}

/// The common keys of every `[[depot]]`.
const DEPOT_KEYS: [&str; 8] = [
    "name",
    "route",
    "cells",
    "retained",
    "shape",
    "radius",
    "start",
    "secretion_scale",
];

/// Route-specific keys of a `[[depot]]`.
fn route_keys(route: &str) -> &'static [&'static str] {
    match route {
        "intramyocardial" => &["site", "track_to", "track_depots"],
        "transendocardial" => &["injections", "segments", "depth"],
        "intracoronary" => &["territory"],
        "intravenous" => &[
            "lung_fraction",
            "heart_fraction",
            "lung_death_half_life",
            "lung_k_death",
            "lung_absorption_half_life",
            "lung_k_abs",
            "lung_bioavailability",
        ],
        "intramuscular" | "subcutaneous" => &["absorption_half_life", "k_abs", "bioavailability"],
        "bolus" => &["site", "amounts", "into_plasma"],
        _ => &[],
    }
}

impl Doc<'_> {
    fn resolve(&self, root: &Tbl<'_>, base_dir: &Path) -> Result<Scenario> {
        root.allow(&TOP_KEYS, "a scenario file")?;

        // [scenario]
        let sc = root.table("scenario")?;
        sc.allow(&["name", "description"], "[scenario]")?;
        let name = match sc.string("name", "a name string")? {
            Some(n) => {
                sc.ensure(!n.trim().is_empty(), "name", "a non-empty name")?;
                n.to_string()
            }
            None => Path::new(self.file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "scenario".into()),
        };
        let description = sc
            .string("description", "a description string")?
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();

        // [grid]
        let grid = root.table("grid")?;
        grid.allow(&["spacing"], "[grid]")?;
        let grid_spacing_mm = grid.quantity("spacing", LENGTH)?.unwrap_or(1.0);
        grid.ensure(
            grid_spacing_mm > 0.0 && grid_spacing_mm <= 10.0,
            "spacing",
            &format!(
                "a voxel spacing 0 < h ≤ 10 mm, got {}",
                shown(grid_spacing_mm, "mm")
            ),
        )?;

        // [time]
        let time = root.table("time")?;
        time.allow(&["duration", "output_interval", "dt"], "[time]")?;
        let duration_s = time.quantity("duration", HOURS)?.unwrap_or(24.0 * HOUR);
        time.ensure(
            duration_s > 0.0,
            "duration",
            &format!("a positive duration, got {}", shown(duration_s, "s")),
        )?;
        let output_interval_s = time.quantity("output_interval", HOURS)?.unwrap_or(HOUR);
        time.ensure(
            output_interval_s > 0.0,
            "output_interval",
            &format!(
                "a positive output interval, got {}",
                shown(output_interval_s, "s")
            ),
        )?;
        time.ensure(
            output_interval_s <= duration_s,
            if time.has("output_interval") {
                "output_interval"
            } else {
                "duration"
            },
            &format!(
                "an output interval no longer than the duration ({} > {})",
                shown(output_interval_s, "s"),
                shown(duration_s, "s")
            ),
        )?;
        let dt_s = time.quantity("dt", SECONDS)?.unwrap_or(60.0);
        time.ensure(
            dt_s > 0.0,
            "dt",
            &format!("a positive time step, got {}", shown(dt_s, "s")),
        )?;
        time.ensure(
            dt_s <= output_interval_s,
            "dt",
            &format!(
                "a time step no longer than the output interval ({} > {})",
                shown(dt_s, "s"),
                shown(output_interval_s, "s")
            ),
        )?;

        // [geometry]
        let geo = root.table("geometry")?;
        let (geometry, no_infarct) = self.geometry(&geo, base_dir)?;
        let is_box = matches!(geometry, GeometrySpec::Box { .. });

        // [[infarct]]
        let infarcts = match root.tables("infarct")? {
            Some(list) => {
                if no_infarct {
                    return Err(root.err(
                        "infarct",
                        "no [[infarct]] tables when [geometry] no_infarct = true",
                    ));
                }
                if is_box {
                    return Err(root.err(
                        "infarct",
                        "no [[infarct]] on a box geometry (it has no AHA segments)",
                    ));
                }
                if list.is_empty() {
                    return Err(root.err(
                        "infarct",
                        "at least one [[infarct]] table (for none, write no_infarct = true under [geometry])",
                    ));
                }
                list.iter()
                    .map(|t| self.infarct(t))
                    .collect::<Result<Vec<_>>>()?
            }
            None if no_infarct || is_box => Vec::new(),
            None => vec![InfarctSpec::default_lad()],
        };

        // [species.<id>]
        let mut species_overrides = self.species_overrides(&root.table("species")?, &name)?;

        // [tissue.<label>]
        let tissue_overrides = self.tissue_overrides(&root.table("tissue")?, &name)?;

        // [plasma]
        let pl = root.table("plasma")?;
        pl.allow(&["volume", "initial", "remote_depot_volume"], "[plasma]")?;
        let volume_ml = pl.quantity("volume", VOLUME)?.unwrap_or(3000.0);
        pl.ensure(
            volume_ml > 0.0,
            "volume",
            &format!("a positive plasma volume, got {}", shown(volume_ml, "mL")),
        )?;
        let remote_depot_volume_ml = pl.quantity("remote_depot_volume", VOLUME)?.unwrap_or(10.0);
        pl.ensure(
            remote_depot_volume_ml > 0.0,
            "remote_depot_volume",
            &format!(
                "a positive volume, got {}",
                shown(remote_depot_volume_ml, "mL")
            ),
        )?;
        let initial_ng_ml = pl
            .per_species("initial", CONCENTRATION, |_| 0.0)?
            .unwrap_or_else(|| self.zeros());
        self.non_negative(&pl, "initial", &initial_ng_ml, "ng/mL")?;
        let plasma = PlasmaSpec {
            volume_ml,
            initial_ng_ml,
            remote_depot_volume_ml,
        };

        // [autocrine]
        let autocrine = self.autocrine(&root.table("autocrine")?)?;

        // [terms]
        let t = root.table("terms")?;
        let names = ["diffusion", "decay", "uptake", "exchange", "secretion"];
        t.allow(&names, "[terms]")?;
        let mut sw = [true; 5];
        for (i, n) in names.iter().enumerate() {
            sw[i] = t.boolean(n)?.unwrap_or(true);
        }
        let terms = TermSwitches {
            diffusion: sw[0],
            decay: sw[1],
            uptake: sw[2],
            exchange: sw[3],
            secretion: sw[4],
        };

        // [readouts]
        let readouts = self.readouts(&root.table("readouts")?, &mut species_overrides, &name)?;

        // [[depot]]
        let mut depots = Vec::new();
        for (i, t) in root.tables("depot")?.unwrap_or_default().iter().enumerate() {
            let d = self.depot(t, i, &infarcts, is_box, duration_s)?;
            if let Some(other) = depots.iter().find(|o: &&DepotSpec| o.name == d.name) {
                return Err(t.err(
                    "name",
                    &format!("a unique depot name (`{}` is also {})", d.name, other.key),
                ));
            }
            depots.push(d);
        }

        // [view]
        let view = self.view(
            &root.table("view")?,
            &depots,
            !infarcts.is_empty(),
            &readouts,
        )?;

        Ok(Scenario {
            source: self.file.to_string(),
            name,
            description,
            grid_spacing_mm,
            geometry,
            infarcts,
            duration_s,
            output_interval_s,
            dt_s,
            species_overrides,
            tissue_overrides,
            depots,
            plasma,
            autocrine,
            terms,
            readouts,
            view,
        })
    }

    fn zeros(&self) -> Vec<(String, f64)> {
        self.species
            .species
            .iter()
            .map(|s| (s.id.clone(), 0.0))
            .collect()
    }

    fn non_negative(&self, t: &Tbl<'_>, k: &str, list: &[(String, f64)], unit: &str) -> Result<()> {
        if let Some((id, v)) = list.iter().find(|(_, v)| *v < 0.0) {
            let sub = t.table(k)?;
            return Err(sub.err(id, &format!("a value ≥ 0, got {}", shown(*v, unit))));
        }
        Ok(())
    }

    fn geometry(&self, g: &Tbl<'_>, base_dir: &Path) -> Result<(GeometrySpec, bool)> {
        let kinds = "default_heart, mesh, box";
        let kind = g
            .string("kind", &format!("a geometry kind: {kinds}"))?
            .unwrap_or("default_heart");
        let no_infarct = g.boolean("no_infarct")?.unwrap_or(false);
        let spec = match kind {
            "default_heart" => {
                g.allow(
                    &["kind", "no_infarct", "heart"],
                    "[geometry] with kind = \"default_heart\"",
                )?;
                let h = g.table("heart")?;
                h.allow(&HEART_FIELDS, "[geometry.heart]")?;
                let mut params = HeartParams::default();
                for f in HEART_FIELDS {
                    if let Some(v) = h.quantity(f, LENGTH)? {
                        h.ensure(
                            v >= 0.0,
                            f,
                            &format!("a length ≥ 0, got {}", shown(v, "mm")),
                        )?;
                        if let Some(slot) = heart_field(&mut params, f) {
                            *slot = v;
                        }
                    }
                }
                if let Err(e) = params.validate() {
                    let msg = e.to_string();
                    let msg = msg.strip_prefix("geometry: ").unwrap_or(&msg);
                    return Err(self.err(
                        h.span.clone(),
                        &h.path,
                        &format!("dimensions that make a heart ({msg})"),
                    ));
                }
                GeometrySpec::DefaultHeart { params }
            }
            "mesh" => {
                g.allow(
                    &[
                        "kind",
                        "no_infarct",
                        "path",
                        "base_point",
                        "base_normal",
                        "lv_point",
                        "anterior_insertion",
                    ],
                    "[geometry] with kind = \"mesh\"",
                )?;
                let expected =
                    "the path of a mesh file (.obj or .stl, mm), relative to the scenario file";
                let rel = g
                    .string("path", expected)?
                    .ok_or_else(|| g.err("path", expected))?;
                let path = base_dir.join(rel);
                let ext = path
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                g.ensure(
                    ext == "obj" || ext == "stl",
                    "path",
                    &format!("a .obj or .stl mesh file, got `{rel}`"),
                )?;
                g.ensure(
                    path.is_file(),
                    "path",
                    &format!("an existing mesh file; `{}` was not found", path.display()),
                )?;
                let hints = MeshHints {
                    base_point: g.point("base_point")?,
                    base_normal: g.point("base_normal")?,
                    lv_point: g.point("lv_point")?,
                    anterior_insertion: g.point("anterior_insertion")?,
                };
                match (hints.base_point.is_some(), hints.base_normal) {
                    (true, None) => {
                        return Err(g.err(
                            "base_point",
                            "base_point together with base_normal (the base plane needs both)",
                        ))
                    }
                    (false, Some(_)) => {
                        return Err(g.err(
                            "base_normal",
                            "base_normal together with base_point (the base plane needs both)",
                        ))
                    }
                    (_, Some(n)) => g.ensure(
                        n.iter().map(|c| c * c).sum::<f64>() > 0.0,
                        "base_normal",
                        "a non-zero normal",
                    )?,
                    _ => {}
                }
                GeometrySpec::Mesh { path, hints }
            }
            "box" => {
                g.allow(
                    &["kind", "no_infarct", "size", "blood_pool"],
                    "[geometry] with kind = \"box\"",
                )?;
                let size_mm = g.point("size")?.ok_or_else(|| {
                    g.err("size", "the box size [x, y, z] in mm, such as [20, 20, 20]")
                })?;
                g.ensure(
                    size_mm.iter().all(|&s| s > 0.0),
                    "size",
                    &format!("a box size with every side > 0 mm, got {size_mm:?}"),
                )?;
                let blood_pool = g.boolean("blood_pool")?.unwrap_or(false);
                GeometrySpec::Box {
                    size_mm,
                    blood_pool,
                }
            }
            other => {
                return Err(g.err(
                    "kind",
                    &format!("a geometry kind: {kinds}; got \"{other}\""),
                ))
            }
        };
        Ok((spec, no_infarct))
    }

    fn infarct(&self, t: &Tbl<'_>) -> Result<InfarctSpec> {
        t.allow(
            &["segments", "territory", "transmural", "border_zone"],
            "[[infarct]]",
        )?;
        let segments = match (t.segments("segments")?, self.territory(t, "territory")?) {
            (Some(_), Some(_)) => {
                return Err(t.err("territory", "either segments or territory, not both"))
            }
            (Some(s), None) => s,
            (None, Some(terr)) => terr.segments().to_vec(),
            (None, None) => {
                return Err(t.err(
                    "segments",
                    "segments = [..] (AHA 1–17) or territory = \"LAD\" | \"RCA\" | \"LCx\"",
                ))
            }
        };
        let transmural = t.fraction("transmural", true)?.unwrap_or(0.7);
        let border_zone_mm = t.quantity("border_zone", LENGTH)?.unwrap_or(4.0);
        t.ensure(
            border_zone_mm >= 0.0,
            "border_zone",
            &format!(
                "a border-zone width ≥ 0 mm, got {}",
                shown(border_zone_mm, "mm")
            ),
        )?;
        Ok(InfarctSpec {
            segments,
            transmural,
            border_zone_mm,
        })
    }

    fn territory(&self, t: &Tbl<'_>, k: &str) -> Result<Option<Territory>> {
        let expected = "a coronary territory: LAD, RCA, LCx";
        match t.string(k, expected)? {
            None => Ok(None),
            Some(s) => Territory::from_name(s)
                .map(Some)
                .ok_or_else(|| t.err(k, &format!("{expected}; got \"{s}\""))),
        }
    }

    fn species_overrides(&self, sp: &Tbl<'_>, scenario: &str) -> Result<Vec<SpeciesOverride>> {
        let mut out = Vec::new();
        let Some(map) = sp.map else {
            return Ok(out);
        };
        let params: Vec<&str> = SPECIES_PARAMETERS.iter().map(|p| p.name).collect();
        for (id, _) in map.iter() {
            let id: &str = id.get_ref();
            if self.species.index_of(id).is_none() {
                return Err(self.err(
                    sp.loc(id),
                    &sp.key(id),
                    &format!(
                        "[species.<id>] with an id of the species table: {} (`{id}` is unknown)",
                        self.ids()
                    ),
                ));
            }
            let t = sp.table(id)?;
            t.allow(
                &params,
                &format!("[species.{id}] (species table parameters)"),
            )?;
            for p in &SPECIES_PARAMETERS {
                let Some(v) = t.get(p.name) else { continue };
                let q = Q {
                    dim: p.dim,
                    unit: p.default_unit,
                    noun: p.noun,
                    example: p.example,
                };
                let (val, source) = self.sourced(&t, p.name, v, q)?;
                let ok = if p.positive { val > 0.0 } else { val >= 0.0 };
                let unit = p.dim.internal_unit();
                t.ensure(
                    ok,
                    p.name,
                    &format!(
                        "{}, got {val} {unit}",
                        if p.positive {
                            "a positive value"
                        } else {
                            "a value ≥ 0"
                        }
                    ),
                )?;
                out.push(SpeciesOverride {
                    species: id.to_string(),
                    parameter: p.name.to_string(),
                    value: val,
                    source: source.unwrap_or_else(|| format!("scenario {scenario}")),
                });
            }
        }
        Ok(out)
    }

    /// A parameter's value: a quantity, or `{ value = …, source = "…" }` as in the species
    /// table; the source if given.
    fn sourced(&self, t: &Tbl<'_>, k: &str, v: &Val<'_>, q: Q) -> Result<(f64, Option<String>)> {
        match v.get_ref() {
            DeValue::Table(inner) => {
                let it = Tbl {
                    doc: self,
                    path: t.key(k),
                    span: Some(v.span()),
                    map: Some(inner),
                };
                it.allow(&["value", "source"], "a parameter")?;
                let val = it
                    .quantity("value", q)?
                    .ok_or_else(|| it.err("value", "value = <quantity>"))?;
                let source = it.string("source", "a source string")?.map(str::to_string);
                Ok((val, source))
            }
            _ => Ok((read_quantity(self, v, &t.key(k), q)?, None)),
        }
    }

    fn tissue_overrides(&self, tt: &Tbl<'_>, scenario: &str) -> Result<Vec<TissueOverride>> {
        let mut out = Vec::new();
        let Some(map) = tt.map else {
            return Ok(out);
        };
        let names = "myocardium, border_zone, infarct, blood_lv, blood_rv";
        for (label, _) in map.iter() {
            let label: &str = label.get_ref();
            let known = crate::model::TissueLabel::from_name(label)
                .is_some_and(|l| l.kind() != crate::model::LabelKind::Outside);
            if !known {
                return Err(self.err(
                    tt.loc(label),
                    &tt.key(label),
                    &format!("[tissue.<label>] with a label of {names} (`{label}` is not one)"),
                ));
            }
            let t = tt.table(label)?;
            t.allow(
                &TISSUE_PROPERTIES,
                &format!("[tissue.{label}] (tissue properties)"),
            )?;
            for p in TISSUE_PROPERTIES {
                let Some(v) = t.get(p) else { continue };
                let q = if p == "volume_fraction" {
                    FRACTION
                } else {
                    NUMBER
                };
                let (val, source) = self.sourced(&t, p, v, q)?;
                if p == "volume_fraction" {
                    t.ensure(
                        val > 0.0 && val <= 1.0,
                        p,
                        &format!("an interstitial volume fraction 0 < ε ≤ 1, got {val}"),
                    )?;
                } else {
                    t.ensure(
                        val >= 0.0 && val.is_finite(),
                        p,
                        &format!("a multiplier ≥ 0, got {val}"),
                    )?;
                }
                out.push(TissueOverride {
                    label: label.to_string(),
                    property: p.to_string(),
                    value: val,
                    source: source.unwrap_or_else(|| format!("scenario {scenario}")),
                });
            }
        }
        Ok(out)
    }

    fn autocrine(&self, a: &Tbl<'_>) -> Result<AutocrineSpec> {
        a.allow(
            &[
                "enabled",
                "death_half_life",
                "k_death",
                "a_max",
                "k_auto",
                "hill",
                "weights",
            ],
            "[autocrine]",
        )?;
        let enabled = a.boolean("enabled")?.unwrap_or(true);
        let k_death_heart_per_s = a
            .rate_or_half_life("k_death", "death_half_life")?
            .unwrap_or(LN2 / (3.0 * DAY));
        let a_max = a.fraction("a_max", false)?.unwrap_or(0.5);
        let k_auto_ng_ml = a.quantity("k_auto", CONCENTRATION)?.unwrap_or(1.0);
        a.ensure(
            k_auto_ng_ml > 0.0,
            "k_auto",
            &format!(
                "a positive concentration, got {}",
                shown(k_auto_ng_ml, "ng/mL")
            ),
        )?;
        let hill = a.quantity("hill", NUMBER)?.unwrap_or(1.0);
        a.ensure(
            hill > 0.0 && hill <= 10.0,
            "hill",
            &format!("a Hill exponent 0 < n ≤ 10, got {hill}"),
        )?;
        let defaults = |id: &str| match id {
            "VEGF" | "HGF" => 0.5,
            _ => 0.0,
        };
        // Given weights replace the defaults: species left out weigh 0.
        let weights = a
            .per_species("weights", FRACTION, |_| 0.0)?
            .unwrap_or_else(|| {
                self.species
                    .species
                    .iter()
                    .map(|s| (s.id.clone(), defaults(&s.id)))
                    .collect()
            });
        self.non_negative(a, "weights", &weights, "")?;
        let sum: f64 = weights.iter().map(|w| w.1).sum();
        a.ensure(
            sum <= 1.0 + 1e-12,
            "weights",
            &format!("weights summing to at most 1, got {sum}"),
        )?;
        Ok(AutocrineSpec {
            enabled,
            k_death_heart_per_s,
            a_max,
            k_auto_ng_ml,
            hill,
            weights,
        })
    }

    /// `[readouts]`; an `ec50` given here is also recorded as an `ec50` species override, so
    /// that applying the overrides gives the table the same EC50s as the readouts.
    fn readouts(
        &self,
        r: &Tbl<'_>,
        overrides: &mut Vec<SpeciesOverride>,
        scenario: &str,
    ) -> Result<ReadoutSpec> {
        r.allow(&["ec50", "species", "exposure"], "[readouts]")?;
        let exposure = r.boolean("exposure")?.unwrap_or(true);
        let table_ec50 = |id: &str| {
            overrides
                .iter()
                .rev()
                .find(|o| o.species == id && o.parameter == "ec50")
                .map(|o| o.value)
                .or_else(|| {
                    self.species
                        .species
                        .iter()
                        .find(|s| s.id == id)
                        .map(|s| s.ec50.value)
                })
                .unwrap_or(1.0)
        };
        let mut extra = Vec::new();
        let ec50_ng_ml = match r.per_species("ec50", CONCENTRATION, table_ec50)? {
            Some(list) => {
                let given = r.table("ec50")?;
                for (id, v) in &list {
                    if !given.has(id) {
                        continue;
                    }
                    given.ensure(
                        *v > 0.0,
                        id,
                        &format!("a positive EC50, got {}", shown(*v, "ng/mL")),
                    )?;
                    if overrides
                        .iter()
                        .any(|o| &o.species == id && o.parameter == "ec50")
                    {
                        return Err(given.err(
                            id,
                            &format!("one EC50 for {id}: [species.{id}] ec50 already sets it"),
                        ));
                    }
                    extra.push(SpeciesOverride {
                        species: id.clone(),
                        parameter: "ec50".into(),
                        value: *v,
                        source: format!("scenario {scenario} [readouts]"),
                    });
                }
                list
            }
            None => self
                .species
                .species
                .iter()
                .map(|s| (s.id.clone(), table_ec50(&s.id)))
                .collect(),
        };
        let species = match r.get("species") {
            None => self.species.species.iter().map(|s| s.id.clone()).collect(),
            Some(v) => {
                let expected = format!("a list of species ids from: {}", self.ids());
                let DeValue::Array(items) = v.get_ref() else {
                    return Err(r.type_err("species", v, &expected));
                };
                r.ensure(
                    !items.is_empty(),
                    "species",
                    &format!("{expected} (at least one)"),
                )?;
                let mut out: Vec<String> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let key = format!("{}[{i}]", r.key("species"));
                    let DeValue::String(id) = item.get_ref() else {
                        return Err(self.err(
                            Some(item.span()),
                            &key,
                            &format!("{expected}, got {}", article(item.get_ref())),
                        ));
                    };
                    if self.species.index_of(id).is_none() {
                        return Err(self.err(
                            Some(item.span()),
                            &key,
                            &format!("{expected} (`{id}` is unknown)"),
                        ));
                    }
                    if out.iter().any(|o| o == id.as_ref()) {
                        return Err(self.err(
                            Some(item.span()),
                            &key,
                            &format!("each species once (`{id}` is listed twice)"),
                        ));
                    }
                    out.push(id.to_string());
                }
                out
            }
        };
        overrides.extend(extra);
        Ok(ReadoutSpec {
            ec50_ng_ml,
            species,
            exposure,
        })
    }

    fn site(&self, t: &Tbl<'_>, k: &str) -> Result<Option<Site>> {
        let Some(v) = t.get(k) else {
            return Ok(None);
        };
        let key = t.key(k);
        let expected = "a site: [x, y, z] in mm, { segment = 1–17, depth = 0–1 }, \"border_zone\" or \"remote\"";
        match v.get_ref() {
            DeValue::Array(_) => Ok(Some(Site::Point(read_point(self, v, &key)?))),
            DeValue::String(s) => match s.as_ref() {
                "border_zone" => Ok(Some(Site::BorderZone)),
                "remote" => Ok(Some(Site::Remote)),
                other => Err(t.err(k, &format!("{expected}; got \"{other}\""))),
            },
            DeValue::Table(inner) => {
                let st = Tbl {
                    doc: self,
                    path: key,
                    span: Some(v.span()),
                    map: Some(inner),
                };
                st.allow(&["segment", "depth"], "a segment site")?;
                let Some(sv) = st.get("segment") else {
                    return Err(st.err("segment", "segment = an AHA segment 1–17"));
                };
                let segment = read_segment(self, sv, &st.key("segment"))?;
                let depth = st.quantity("depth", FRACTION)?.unwrap_or(0.5);
                st.ensure(
                    (0.0..=1.0).contains(&depth),
                    "depth",
                    &format!(
                        "a transmural depth 0 (endocardium) ≤ d ≤ 1 (epicardium), got {depth}"
                    ),
                )?;
                Ok(Some(Site::Segment { segment, depth }))
            }
            other => Err(t.err(k, &format!("{expected}, got {}", article(other)))),
        }
    }

    /// Checks that a site exists in this geometry (the point itself is checked by the caller).
    fn check_site(
        &self,
        t: &Tbl<'_>,
        site: &Site,
        infarcts: &[InfarctSpec],
        is_box: bool,
    ) -> Result<()> {
        if is_box && !matches!(site, Site::Point(_)) {
            return Err(t.err(
                "site",
                "a point [x, y, z] in mm: a box geometry has no segments, border zone or remote myocardium",
            ));
        }
        if matches!(site, Site::BorderZone) && infarcts.is_empty() {
            return Err(t.err(
                "site",
                "a site that exists: with no infarct there is no border zone",
            ));
        }
        Ok(())
    }

    fn depot(
        &self,
        t: &Tbl<'_>,
        index: usize,
        infarcts: &[InfarctSpec],
        is_box: bool,
        duration_s: f64,
    ) -> Result<DepotSpec> {
        let routes = ROUTE_NAMES.join(", ");
        let route_name = t
            .string("route", &format!("a route: {routes}"))?
            .ok_or_else(|| t.err("route", &format!("route = one of {routes}")))?;
        if !ROUTE_NAMES.contains(&route_name) {
            return Err(t.err("route", &format!("a route: {routes}; got \"{route_name}\"")));
        }
        let mut keys: Vec<&str> = DEPOT_KEYS.to_vec();
        keys.extend_from_slice(route_keys(route_name));
        match route_name {
            "intravenous" => keys.retain(|k| *k != "retained"),
            "bolus" => keys.retain(|k| *k != "cells"),
            _ => {}
        }
        t.allow(&keys, &format!("[[depot]] with route = \"{route_name}\""))?;

        let name = match t.string("name", "a name string")? {
            Some(n) => {
                t.ensure(!n.trim().is_empty(), "name", "a non-empty name")?;
                n.to_string()
            }
            None => format!("depot {}", index + 1),
        };

        let cells = if route_name == "bolus" {
            0.0
        } else {
            let c = t.quantity("cells", CELLS)?.ok_or_else(|| {
                t.err("cells", "cells = the delivered cell count, such as \"2e7\"")
            })?;
            t.ensure(
                c > 0.0 && c <= 1e12,
                "cells",
                &format!(
                    "a positive cell count such as \"2e7\" (at most 1e12), got {}",
                    shown(c, "cells")
                ),
            )?;
            c
        };
        let shape = match t.string("shape", "a shape: sphere, gaussian")? {
            None | Some("sphere") => DepotShape::Sphere,
            Some("gaussian") => DepotShape::Gaussian,
            Some(other) => {
                return Err(t.err(
                    "shape",
                    &format!("a shape: sphere, gaussian; got \"{other}\""),
                ))
            }
        };
        let radius_mm = t.quantity("radius", LENGTH)?.unwrap_or(2.0);
        t.ensure(
            radius_mm > 0.0,
            "radius",
            &format!("a positive radius, got {}", shown(radius_mm, "mm")),
        )?;
        let start_s = t.quantity("start", HOURS)?.unwrap_or(0.0);
        t.ensure(
            start_s >= 0.0 && start_s < duration_s,
            "start",
            &format!(
                "a start time 0 ≤ t < the duration ({}), got {}",
                shown(duration_s, "s"),
                shown(start_s, "s")
            ),
        )?;
        let secretion_scale = t.quantity("secretion_scale", NUMBER)?.unwrap_or(1.0);
        t.ensure(
            secretion_scale >= 0.0,
            "secretion_scale",
            &format!("a factor ≥ 0, got {secretion_scale}"),
        )?;

        let mut site_key = "site";
        let (route, default_retained) = match route_name {
            "intramyocardial" => {
                let site = self.site(t, "site")?.unwrap_or(Site::BorderZone);
                self.check_site(t, &site, infarcts, is_box)?;
                let track_to = t.point("track_to")?;
                let n = t.integer("track_depots", "a number of depots 1–100")?;
                let track_depots = match (track_to, n) {
                    (None, None) => 1,
                    (Some(_), None) => 5,
                    (None, Some(n)) => {
                        t.ensure(
                            n == 1,
                            "track_depots",
                            "track_to = [x, y, z] as well (a track needs an end point), or track_depots = 1",
                        )?;
                        1
                    }
                    (Some(_), Some(n)) => {
                        t.ensure(
                            (2..=100).contains(&n),
                            "track_depots",
                            &format!("2–100 depots along the track, got {n}"),
                        )?;
                        n as u32
                    }
                };
                (
                    Route::Intramyocardial {
                        site,
                        track_to,
                        track_depots,
                    },
                    0.15,
                )
            }
            "transendocardial" => {
                site_key = "segments";
                if is_box {
                    return Err(t.err(
                        "route",
                        "a route that works on a box (intramyocardial or bolus at a point, intravenous, intramuscular, subcutaneous): transendocardial needs the LV endocardium",
                    ));
                }
                let injections = t
                    .integer("injections", "a number of injections 1–100")?
                    .unwrap_or(10);
                t.ensure(
                    (1..=100).contains(&injections),
                    "injections",
                    &format!("a number of injections 1–100, got {injections}"),
                )?;
                let segments = match t.segments("segments")? {
                    Some(s) => s,
                    None => {
                        let mut s: Vec<u8> = infarcts
                            .iter()
                            .flat_map(|i| i.segments.iter().copied())
                            .filter(|&s| s != 17)
                            .collect();
                        s.sort_unstable();
                        s.dedup();
                        if s.is_empty() {
                            vec![7, 8, 13, 14]
                        } else {
                            s
                        }
                    }
                };
                let depth_mm = t.quantity("depth", LENGTH)?.unwrap_or(3.0);
                t.ensure(
                    depth_mm > 0.0 && depth_mm <= 20.0,
                    "depth",
                    &format!(
                        "an injection depth 0 < d ≤ 20 mm, got {}",
                        shown(depth_mm, "mm")
                    ),
                )?;
                (
                    Route::Transendocardial {
                        injections: injections as u32,
                        segments,
                        depth_mm,
                    },
                    0.15,
                )
            }
            "intracoronary" => {
                site_key = "territory";
                if is_box {
                    return Err(t.err(
                        "route",
                        "a route that works on a box (intramyocardial or bolus at a point, intravenous, intramuscular, subcutaneous): intracoronary needs coronary territories",
                    ));
                }
                let territory = self.territory(t, "territory")?.unwrap_or(Territory::Lad);
                (Route::Intracoronary { territory }, 0.08)
            }
            "intravenous" => {
                site_key = "heart_fraction";
                let lung_fraction = t
                    .fraction("lung_fraction", false)?
                    .unwrap_or(crate::model::route::IV_LUNG_FRACTION);
                let heart_fraction = t
                    .fraction("heart_fraction", false)?
                    .unwrap_or(crate::model::route::IV_HEART_FRACTION);
                t.ensure(
                    lung_fraction + heart_fraction <= 1.0,
                    "heart_fraction",
                    &format!(
                        "lung_fraction + heart_fraction ≤ 1, got {lung_fraction} + {heart_fraction}"
                    ),
                )?;
                let lung_k_death_per_s = t
                    .rate_or_half_life("lung_k_death", "lung_death_half_life")?
                    .unwrap_or(LN2 / (24.0 * HOUR));
                let lung_k_abs_per_s = t
                    .rate_or_half_life("lung_k_abs", "lung_absorption_half_life")?
                    .unwrap_or(crate::model::route::K_ABS_LUNG);
                let lung_bioavailability = t
                    .fraction("lung_bioavailability", false)?
                    .unwrap_or(crate::model::route::F_LUNG);
                (
                    Route::Intravenous {
                        lung_fraction,
                        heart_fraction,
                        lung_k_death_per_s,
                        lung_k_abs_per_s,
                        lung_bioavailability,
                    },
                    heart_fraction,
                )
            }
            "intramuscular" | "subcutaneous" => {
                site_key = "route";
                let default_half_life = if route_name == "intramuscular" {
                    6.0
                } else {
                    3.0
                };
                let k_abs_per_s = t
                    .rate_or_half_life("k_abs", "absorption_half_life")?
                    .unwrap_or(LN2 / (default_half_life * HOUR));
                let bioavailability = t.fraction("bioavailability", false)?.unwrap_or(0.5);
                let route = if route_name == "intramuscular" {
                    Route::Intramuscular {
                        k_abs_per_s,
                        bioavailability,
                    }
                } else {
                    Route::Subcutaneous {
                        k_abs_per_s,
                        bioavailability,
                    }
                };
                (route, 1.0)
            }
            _ => {
                // bolus
                let into_plasma = t.boolean("into_plasma")?.unwrap_or(false);
                let site = if into_plasma {
                    if t.has("site") {
                        return Err(t.err(
                            "site",
                            "no site when into_plasma = true (the bolus goes into the blood)",
                        ));
                    }
                    site_key = "into_plasma";
                    None
                } else {
                    if is_box && !t.has("site") {
                        return Err(
                            t.err("site", "site = [x, y, z] in mm (a box has no border zone)")
                        );
                    }
                    let site = self.site(t, "site")?.unwrap_or(Site::BorderZone);
                    self.check_site(t, &site, infarcts, is_box)?;
                    Some(site)
                };
                let expected = "amounts of at least one species, such as amounts = { VEGF = \"50 ng\", HGF = \"500 ng\" }";
                let amounts_ng = t
                    .per_species("amounts", MASS, |_| 0.0)?
                    .ok_or_else(|| t.err("amounts", expected))?;
                self.non_negative(t, "amounts", &amounts_ng, "ng")?;
                t.ensure(amounts_ng.iter().any(|a| a.1 > 0.0), "amounts", expected)?;
                (
                    Route::Bolus {
                        site,
                        amounts_ng,
                        into_plasma,
                    },
                    1.0,
                )
            }
        };
        let retained = t.fraction("retained", false)?.unwrap_or(default_retained);
        Ok(DepotSpec {
            key: t.path.clone(),
            site_key: t.key(site_key),
            site_at: t.at(site_key),
            name,
            route,
            cells,
            retained,
            shape,
            radius_mm,
            start_s,
            secretion_scale,
        })
    }
}
