//! The species table: which growth factors are simulated and their parameters (MODEL.md §6).
//!
//! The table is data (`assets/species.toml`): each parameter is written as a quantity with its
//! unit and the source it comes from. Adding a `[[species]]` entry adds a field to the
//! simulation with no code change.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{InputError, SimError};
use crate::model::units::{parse_quantity, Dimension};

/// A parameter value in internal units with the source it was taken from.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    pub value: f64,
    pub source: String,
}

impl Parameter {
    pub fn new(value: f64, source: &str) -> Self {
        Parameter {
            value,
            source: source.to_string(),
        }
    }
}

/// One secreted factor and its transport and kinetics.
#[derive(Clone, Debug, PartialEq)]
pub struct Species {
    /// Short identifier used in files and arrays (`VEGF`).
    pub id: String,
    /// Human-readable name (`VEGF-A165`).
    pub name: String,
    /// Main effect in the review, for labels.
    pub effect: String,
    /// Molecular weight, kDa.
    pub mw_kda: f64,
    /// Diffusion coefficient in tissue, mm²/s.
    pub diffusion: Parameter,
    /// Tissue degradation half-life, s.
    pub tissue_half_life: Parameter,
    /// Receptor uptake maximum rate `V`, ng/mL/s.
    pub uptake_vmax: Parameter,
    /// Receptor uptake half-saturation `K`, ng/mL.
    pub uptake_km: Parameter,
    /// Capillary exchange rate `P`, 1/s.
    pub permeability: Parameter,
    /// Plasma half-life, s.
    pub plasma_half_life: Parameter,
    /// MSC secretion rate, ng per cell per s.
    pub secretion: Parameter,
    /// Secretion fold change in hypoxic / inflamed tissue (border zone, infarct), dimensionless.
    pub hypoxia_fold: Parameter,
    /// Effective concentration for readouts, ng/mL.
    pub ec50: Parameter,
}

impl Species {
    /// First-order tissue degradation rate `k`, 1/s.
    pub fn decay_rate(&self) -> f64 {
        std::f64::consts::LN_2 / self.tissue_half_life.value
    }

    /// Plasma clearance rate constant, 1/s.
    pub fn plasma_clearance_rate(&self) -> f64 {
        std::f64::consts::LN_2 / self.plasma_half_life.value
    }

    /// A species with only diffusion and first-order decay: for verification problems.
    pub fn simple(id: &str, diffusion_mm2_s: f64, decay_per_s: f64) -> Self {
        let half_life = if decay_per_s > 0.0 {
            std::f64::consts::LN_2 / decay_per_s
        } else {
            f64::INFINITY
        };
        Species {
            id: id.to_string(),
            name: id.to_string(),
            effect: String::new(),
            mw_kda: 0.0,
            diffusion: Parameter::new(diffusion_mm2_s, "test"),
            tissue_half_life: Parameter::new(half_life, "test"),
            uptake_vmax: Parameter::new(0.0, "test"),
            uptake_km: Parameter::new(1.0, "test"),
            permeability: Parameter::new(0.0, "test"),
            plasma_half_life: Parameter::new(f64::INFINITY, "test"),
            secretion: Parameter::new(0.0, "test"),
            hypoxia_fold: Parameter::new(1.0, "test"),
            ec50: Parameter::new(1.0, "test"),
        }
    }
}

/// All simulated species, in field order.
#[derive(Clone, Debug, PartialEq)]
pub struct SpeciesTable {
    pub species: Vec<Species>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    species: Vec<RawSpecies>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    value: Spanned<toml::Value>,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpecies {
    id: String,
    name: String,
    #[serde(default)]
    effect: String,
    mw_kda: f64,
    diffusion: RawParam,
    tissue_half_life: RawParam,
    uptake_vmax: RawParam,
    uptake_km: RawParam,
    permeability: RawParam,
    plasma_half_life: RawParam,
    secretion: RawParam,
    hypoxia_fold: RawParam,
    ec50: RawParam,
}

/// The species table shipped with the program (`assets/species.toml`).
pub const DEFAULT_SPECIES_TOML: &str = include_str!("../../assets/species.toml");

impl SpeciesTable {
    /// The default table of MODEL.md §6.
    pub fn default_table() -> Result<Self, SimError> {
        Self::parse(DEFAULT_SPECIES_TOML, "assets/species.toml")
    }

    /// Reads a species table file.
    pub fn load(path: &Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses a species table; `file` names it in error messages.
    pub fn parse(text: &str, file: &str) -> Result<Self, SimError> {
        let raw: RawTable =
            toml::from_str(text).map_err(|e| InputError::from_toml(file, text, &e))?;
        if raw.species.is_empty() {
            return Err(
                InputError::new(file, None, "species", "at least one [[species]] entry").into(),
            );
        }
        let mut species = Vec::new();
        for (i, r) in raw.species.into_iter().enumerate() {
            let key = |k: &str| format!("species[{i}].{k}");
            let q = |p: &RawParam, k: &str, dim: Dimension, unit: &str, positive: bool| {
                let at = Some(InputError::line_col(text, p.value.span().start));
                let v = match p.value.get_ref() {
                    toml::Value::String(s) => parse_quantity(s, dim, unit)
                        .map_err(|e| InputError::new(file, at, &key(k), &e.to_string()))?,
                    toml::Value::Float(f) => *f * parse_quantity("1", dim, unit).unwrap_or(1.0),
                    toml::Value::Integer(n) => {
                        *n as f64 * parse_quantity("1", dim, unit).unwrap_or(1.0)
                    }
                    _ => {
                        return Err(InputError::new(
                            file,
                            at,
                            &key(k),
                            &format!("a quantity such as \"1 {unit}\""),
                        ))
                    }
                };
                if v < 0.0 || (positive && v == 0.0) {
                    return Err(InputError::new(
                        file,
                        at,
                        &key(k),
                        if positive {
                            "a positive value"
                        } else {
                            "a value ≥ 0"
                        },
                    ));
                }
                Ok(Parameter {
                    value: v,
                    source: p.source.clone(),
                })
            };
            let s = Species {
                diffusion: q(
                    &r.diffusion,
                    "diffusion",
                    Dimension::DIFFUSIVITY,
                    "mm^2/s",
                    true,
                )?,
                tissue_half_life: q(
                    &r.tissue_half_life,
                    "tissue_half_life",
                    Dimension::TIME,
                    "min",
                    true,
                )?,
                uptake_vmax: q(
                    &r.uptake_vmax,
                    "uptake_vmax",
                    Dimension::CONCENTRATION_RATE,
                    "ng/mL/s",
                    false,
                )?,
                uptake_km: q(
                    &r.uptake_km,
                    "uptake_km",
                    Dimension::CONCENTRATION,
                    "ng/mL",
                    true,
                )?,
                permeability: q(
                    &r.permeability,
                    "permeability",
                    Dimension::RATE,
                    "1/s",
                    false,
                )?,
                plasma_half_life: q(
                    &r.plasma_half_life,
                    "plasma_half_life",
                    Dimension::TIME,
                    "min",
                    true,
                )?,
                secretion: q(
                    &r.secretion,
                    "secretion",
                    Dimension::SECRETION,
                    "ng/1e6 cells/day",
                    false,
                )?,
                hypoxia_fold: q(&r.hypoxia_fold, "hypoxia_fold", Dimension::NONE, "1", true)?,
                ec50: q(&r.ec50, "ec50", Dimension::CONCENTRATION, "ng/mL", true)?,
                id: r.id,
                name: r.name,
                effect: r.effect,
                mw_kda: r.mw_kda,
            };
            if s.id.is_empty() || !s.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(InputError::new(
                    file,
                    None,
                    &key("id"),
                    "a non-empty identifier of letters, digits and _",
                )
                .into());
            }
            if species.iter().any(|o: &Species| o.id == s.id) {
                return Err(InputError::new(
                    file,
                    None,
                    &key("id"),
                    &format!("a unique id ('{}' appears twice)", s.id),
                )
                .into());
            }
            species.push(s);
        }
        Ok(SpeciesTable { species })
    }

    pub fn len(&self) -> usize {
        self.species.len()
    }

    pub fn is_empty(&self) -> bool {
        self.species.is_empty()
    }

    /// Index of the species with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.species.iter().position(|s| s.id == id)
    }
}
