//! The species table: which growth factors are simulated and their parameters (MODEL.md §6).
//!
//! The table is data (`assets/species.toml`): each parameter is written as a quantity with its
//! unit and the source it comes from. Adding a `[[species]]` entry adds a field to the
//! simulation with no code change.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::base::units::{parse_quantity, Dimension, UnitError};
use crate::error::{InputError, SimError};

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
    /// Effective concentration for readouts, ng/mL (interstitial).
    pub ec50: Parameter,
    /// Receptor dissociation constant `K_d` of the occupancy readout `c/(c + K_d)`, ng/mL.
    pub kd: Parameter,
    /// Endogenous plasma level without cells, ng/mL: the reference of the plasma's fold over
    /// baseline (the simulated plasma is the cells' contribution on top of it).
    pub baseline_plasma: Parameter,
    /// Endogenous free interstitial level in the myocardium without cells, ng/mL: the
    /// reference of the tissue's fold over baseline.
    pub baseline_tissue: Parameter,
    /// Secretion fold change of lung-entrapped cells (intravenous route), dimensionless.
    pub lung_fold: Parameter,
    /// Secretion fold change of cells in skeletal muscle (intramuscular route).
    pub muscle_fold: Parameter,
    /// Secretion fold change of cells under the skin (subcutaneous route).
    pub skin_fold: Parameter,
}

impl Species {
    /// First-order tissue degradation rate `k`, 1/s.
    /// The decay length of the free factor in tissue with these label multipliers (diffusion,
    /// uptake, perfusion), mm: see [`decay_length_mm`].
    pub fn decay_length_mm(&self, m_d: f64, m_u: f64, m_p: f64) -> f64 {
        decay_length_mm(
            self.diffusion.value * m_d,
            self.decay_rate()
                + m_u * self.uptake_vmax.value / self.uptake_km.value
                + m_p * self.permeability.value,
        )
    }

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
            kd: Parameter::new(1.0, "test"),
            baseline_plasma: Parameter::new(0.0, "test"),
            baseline_tissue: Parameter::new(0.0, "test"),
            lung_fold: Parameter::new(1.0, "test"),
            muscle_fold: Parameter::new(1.0, "test"),
            skin_fold: Parameter::new(1.0, "test"),
        }
    }

    /// The receptor occupancy `c/(c + K_d)` at a free concentration `c` (ng/mL).
    pub fn occupancy(&self, c: f64) -> f64 {
        let c = c.max(0.0);
        c / (c + self.kd.value)
    }

    /// Plasma at `c` (the cells' contribution, ng/mL) as a fold over the endogenous baseline:
    /// `(baseline + c)/baseline`; NaN without a baseline.
    pub fn plasma_fold(&self, c: f64) -> f64 {
        fold_over(self.baseline_plasma.value, c)
    }

    /// Tissue at `c` (the cells' contribution, ng/mL) as a fold over the endogenous interstitial
    /// baseline; NaN without a baseline.
    pub fn tissue_fold(&self, c: f64) -> f64 {
        fold_over(self.baseline_tissue.value, c)
    }

    /// Every parameter with its name as in the table file, in file order.
    pub fn parameters(&self) -> [(&'static str, &Parameter); 15] {
        [
            ("diffusion", &self.diffusion),
            ("tissue_half_life", &self.tissue_half_life),
            ("uptake_vmax", &self.uptake_vmax),
            ("uptake_km", &self.uptake_km),
            ("permeability", &self.permeability),
            ("plasma_half_life", &self.plasma_half_life),
            ("secretion", &self.secretion),
            ("hypoxia_fold", &self.hypoxia_fold),
            ("ec50", &self.ec50),
            ("kd", &self.kd),
            ("baseline_plasma", &self.baseline_plasma),
            ("baseline_tissue", &self.baseline_tissue),
            ("lung_fold", &self.lung_fold),
            ("muscle_fold", &self.muscle_fold),
            ("skin_fold", &self.skin_fold),
        ]
    }
}

/// The distance over which a factor falls by e away from a steady source, mm: √(D / k_eff),
/// with D the diffusivity (mm²/s) and k_eff (1/s) the loss rate at low concentration
/// (degradation + uptake V/K + capillary exchange). The fields vary over this length, so a
/// voxel must be a fraction of it to resolve them.
pub fn decay_length_mm(diffusion: f64, k_eff: f64) -> f64 {
    if k_eff > 0.0 {
        (diffusion / k_eff).sqrt()
    } else {
        f64::INFINITY
    }
}

/// `(baseline + c)/baseline`, NaN when there is no baseline.
fn fold_over(baseline: f64, c: f64) -> f64 {
    if baseline > 0.0 {
        (baseline + c) / baseline
    } else {
        f64::NAN
    }
}

impl Species {
    /// Confidence code of a parameter's source: the letters before its first `:` (`H`, `A`,
    /// `V`, `M`, `U`, `A/M`, …), or "" when the source does not start with one.
    pub fn confidence(source: &str) -> &str {
        match source.split_once(':') {
            Some((code, _))
                if !code.is_empty()
                    && code.len() <= 5
                    && code.chars().all(|c| "HAVMU/".contains(c)) =>
            {
                code
            }
            _ => "",
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
    kd: Option<RawParam>,
    baseline_plasma: Option<RawParam>,
    baseline_tissue: Option<RawParam>,
    lung_fold: Option<RawParam>,
    muscle_fold: Option<RawParam>,
    skin_fold: Option<RawParam>,
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
                    toml::Value::String(s) => parse_quantity(s, dim, unit).map_err(|e| {
                        let why = match &e {
                            UnitError::WrongDimension { got, .. } => format!("wrong unit: {got}"),
                            UnitError::UnknownUnit { unit, .. } => format!("unknown unit '{unit}'"),
                            UnitError::NoNumber(_) => "not a number followed by a unit".into(),
                            UnitError::NotFinite(_) => "not finite".into(),
                        };
                        InputError::new(
                            file,
                            at,
                            &key(k),
                            &format!("a quantity such as \"1 {unit}\", got \"{s}\" ({why})"),
                        )
                    })?,
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
                    let given = match p.value.get_ref() {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let want = if positive {
                        "a positive value"
                    } else {
                        "a value ≥ 0"
                    };
                    return Err(InputError::new(
                        file,
                        at,
                        &key(k),
                        &format!("{want}, got {given}"),
                    ));
                }
                Ok(Parameter {
                    value: v,
                    source: p.source.clone(),
                })
            };
            // Optional parameters: a table written before they existed still loads.
            let opt = |p: &Option<RawParam>,
                       k: &str,
                       dim: Dimension,
                       unit: &str,
                       positive: bool,
                       default: Parameter| match p {
                Some(p) => q(p, k, dim, unit, positive),
                None => Ok(default),
            };
            let ec50 = q(&r.ec50, "ec50", Dimension::CONCENTRATION, "ng/mL", true)?;
            let kd = opt(
                &r.kd,
                "kd",
                Dimension::CONCENTRATION,
                "ng/mL",
                true,
                Parameter::new(ec50.value, "default: the EC50"),
            )?;
            let none = || Parameter::new(0.0, "default: no baseline");
            let one = || Parameter::new(1.0, "default: as in culture");
            let baseline_plasma = opt(
                &r.baseline_plasma,
                "baseline_plasma",
                Dimension::CONCENTRATION,
                "ng/mL",
                false,
                none(),
            )?;
            let baseline_tissue = opt(
                &r.baseline_tissue,
                "baseline_tissue",
                Dimension::CONCENTRATION,
                "ng/mL",
                false,
                none(),
            )?;
            let lung_fold = opt(
                &r.lung_fold,
                "lung_fold",
                Dimension::NONE,
                "1",
                false,
                one(),
            )?;
            let muscle_fold = opt(
                &r.muscle_fold,
                "muscle_fold",
                Dimension::NONE,
                "1",
                false,
                one(),
            )?;
            let skin_fold = opt(
                &r.skin_fold,
                "skin_fold",
                Dimension::NONE,
                "1",
                false,
                one(),
            )?;
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
                ec50,
                kd,
                baseline_plasma,
                baseline_tissue,
                lung_fold,
                muscle_fold,
                skin_fold,
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
