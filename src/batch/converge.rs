//! Convergence in the voxel size (`secretome converge`): the headline readouts of a scenario
//! run at successively finer voxels, the change between the two finest, and a Richardson
//! estimate of the value at zero voxel size.
//!
//! Each level is an ordinary run (its own directory, checkpoint and `summary.json`); this module
//! reads their final readouts and compares them. A level is either the whole grid at one voxel
//! size (`--spacings`), or the scenario's grid refined around its depots down to one finest
//! voxel edge (`--finest`, `[grid] finest`: issue 17).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{io_err, scenario_hash, CHECKPOINT, MARKER};
use crate::base::species::decay_length_mm;
use crate::base::TissueLabel;
use crate::error::{Result, SimError};
use crate::scenario::Scenario;

/// The headline readouts compared across levels: per tissue region and species.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Largest concentration in the region at the end, ng per mL of interstitial fluid.
    Max,
    /// Mean exposure ∫c dt over the region, ng·h/mL.
    Auc,
    /// Fraction of the region's voxels above the species' EC50 at the end.
    FractionAbove,
    /// Mean receptor occupancy c/(c + K_d) over the region at the end.
    Occupancy,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Max, Kind::Auc, Kind::FractionAbove, Kind::Occupancy];

    /// The readout's name in `stats.csv` and `summary.json` (after `region:species:`).
    pub fn column(self) -> &'static str {
        match self {
            Kind::Max => "max",
            Kind::Auc => "auc",
            Kind::FractionAbove => "fraction_above_ec50",
            Kind::Occupancy => "occupancy",
        }
    }

    /// Below this magnitude a change is measured against the floor, not the value: a readout
    /// near zero (no voxel above EC50, a region the factor barely reaches) has no meaningful
    /// relative change. Concentrations: 0.1 % of the species' EC50; exposure: that for the
    /// whole run; fractions and occupancies: 0.01 (1 % of the region).
    pub fn floor(self, ec50_ng_ml: f64, hours: f64) -> f64 {
        match self {
            Kind::Max => 1e-3 * ec50_ng_ml,
            Kind::Auc => 1e-3 * ec50_ng_ml * hours,
            Kind::FractionAbove | Kind::Occupancy => 1e-2,
        }
    }
}

/// The tissue regions whose readouts are headlines, in print order.
pub const REGIONS: [TissueLabel; 3] = [
    TissueLabel::Infarct,
    TissueLabel::BorderZone,
    TissueLabel::Myocardium,
];

/// One level: a voxel size and the run's final readouts.
#[derive(Clone, Debug)]
pub struct Level {
    /// The finest voxel edge, mm: the grid's spacing, or the finest level's edge when refined.
    pub spacing_mm: f64,
    /// `summary.json`'s `final_readouts`.
    pub readouts: BTreeMap<String, f64>,
    /// Wall time of the run's stepping, s.
    pub wall_s: f64,
    /// `summary.json`'s parameters in effect, key → value (internal units), in its order.
    pub parameters: Vec<(String, f64)>,
}

impl Level {
    fn parameter(&self, key: &str) -> Option<f64> {
        self.parameters.iter().find(|p| p.0 == key).map(|p| p.1)
    }

    /// The species of the run, in the table's order, with their EC50s (ng/mL).
    pub fn ec50s(&self) -> Vec<(String, f64)> {
        self.parameters
            .iter()
            .filter_map(|(key, v)| {
                let id = key.strip_prefix("species.")?.strip_suffix(".ec50")?;
                Some((id.to_string(), *v))
            })
            .collect()
    }

    /// Each species' decay length (mm) in each of [`REGIONS`]' tissues, from the parameters
    /// in effect (`Species::decay_length_mm`).
    pub fn decay_lengths(&self) -> Vec<(String, [f64; 3])> {
        self.ec50s()
            .into_iter()
            .map(|(id, _)| {
                let sp = |name: &str| {
                    self.parameter(&format!("species.{id}.{name}"))
                        .unwrap_or(f64::NAN)
                };
                let lengths = REGIONS.map(|l| {
                    let m = |name: &str| {
                        self.parameter(&format!("tissue.{}.{name}", l.name()))
                            .unwrap_or(1.0)
                    };
                    let k_eff = std::f64::consts::LN_2 / sp("tissue_half_life")
                        + m("uptake") * sp("uptake_vmax") / sp("uptake_km")
                        + m("perfusion") * sp("permeability");
                    decay_length_mm(sp("diffusion") * m("diffusion"), k_eff)
                });
                (id, lengths)
            })
            .collect()
    }
}

/// Where a level's run stands in its directory.
#[derive(Debug)]
pub enum LevelState {
    /// Finished for this very scenario.
    Finished(Level),
    /// Stopped with a checkpoint of this scenario: `--resume` continues it.
    Stopped,
    /// Nothing of this scenario there.
    Absent,
}

/// The directory of the level at `spacing_mm` under `out`: `out/1mm`, `out/0.5mm`.
pub fn level_dir(out: &Path, spacing_mm: f64) -> PathBuf {
    out.join(format!("{spacing_mm}mm"))
}

/// The scenario of one level: `sc` at `spacing_mm`, writing fields only at the end.
pub fn level_scenario(sc: &Scenario, spacing_mm: f64) -> Scenario {
    let mut level = sc.clone();
    level.grid_spacing_mm = spacing_mm;
    level.output_interval_s = level.duration_s;
    level
}

/// The directory of the level refined down to `finest_mm` under `out`: `out/finest_0.25mm`.
pub fn finest_dir(out: &Path, finest_mm: f64) -> PathBuf {
    out.join(format!("finest_{finest_mm}mm"))
}

/// The scenario of one level refined down to `finest_mm` (`[grid] finest`; at or above the
/// spacing, not refined), writing fields only at the end.
pub fn finest_scenario(sc: &Scenario, finest_mm: f64) -> Scenario {
    let mut level = level_scenario(sc, sc.grid_spacing_mm);
    level.grid_finest_mm = Some(finest_mm.min(sc.grid_spacing_mm));
    level
}

/// The default finest edges of `converge` on a scenario refined down to `finest_mm` at
/// `spacing_mm`: that edge and the two coarser ones (doubling; the unrefined grid at most),
/// coarsest first.
pub fn default_finest(spacing_mm: f64, finest_mm: f64) -> Vec<f64> {
    let mut out = vec![finest_mm.min(spacing_mm)];
    while out.len() < 3 && out[0] * 2.0 <= spacing_mm * (1.0 + 1e-9) {
        out.insert(0, out[0] * 2.0);
    }
    out
}

/// What `dir` holds of the run of `sc` (a [`level_scenario`] or [`finest_scenario`]).
pub fn level_state(dir: &Path, sc: &Scenario) -> Result<LevelState> {
    let marker = dir.join(MARKER);
    let Ok(text) = std::fs::read_to_string(&marker) else {
        return Ok(LevelState::Absent);
    };
    let held: serde_json::Value = serde_json::from_str(&text).map_err(|e| io_err(&marker, e))?;
    if held["scenario_hash"].as_str() != Some(scenario_hash(sc)?.as_str()) {
        return Ok(LevelState::Absent);
    }
    let path = dir.join("summary.json");
    if !path.is_file() {
        return Ok(if dir.join(CHECKPOINT).is_file() {
            LevelState::Stopped
        } else {
            LevelState::Absent
        });
    }
    let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| io_err(&path, e))?;
    let bad = |what: &str| SimError::Run(format!("{}: {what}", path.display()));
    let readouts: BTreeMap<String, f64> = json["final_readouts"]
        .as_object()
        .ok_or_else(|| bad("no final_readouts"))?
        .iter()
        // NaN and infinities are written as null.
        .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(f64::NAN)))
        .collect();
    let parameters: Vec<(String, f64)> = json["parameters"]
        .as_array()
        .ok_or_else(|| bad("no parameters"))?
        .iter()
        .filter_map(|p| Some((p["key"].as_str()?.to_string(), p["value"].as_f64()?)))
        .collect();
    let level = Level {
        spacing_mm: sc
            .grid_finest_mm
            .map_or(sc.grid_spacing_mm, |f| f.min(sc.grid_spacing_mm)),
        readouts,
        wall_s: json["wall_s"].as_f64().unwrap_or(f64::NAN),
        parameters,
    };
    Ok(LevelState::Finished(level))
}

/// `converge.csv`: a row per headline readout, its value per level, the change between the
/// two finest and Richardson's estimate and order (empty where there is none).
pub fn write_csv(path: &Path, levels: &[Level], rows: &[Row]) -> Result<()> {
    use std::io::Write as _;
    crate::base::atomic::write_atomic(path, |w| {
        let mut header = vec!["readout".to_string()];
        header.extend(levels.iter().map(|l| format!("{}mm", l.spacing_mm)));
        header.extend(["change".into(), "richardson".into(), "order".into()]);
        writeln!(w, "{}", header.join(","))?;
        for r in rows {
            let mut line = vec![r.key.clone()];
            line.extend(r.values.iter().map(|v| format!("{v:e}")));
            line.push(format!("{:e}", r.change));
            match r.richardson {
                Some((a, p)) => line.extend([format!("{a:e}"), format!("{p}")]),
                None => line.extend([String::new(), String::new()]),
            }
            writeln!(w, "{}", line.join(","))?;
        }
        Ok(())
    })
}

/// One headline readout across the levels.
#[derive(Clone, Debug)]
pub struct Row {
    /// `region:species:readout`.
    pub key: String,
    pub kind: Kind,
    /// Per level, coarsest first.
    pub values: Vec<f64>,
    /// |finest − next| / max(|finest|, |next|, floor).
    pub change: f64,
    /// Richardson's estimate at zero voxel size and the observed order, from the three finest
    /// levels, where they converge monotonically.
    pub richardson: Option<(f64, f64)>,
}

/// |a − b| relative to the larger magnitude, or to `floor` when both are smaller.
pub fn relative_change(a: f64, b: f64, floor: f64) -> f64 {
    let scale = a.abs().max(b.abs()).max(floor);
    if scale > 0.0 {
        (a - b).abs() / scale
    } else {
        0.0
    }
}

/// Richardson extrapolation from three levels (h coarsest first): fits a(h) = a* + C hᵖ and
/// returns (a*, p). None where the differences change sign (no monotone convergence), where
/// they do not shrink as a positive power of h would (no convergence: p outside 0.001–12), or
/// where the values are equal.
pub fn richardson(h: [f64; 3], a: [f64; 3]) -> Option<(f64, f64)> {
    let (d0, d1) = (a[0] - a[1], a[1] - a[2]);
    if d0 == 0.0 || d1 == 0.0 || d0.signum() != d1.signum() {
        return None;
    }
    let target = d0 / d1;
    // (h0ᵖ − h1ᵖ) / (h1ᵖ − h2ᵖ) grows with p for h0 > h1 > h2: bisect.
    let ratio = |p: f64| (h[0].powf(p) - h[1].powf(p)) / (h[1].powf(p) - h[2].powf(p));
    let (mut lo, mut hi) = (1e-3, 12.0);
    if !(ratio(lo) < target && ratio(hi) > target) {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if ratio(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let p = 0.5 * (lo + hi);
    let c = d1 / (h[1].powf(p) - h[2].powf(p));
    Some((a[2] - c * h[2].powf(p), p))
}

/// The headline rows of `levels` (coarsest first; at least two), for the species with these
/// EC50s (ng/mL) over a run of `hours`. Readouts missing from a level (a region the grid does
/// not have) are left out.
pub fn table(levels: &[Level], species: &[(String, f64)], hours: f64) -> Vec<Row> {
    let mut rows = Vec::new();
    let n = levels.len();
    if n < 2 {
        return rows;
    }
    for region in REGIONS {
        for (id, ec50) in species {
            for kind in Kind::ALL {
                let key = format!("{}:{id}:{}", region.name(), kind.column());
                let values: Option<Vec<f64>> = levels
                    .iter()
                    .map(|l| l.readouts.get(&key).copied())
                    .collect();
                let Some(values) = values else {
                    continue;
                };
                let change =
                    relative_change(values[n - 1], values[n - 2], kind.floor(*ec50, hours));
                let richardson = (n >= 3)
                    .then(|| {
                        let h = [
                            levels[n - 3].spacing_mm,
                            levels[n - 2].spacing_mm,
                            levels[n - 1].spacing_mm,
                        ];
                        richardson(h, [values[n - 3], values[n - 2], values[n - 1]])
                    })
                    .flatten();
                rows.push(Row {
                    key,
                    kind,
                    values,
                    change,
                    richardson,
                });
            }
        }
    }
    rows
}

/// The default levels for a scenario at `spacing_mm`: twice as coarse, itself, half.
pub fn default_spacings(spacing_mm: f64) -> Vec<f64> {
    vec![2.0 * spacing_mm, spacing_mm, 0.5 * spacing_mm]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_finest_edges_halve_down_to_the_scenarios() {
        assert_eq!(default_finest(1.0, 0.125), vec![0.5, 0.25, 0.125]);
        assert_eq!(default_finest(1.0, 0.25), vec![1.0, 0.5, 0.25]);
        assert_eq!(default_finest(1.0, 0.5), vec![1.0, 0.5]);
    }

    #[test]
    fn richardson_recovers_the_limit_and_order_of_a_power_law() {
        // a(h) = 3 − 0.7 h², halving h.
        let a = |h: f64| 3.0 - 0.7 * h * h;
        let (lim, p) = richardson([2.0, 1.0, 0.5], [a(2.0), a(1.0), a(0.5)]).unwrap();
        assert!((lim - 3.0).abs() < 1e-9, "{lim}");
        assert!((p - 2.0).abs() < 1e-6, "{p}");
        // Unequal ratios, first order.
        let b = |h: f64| 1.0 + 0.25 * h;
        let (lim, p) = richardson([4.0, 3.0, 1.0], [b(4.0), b(3.0), b(1.0)]).unwrap();
        assert!(
            (lim - 1.0).abs() < 1e-9 && (p - 1.0).abs() < 1e-6,
            "{lim} {p}"
        );
    }

    #[test]
    fn richardson_declines_what_does_not_converge_monotonically() {
        assert_eq!(richardson([2.0, 1.0, 0.5], [1.0, 2.0, 1.5]), None);
        assert_eq!(richardson([2.0, 1.0, 0.5], [1.0, 1.1, 1.3]), None);
        assert_eq!(richardson([2.0, 1.0, 0.5], [1.0, 1.0, 1.0]), None);
    }

    #[test]
    fn changes_are_relative_above_the_floor_and_absolute_below() {
        assert!((relative_change(1.03, 1.0, 0.01) - 0.03 / 1.03).abs() < 1e-12);
        // Both below the floor: the change is measured against the floor.
        assert!((relative_change(0.002, 0.001, 0.01) - 0.1).abs() < 1e-12);
        assert_eq!(relative_change(0.0, 0.0, 0.0), 0.0);
    }

    #[test]
    fn decay_lengths_come_from_the_parameters_in_effect() {
        let table = crate::base::SpeciesTable::default_table().unwrap();
        let mut parameters = Vec::new();
        for sp in &table.species {
            for (name, p) in sp.parameters() {
                parameters.push((format!("species.{}.{name}", sp.id), p.value));
            }
        }
        // The border zone with half the uptake and perfusion of myocardium.
        parameters.push(("tissue.border_zone.uptake".into(), 0.5));
        parameters.push(("tissue.border_zone.perfusion".into(), 0.5));
        let level = Level {
            spacing_mm: 1.0,
            readouts: BTreeMap::new(),
            wall_s: 0.0,
            parameters,
        };
        let lengths = level.decay_lengths();
        assert_eq!(lengths.len(), table.species.len());
        for (sp, (id, l)) in table.species.iter().zip(&lengths) {
            assert_eq!(&sp.id, id);
            assert_eq!(l[2], sp.decay_length_mm(1.0, 1.0, 1.0));
            assert_eq!(l[1], sp.decay_length_mm(1.0, 0.5, 0.5));
            assert!(l[1] > l[2]);
        }
        // VEGF's receptors hold it within about 20 µm of its source in myocardium (issue 17).
        let vegf = &lengths.iter().find(|l| l.0 == "VEGF").unwrap().1;
        assert!((0.015..0.025).contains(&vegf[2]), "{}", vegf[2]);
    }

    #[test]
    fn the_table_compares_the_two_finest_levels() {
        let level = |h: f64, max: f64| Level {
            spacing_mm: h,
            readouts: BTreeMap::from([
                ("border_zone:HGF:max".to_string(), max),
                ("border_zone:HGF:auc".to_string(), 1.0),
            ]),
            wall_s: 1.0,
            parameters: Vec::new(),
        };
        let levels = [level(2.0, 4.0), level(1.0, 8.0), level(0.5, 9.0)];
        let rows = table(&levels, &[("HGF".to_string(), 10.0)], 3.0);
        // Only the readouts every level has.
        assert_eq!(rows.len(), 2);
        let max = rows.iter().find(|r| r.kind == Kind::Max).unwrap();
        assert_eq!(max.values, vec![4.0, 8.0, 9.0]);
        assert!((max.change - 1.0 / 9.0).abs() < 1e-12);
        let (lim, p) = max.richardson.unwrap();
        assert!((p - 2.0).abs() < 1e-6 && (lim - 9.0 - 1.0 / 3.0).abs() < 1e-9);
        let auc = rows.iter().find(|r| r.kind == Kind::Auc).unwrap();
        assert_eq!((auc.change, auc.richardson), (0.0, None));
    }
}
