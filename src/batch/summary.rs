//! `summary.json` (final readouts, the ledger, every parameter with its source) and the columns
//! of `stats.csv` with their units.

use super::*;

/// What `summary.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub program: String,
    pub version: String,
    pub scenario_hash: String,
    /// The scenario as resolved: internal units (mm, s, ng, mL, cells), every default filled.
    pub scenario: Scenario,
    pub adapter: String,
    /// Wall time of the stepping, s (this process only when resumed).
    pub wall_s: f64,
    pub steps: u64,
    pub time_s: f64,
    pub outputs: usize,
    /// The last row of `stats.csv`: column → value (units in `stats_units.csv`).
    pub final_readouts: BTreeMap<String, f64>,
    /// Whole-body mass ledger per species, ng.
    pub ledger: Vec<LedgerSummary>,
    /// Largest |closure| of the species' ledgers (relative to the largest amount involved).
    pub ledger_closure_error: f64,
    /// Every model parameter in effect, with its value and where it comes from: the species
    /// table's sources, or the scenario's own for what it overrides.
    pub parameters: Vec<ParameterRecord>,
}

/// One parameter of the run (internal units: mm, s, ng, mL, cells).
#[derive(Clone, Debug, Serialize)]
pub struct ParameterRecord {
    /// `species.<id>.<name>` or `tissue.<label>.<name>`.
    pub key: String,
    pub value: f64,
    pub source: String,
    /// Confidence code: H human, A animal, V in vitro, M model/estimate, U used in the
    /// literature ("" when the source gives none).
    pub confidence: String,
    /// Whether the scenario set it (its source is then the scenario's).
    pub from_scenario: bool,
}

/// The parameters of a built problem with their sources (see [`ParameterRecord`]).
pub fn parameter_records(sc: &Scenario, p: &crate::problem::Problem) -> Vec<ParameterRecord> {
    let mut out = Vec::new();
    for s in &p.species.species {
        for (name, par) in s.parameters() {
            let from_scenario = sc
                .species_overrides
                .iter()
                .any(|o| o.species == s.id && o.parameter == name);
            out.push(ParameterRecord {
                key: format!("species.{}.{name}", s.id),
                value: par.value,
                confidence: crate::base::Species::confidence(&par.source).to_string(),
                source: par.source.clone(),
                from_scenario,
            });
        }
    }
    for l in crate::base::TissueLabel::ALL {
        let Some((multipliers, eps)) = crate::base::tissue::default_sources(l) else {
            continue;
        };
        let e = p.labels.get(l);
        for (name, value, default) in [
            ("diffusion", e.diffusion, multipliers),
            ("uptake", e.uptake, multipliers),
            ("perfusion", e.perfusion, multipliers),
            ("volume_fraction", e.volume_fraction, eps),
        ] {
            let own = sc
                .tissue_overrides
                .iter()
                .rev()
                .find(|o| o.label == l.name() && o.property == name);
            let source = own.map_or(default.to_string(), |o| o.source.clone());
            out.push(ParameterRecord {
                key: format!("tissue.{}.{name}", l.name()),
                value,
                confidence: crate::base::Species::confidence(&source).to_string(),
                source,
                from_scenario: own.is_some(),
            });
        }
    }
    out
}

/// One species' whole-body ledger at the end, ng.
#[derive(Clone, Debug, Serialize)]
pub struct LedgerSummary {
    pub species: String,
    pub initial: f64,
    pub secreted_heart: f64,
    pub secreted_remote: f64,
    pub degraded: f64,
    pub taken_up: f64,
    pub heart_to_plasma: f64,
    pub cleared_from_plasma: f64,
    pub lost_at_remote_sites: f64,
    pub in_tissue: f64,
    pub in_plasma: f64,
    pub at_remote_sites: f64,
    pub closure_error: f64,
}

/// The columns of stats.csv with their units and meaning, for a run.
pub(super) struct Columns {
    pub(super) names: Vec<(String, &'static str, String)>,
}

impl Columns {
    fn push(&mut self, name: String, unit: &'static str, meaning: String) {
        self.names.push((name, unit, meaning));
    }
}

/// The columns of stats.csv for a built scenario: time; plasma per species; cells per depot;
/// per region and species mean, max, AUC, time above EC50, fraction above EC50; the ledger per
/// species.
pub(super) fn columns(built: &Built, species: &[String]) -> Columns {
    let p = &built.problem;
    let mut c = Columns { names: Vec::new() };
    c.push("time_h".into(), "h", "simulated time".into());
    for id in species {
        c.push(
            format!("plasma_{id}"),
            "ng/mL",
            format!("plasma concentration of {id} from the cells (over the endogenous baseline)"),
        );
    }
    for id in species {
        c.push(
            format!("plasma_{id}:fold_over_baseline"),
            "1",
            format!("(baseline + plasma {id}) / baseline, the cells' contribution as a fold over the endogenous plasma level (NaN without a baseline)"),
        );
    }
    for d in p.depots.iter().filter(|d| !d.cell_free) {
        c.push(
            format!("cells:{}", d.name),
            "cells",
            format!("live cells of depot '{}' in the heart", d.name),
        );
    }
    for r in &p.compartment.remote {
        if !r.secretion.is_empty() && r.k_death > 0.0 {
            c.push(
                format!("cells:{}", r.name),
                "cells",
                format!("live cells of remote depot '{}'", r.name),
            );
        }
    }
    for (region, _) in crate::sim::readouts::regions_of(p) {
        let rn = region.name();
        for id in species {
            c.push(
                format!("{rn}:{id}:mean"),
                "ng/mL",
                format!("mean free {id} over {rn}, per mL of interstitial fluid (blood: plasma)"),
            );
            c.push(
                format!("{rn}:{id}:max"),
                "ng/mL",
                format!("largest free {id} in {rn}, per mL of interstitial fluid (blood: plasma)"),
            );
            c.push(
                format!("{rn}:{id}:auc"),
                "ng·h/mL",
                format!("mean exposure ∫c dt of {id} over {rn}, c per mL of interstitial fluid"),
            );
            c.push(
                format!("{rn}:{id}:time_above_ec50"),
                "h",
                format!("mean time {id} spent above its EC50 in {rn}"),
            );
            c.push(
                format!("{rn}:{id}:fraction_above_ec50"),
                "1",
                format!("fraction of {rn}'s voxels above {id}'s EC50 now"),
            );
            c.push(
                format!("{rn}:{id}:fold_over_baseline"),
                "1",
                format!("(baseline + mean {id}) / baseline over {rn}: the cells' contribution as a fold over the endogenous level (interstitial baseline in tissue, plasma baseline in blood; NaN without one)"),
            );
            c.push(
                format!("{rn}:{id}:occupancy"),
                "1",
                format!("mean receptor occupancy c/(c + K_d) of {id} over {rn} now (c: the cells' contribution)"),
            );
            c.push(
                format!("{rn}:{id}:occupancy_auc"),
                "h",
                format!("mean ∫ c/(c + K_d) dt of {id} over {rn} (divided by the time: the time-averaged occupancy)"),
            );
        }
    }
    for id in species {
        c.push(
            format!("ledger:{id}:secreted"),
            "ng",
            format!("{id} secreted so far (heart and remote sites)"),
        );
        c.push(
            format!("ledger:{id}:degraded"),
            "ng",
            format!("{id} degraded in the heart"),
        );
        c.push(
            format!("ledger:{id}:taken_up"),
            "ng",
            format!("{id} taken up by receptors in the heart"),
        );
        c.push(
            format!("ledger:{id}:heart_to_plasma"),
            "ng",
            format!("net {id} from the heart to plasma"),
        );
        c.push(
            format!("ledger:{id}:cleared"),
            "ng",
            format!("{id} cleared from plasma"),
        );
        c.push(
            format!("ledger:{id}:lost_remote"),
            "ng",
            format!("{id} lost at remote sites"),
        );
        c.push(
            format!("ledger:{id}:in_tissue"),
            "ng",
            format!("{id} in the heart now"),
        );
        c.push(
            format!("ledger:{id}:in_plasma"),
            "ng",
            format!("{id} in plasma now"),
        );
        c.push(
            format!("ledger:{id}:at_remote_sites"),
            "ng",
            format!("{id} at remote sites now"),
        );
        c.push(
            format!("ledger:{id}:closure"),
            "1",
            format!("whole-body balance of {id}, relative to the largest amount"),
        );
    }
    c
}

impl<'a> Runner<'a> {
    pub(super) fn summary(&self, wall_s: f64) -> Result<Summary> {
        let values = self.values()?;
        let final_readouts = self
            .columns
            .names
            .iter()
            .zip(&values)
            .map(|(c, v)| (c.0.clone(), *v))
            .collect();
        let heart = self.sim.ledger()?;
        let (plasma, _) = self.sim.plasma_state()?;
        let ledger: Vec<LedgerSummary> = heart
            .species
            .iter()
            .zip(&plasma)
            .enumerate()
            .map(|(s, (h, pl))| LedgerSummary {
                species: self.species[s].clone(),
                initial: self.initial_total[s],
                secreted_heart: h.secreted,
                secreted_remote: pl.remote_secreted,
                degraded: h.degraded,
                taken_up: h.taken_up,
                heart_to_plasma: h.net_exchange(),
                cleared_from_plasma: pl.cleared,
                lost_at_remote_sites: pl.remote_lost,
                in_tissue: h.in_tissue,
                in_plasma: pl.in_plasma,
                at_remote_sites: pl.at_remote_sites,
                closure_error: body_closure(h, pl, self.initial_total[s]),
            })
            .collect();
        let worst = ledger
            .iter()
            .map(|l| l.closure_error.abs())
            .fold(0.0, f64::max);
        Ok(Summary {
            program: "secretome".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            scenario_hash: self.hash.clone(),
            scenario: self.sc.clone(),
            adapter: self.sim.adapter_name().to_string(),
            wall_s,
            steps: self.sim.steps_taken(),
            time_s: self.sim.time(),
            outputs: self.outputs.len(),
            final_readouts,
            ledger,
            ledger_closure_error: worst,
            parameters: parameter_records(self.sc, &self.built.problem),
        })
    }
}
