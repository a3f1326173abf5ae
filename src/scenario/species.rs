//! `[species.*]` and `[tissue.*]` overrides, with their sources, `[autocrine]` and `[readouts]`.

use super::read::*;
use super::*;

impl Doc<'_> {
    pub(super) fn species_overrides(
        &self,
        sp: &Tbl<'_>,
        scenario: &str,
    ) -> Result<Vec<SpeciesOverride>> {
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
    pub(super) fn sourced(
        &self,
        t: &Tbl<'_>,
        k: &str,
        v: &Val<'_>,
        q: Q,
    ) -> Result<(f64, Option<String>)> {
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

    pub(super) fn tissue_overrides(
        &self,
        tt: &Tbl<'_>,
        scenario: &str,
    ) -> Result<Vec<TissueOverride>> {
        let mut out = Vec::new();
        let Some(map) = tt.map else {
            return Ok(out);
        };
        let names = "myocardium, border_zone, infarct, blood_lv, blood_rv";
        for (label, _) in map.iter() {
            let label: &str = label.get_ref();
            let known = crate::base::TissueLabel::from_name(label)
                .is_some_and(|l| l.kind() != crate::base::LabelKind::Outside);
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

    pub(super) fn autocrine(&self, a: &Tbl<'_>) -> Result<AutocrineSpec> {
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
    pub(super) fn readouts(
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
}
