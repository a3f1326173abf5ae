//! Open / save dialogs (a path field: no platform file dialog is needed) and the scenario
//! file the viewer writes for its current state.

use std::path::Path;

use anyhow::{anyhow, Result};

use secretome::geometry::infarct::Territory;
use secretome::{SpeciesTable, Terms};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DialogKind {
    Open,
    Save,
    Screenshot,
}

/// A small window asking for a file name.
pub struct FileDialog {
    pub kind: DialogKind,
    pub path: String,
}

/// A depot as the saved scenario places it: a sphere at a point, with the cells it has now.
#[derive(Clone, Debug, PartialEq)]
pub struct PointDepot {
    pub name: String,
    pub at: [f64; 3],
    pub radius_mm: f64,
    pub cells: f64,
}

/// What the window holds that a scenario file says.
pub struct SavedState<'a> {
    /// The text of the scenario the window loaded (its other keys are kept).
    pub original: &'a str,
    pub spacing_mm: f64,
    /// `None`: keep the original geometry's infarct keys (a box has none).
    pub infarct: Option<Option<(Territory, f64, f64)>>,
    pub terms: Terms,
    pub autocrine: bool,
    /// The species as edited, and as the scenario gave them.
    pub table: &'a SpeciesTable,
    pub loaded: &'a SpeciesTable,
    /// The depots in the grid now, except those that belong to a kept remote table.
    pub depots: Vec<PointDepot>,
}

/// Routes whose `[[depot]]` table acts through remote sites (kept as written).
fn is_remote(t: &toml::Table) -> bool {
    match t.get("route").and_then(|r| r.as_str()) {
        Some("intravenous" | "intramuscular" | "subcutaneous") => true,
        Some("bolus") => t
            .get("into_plasma")
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        _ => false,
    }
}

/// The names of the original depot tables kept because they act through remote sites:
/// their depots in the grid (named `name` or `name #k`) are not written again.
pub fn kept_remote_names(original: &str) -> Vec<String> {
    let Ok(t) = original.parse::<toml::Table>() else {
        return Vec::new();
    };
    let Some(depots) = t.get("depot").and_then(|d| d.as_array()) else {
        return Vec::new();
    };
    depots
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let d = d.as_table()?;
            is_remote(d).then(|| {
                d.get("name")
                    .and_then(|n| n.as_str())
                    .map_or(format!("depot {}", i + 1), str::to_string)
            })
        })
        .collect()
}

/// Whether a grid depot named `depot` belongs to the kept table `table`.
pub fn belongs(depot: &str, table: &str) -> bool {
    depot == table
        || depot
            .strip_prefix(table)
            .is_some_and(|rest| rest.starts_with(" #"))
}

fn set(t: &mut toml::Table, table: &str, key: &str, v: toml::Value) {
    let entry = t
        .entry(table.to_string())
        .or_insert_with(|| toml::Value::Table(Default::default()));
    if let Some(tab) = entry.as_table_mut() {
        tab.insert(key.to_string(), v);
    }
}

/// The scenario file of the window's state: the loaded file's keys, with the grid spacing,
/// infarct, terms, autocrine switch, edited species parameters and the depots as they are
/// now (each a sphere at its centre with its live cells, retained 1).
pub fn scenario_toml(s: &SavedState<'_>) -> Result<String> {
    let mut t: toml::Table = s
        .original
        .parse()
        .map_err(|e| anyhow!("the loaded scenario no longer parses: {e}"))?;
    set(
        &mut t,
        "grid",
        "spacing",
        toml::Value::String(format!("{} mm", s.spacing_mm)),
    );
    if let Some(inf) = s.infarct {
        match inf {
            Some((terr, transmural, bz)) => {
                let mut one = toml::Table::new();
                one.insert("territory".into(), terr.name().into());
                one.insert("transmural".into(), transmural.into());
                one.insert("border_zone".into(), format!("{bz} mm").into());
                t.insert(
                    "infarct".into(),
                    toml::Value::Array(vec![toml::Value::Table(one)]),
                );
                if let Some(g) = t.get_mut("geometry").and_then(|g| g.as_table_mut()) {
                    g.remove("no_infarct");
                }
            }
            None => {
                t.remove("infarct");
                set(&mut t, "geometry", "no_infarct", true.into());
            }
        }
    }
    for (key, on) in [
        ("diffusion", s.terms.diffusion),
        ("decay", s.terms.decay),
        ("uptake", s.terms.uptake),
        ("exchange", s.terms.exchange),
        ("secretion", s.terms.sources),
    ] {
        set(&mut t, "terms", key, on.into());
    }
    set(&mut t, "autocrine", "enabled", s.autocrine.into());
    for (sp, was) in s.table.species.iter().zip(&s.loaded.species) {
        let mut edits = toml::Table::new();
        let mut put = |key: &str, now: f64, before: f64, text: String| {
            if now != before {
                edits.insert(key.to_string(), text.into());
            }
        };
        put(
            "diffusion",
            sp.diffusion.value,
            was.diffusion.value,
            format!("{:e} mm^2/s", sp.diffusion.value),
        );
        put(
            "tissue_half_life",
            sp.tissue_half_life.value,
            was.tissue_half_life.value,
            format!("{:e} min", sp.tissue_half_life.value / 60.0),
        );
        put(
            "uptake_vmax",
            sp.uptake_vmax.value,
            was.uptake_vmax.value,
            format!("{:e} ng/mL/s", sp.uptake_vmax.value),
        );
        put(
            "uptake_km",
            sp.uptake_km.value,
            was.uptake_km.value,
            format!("{:e} ng/mL", sp.uptake_km.value),
        );
        put(
            "permeability",
            sp.permeability.value,
            was.permeability.value,
            format!("{:e} 1/s", sp.permeability.value),
        );
        put(
            "secretion",
            sp.secretion.value,
            was.secretion.value,
            format!("{:e} ng/1e6 cells/day", sp.secretion.value * 1e6 * 86400.0),
        );
        if !edits.is_empty() {
            let species = t
                .entry("species")
                .or_insert_with(|| toml::Value::Table(Default::default()));
            if let Some(tab) = species.as_table_mut() {
                let mine = tab
                    .entry(sp.id.clone())
                    .or_insert_with(|| toml::Value::Table(Default::default()));
                if let Some(m) = mine.as_table_mut() {
                    m.extend(edits);
                }
            }
        }
    }
    let kept: Vec<toml::Value> = t
        .get("depot")
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .filter(|d| d.as_table().is_some_and(is_remote))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let mut depots = kept;
    for d in &s.depots {
        let mut one = toml::Table::new();
        one.insert("name".into(), d.name.clone().into());
        one.insert("route".into(), "intramyocardial".into());
        one.insert(
            "site".into(),
            toml::Value::Array(
                d.at.iter()
                    .map(|&x| toml::Value::Float((x * 1000.0).round() / 1000.0))
                    .collect(),
            ),
        );
        one.insert("cells".into(), format!("{:e}", d.cells.max(0.0)).into());
        one.insert("retained".into(), 1.0.into());
        one.insert("radius".into(), format!("{} mm", d.radius_mm).into());
        depots.push(toml::Value::Table(one));
    }
    if s.depots.is_empty() {
        // With no cells left in the heart, a [view] cut "through the depot" has none to pass
        // through: the default (the centre) takes its place.
        if let Some(v) = t.get_mut("view").and_then(|v| v.as_table_mut()) {
            if v.get("through").and_then(|x| x.as_str()) == Some("depot") {
                v.remove("through");
            }
        }
    }
    if depots.is_empty() {
        t.remove("depot");
    } else {
        t.insert("depot".into(), toml::Value::Array(depots));
    }
    let body = toml::to_string(&t).map_err(|e| anyhow!("writing the scenario: {e}"))?;
    Ok(format!(
        "# Saved by the Secretome viewer: the loaded scenario with the window's grid, infarct,\n\
         # terms, parameters and depots (each depot with the cells it had when saved).\n\n{body}"
    ))
}

/// In the browser: hands `text` over as a download named as `path`'s file name.
#[cfg(target_arch = "wasm32")]
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let name = path
        .file_name()
        .map_or("scenario.toml".into(), |n| n.to_string_lossy().into_owned());
    crate::web::files::download(&name, text.as_bytes(), "application/toml").map_err(|e| anyhow!(e))
}

/// Writes `text` to `path` whole or not at all.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let tmp: std::path::PathBuf = path.with_extension("toml.part");
    std::fs::write(&tmp, text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| anyhow!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use secretome::scenario::Scenario;

    const ORIGINAL: &str = include_str!("../../assets/scenarios/endocrine_iv.toml");

    /// A saved scenario reads back with the window's spacing, infarct, terms, edited
    /// parameters and depots, and keeps the remote (intravenous) depot table.
    #[test]
    fn a_saved_scenario_reads_back_as_the_window_had_it() {
        let table = SpeciesTable::default_table().unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
        // The original loads as it is.
        Scenario::parse(ORIGINAL, "endocrine_iv.toml", &dir, &table).unwrap();
        let mut edited = table.clone();
        edited.species[0].diffusion.value *= 2.0;
        edited.species[1].secretion.value *= 3.0;
        let terms = Terms {
            uptake: false,
            ..Terms::ALL
        };
        let text = scenario_toml(&SavedState {
            original: ORIGINAL,
            spacing_mm: 1.5,
            infarct: Some(Some((Territory::Rca, 0.5, 3.0))),
            terms,
            autocrine: false,
            table: &edited,
            loaded: &table,
            depots: vec![PointDepot {
                name: "mine".into(),
                at: [-30.0, 5.0, -20.0],
                radius_mm: 2.5,
                cells: 1.5e6,
            }],
        })
        .unwrap();
        let sc = Scenario::parse(&text, "saved.toml", &dir, &table).unwrap();
        assert_eq!(sc.grid_spacing_mm, 1.5);
        assert_eq!(sc.infarcts.len(), 1);
        assert_eq!(sc.infarcts[0].segments, Territory::Rca.segments());
        assert_eq!(sc.infarcts[0].transmural, 0.5);
        assert_eq!(sc.infarcts[0].border_zone_mm, 3.0);
        assert!(!sc.terms.uptake && sc.terms.diffusion);
        assert!(!sc.autocrine.enabled);
        let mut t = table.clone();
        sc.apply_species_overrides(&mut t).unwrap();
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(
            rel(
                t.species[0].diffusion.value,
                edited.species[0].diffusion.value
            ) < 1e-9
        );
        assert!(
            rel(
                t.species[1].secretion.value,
                edited.species[1].secretion.value
            ) < 1e-9
        );
        assert_eq!(
            t.species[2].diffusion.value,
            table.species[2].diffusion.value
        );
        assert_eq!(
            sc.depots.len(),
            2,
            "the intravenous table and the point depot"
        );
        assert_eq!(sc.depots[0].route.name(), "intravenous");
        assert_eq!(sc.depots[1].name, "mine");
        assert!((sc.depots[1].cells_in_heart() - 1.5e6).abs() < 1.0);
        assert_eq!(kept_remote_names(ORIGINAL).len(), 1);
        assert!(belongs("iv #3", "iv") && belongs("iv", "iv") && !belongs("iv2", "iv"));
    }

    /// Saved with every depot deleted, a scenario whose [view] cut through its depot still
    /// loads (cut through the centre instead).
    #[test]
    fn a_scenario_saved_without_depots_loads() {
        let original = include_str!("../../assets/scenarios/intramyocardial.toml");
        let table = SpeciesTable::default_table().unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
        let text = scenario_toml(&SavedState {
            original,
            spacing_mm: 2.0,
            infarct: None,
            terms: Terms::ALL,
            autocrine: true,
            table: &table,
            loaded: &table,
            depots: Vec::new(),
        })
        .unwrap();
        let sc = Scenario::parse(&text, "saved.toml", &dir, &table).unwrap();
        assert!(sc.depots.is_empty());
        assert_eq!(sc.view.species, "TSG6");
        assert_eq!(sc.view.through, secretome::scenario::ViewPoint::Centre);
    }
}
