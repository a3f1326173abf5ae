//! The selected species' parameter sliders. Each shows on hover where its value comes from:
//! the source of the species table as loaded (a scenario's override brings its own source)
//! and its confidence spelled out, or, once moved, that it was edited in the viewer.

use std::ops::RangeInclusive;

use eframe::egui;

use secretome::base::{Parameter, Species};

use super::app::ViewerApp;

/// A parameter with a slider, in the units the species table is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamSlider {
    Diffusion,
    TissueHalfLife,
    UptakeV,
    UptakeK,
    Exchange,
    Secretion,
}

impl ParamSlider {
    pub const ALL: [ParamSlider; 6] = [
        ParamSlider::Diffusion,
        ParamSlider::TissueHalfLife,
        ParamSlider::UptakeV,
        ParamSlider::UptakeK,
        ParamSlider::Exchange,
        ParamSlider::Secretion,
    ];

    /// The slider's label: what and in which unit.
    pub fn label(self) -> &'static str {
        match self {
            ParamSlider::Diffusion => "D, µm²/min",
            ParamSlider::TissueHalfLife => "tissue half-life, min",
            ParamSlider::UptakeV => "uptake V, ng/mL/s",
            ParamSlider::UptakeK => "uptake K, ng/mL",
            ParamSlider::Exchange => "exchange P, 1/s",
            ParamSlider::Secretion => "secretion, ng/1e6 cells/day",
        }
    }

    fn range(self) -> RangeInclusive<f64> {
        match self {
            ParamSlider::Diffusion => 10.0..=1e5,
            ParamSlider::TissueHalfLife => 0.5..=10_000.0,
            ParamSlider::UptakeV => 0.0..=10.0,
            ParamSlider::UptakeK => 0.01..=100.0,
            ParamSlider::Exchange => 0.0..=1e-2,
            ParamSlider::Secretion => 0.0..=1000.0,
        }
    }

    /// Internal units (mm²/s, s, ng/cell/s, …) per slider unit.
    fn unit(self) -> f64 {
        match self {
            ParamSlider::Diffusion => 1.0 / 6e7,
            ParamSlider::TissueHalfLife => 60.0,
            ParamSlider::UptakeV | ParamSlider::UptakeK | ParamSlider::Exchange => 1.0,
            ParamSlider::Secretion => 1.0 / (1e6 * 86400.0),
        }
    }

    pub fn get(self, s: &Species) -> &Parameter {
        match self {
            ParamSlider::Diffusion => &s.diffusion,
            ParamSlider::TissueHalfLife => &s.tissue_half_life,
            ParamSlider::UptakeV => &s.uptake_vmax,
            ParamSlider::UptakeK => &s.uptake_km,
            ParamSlider::Exchange => &s.permeability,
            ParamSlider::Secretion => &s.secretion,
        }
    }

    fn get_mut(self, s: &mut Species) -> &mut Parameter {
        match self {
            ParamSlider::Diffusion => &mut s.diffusion,
            ParamSlider::TissueHalfLife => &mut s.tissue_half_life,
            ParamSlider::UptakeV => &mut s.uptake_vmax,
            ParamSlider::UptakeK => &mut s.uptake_km,
            ParamSlider::Exchange => &mut s.permeability,
            ParamSlider::Secretion => &mut s.secretion,
        }
    }

    /// A value in internal units as the slider shows it, with the unit.
    fn shown(self, internal: f64) -> String {
        let unit = self.label().split_once(", ").map_or("", |(_, u)| u);
        format!("{} {unit}", number(internal / self.unit()))
    }
}

/// A number with four significant digits, in plain decimals where they read well.
fn number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        format!("{x}")
    } else if (1e-2..1e5).contains(&x.abs()) {
        let places = (3 - x.abs().log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.places$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{x:.3e}")
    }
}

/// What the letters of a confidence code stand for.
fn confidence_word(c: char) -> Option<&'static str> {
    Some(match c {
        'H' => "human data",
        'A' => "animal data",
        'V' => "in vitro data",
        'M' => "model/estimate",
        'U' => "used in the literature",
        _ => return None,
    })
}

/// `confidence: A (animal data)`, `confidence: A/M (animal data / model/estimate)`, or that
/// the source states none.
pub fn confidence_text(source: &str) -> String {
    let code = Species::confidence(source);
    let words: Vec<&str> = code.chars().filter_map(confidence_word).collect();
    if words.is_empty() {
        "confidence: not stated (the source has no H/A/V/M/U code)".to_string()
    } else {
        format!("confidence: {code} ({})", words.join(" / "))
    }
}

/// The hover text of a parameter's slider: its value, source and confidence as loaded (the
/// species table with the scenario's overrides); once the value differs from the loaded
/// one, that it was edited in the viewer, with the original value and source for reference.
pub fn hover_text(
    label: &str,
    now: f64,
    loaded: &Parameter,
    shown: impl Fn(f64) -> String,
) -> String {
    if now == loaded.value {
        format!(
            "{label}: {}\nsource: {}\n{}",
            shown(now),
            loaded.source,
            confidence_text(&loaded.source)
        )
    } else {
        format!(
            "{label}: {} — edited in the viewer (loaded: {})\noriginal source: {}\noriginal {}",
            shown(now),
            shown(loaded.value),
            loaded.source,
            confidence_text(&loaded.source)
        )
    }
}

impl ViewerApp {
    /// The hover text of slider `w` for species `s`.
    pub(super) fn slider_hover(&self, w: ParamSlider, s: usize) -> String {
        let now = w.get(&self.model.table.species[s]).value;
        let fallback = w.get(&self.model.table.species[s]);
        let loaded = self
            .model
            .loaded
            .species
            .get(s)
            .map_or(fallback, |sp| w.get(sp));
        hover_text(w.label(), now, loaded, |v| w.shown(v))
    }

    /// The selected species' parameter sliders; a change goes to the running simulation.
    pub(super) fn parameter_sliders(&mut self, ui: &mut egui::Ui) {
        let s = self.species;
        let mut changed = false;
        let mut secretion = false;
        for w in ParamSlider::ALL {
            let hover = self.slider_hover(w, s);
            let p = w.get_mut(&mut self.model.table.species[s]);
            let mut v = p.value / w.unit();
            let r = ui
                .add(
                    egui::Slider::new(&mut v, w.range())
                        .logarithmic(true)
                        .text(w.label()),
                )
                .on_hover_text(hover);
            if r.changed() {
                p.value = v * w.unit();
                if w == ParamSlider::Secretion {
                    secretion = true;
                } else {
                    changed = true;
                }
            }
        }
        if changed {
            self.apply_species();
        }
        if secretion {
            self.apply_secretion(s);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use secretome::scenario::Scenario;
    use secretome::SpeciesTable;

    /// Every slider of every species says its source and its confidence in words; a scenario's
    /// override shows its own source; an edited value says so and keeps the original source.
    #[test]
    fn slider_hover_text_gives_source_and_confidence() {
        let table = SpeciesTable::default_table().unwrap();
        for sp in &table.species {
            for w in ParamSlider::ALL {
                let p = w.get(sp);
                let t = hover_text(w.label(), p.value, p, |v| w.shown(v));
                assert!(t.contains(&p.source), "{} {w:?}: {t}", sp.id);
                let code = Species::confidence(&p.source);
                assert!(!code.is_empty(), "{} {w:?} has a confidence code", sp.id);
                let word = confidence_word(code.chars().next().unwrap()).unwrap();
                assert!(
                    t.contains(&format!("confidence: {code} (")) && t.contains(word),
                    "{t}"
                );
                assert!(!t.contains("edited"), "{t}");
            }
        }
        // TSG-6's diffusion: a model estimate; its hypoxia fold: animal data and a model.
        let tsg6 = &table.species[table.index_of("TSG6").unwrap()];
        let d = hover_text("D", tsg6.diffusion.value, &tsg6.diffusion, |v| {
            v.to_string()
        });
        assert!(d.contains("confidence: M (model/estimate)"), "{d}");
        assert_eq!(
            confidence_text(&tsg6.hypoxia_fold.source),
            "confidence: A/M (animal data / model/estimate)"
        );

        // A scenario's override replaces the source, which the hover then shows.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
        let sc = Scenario::parse(
            "[species.HGF]\ntissue_half_life = { value = \"45 min\", source = \"A: rat heart, my lab 2025\" }\n",
            "x.toml",
            &dir,
            &table,
        )
        .unwrap();
        let mut loaded = table.clone();
        sc.apply_species_overrides(&mut loaded).unwrap();
        let hgf = &loaded.species[loaded.index_of("HGF").unwrap()];
        let w = ParamSlider::TissueHalfLife;
        let t = hover_text(w.label(), w.get(hgf).value, w.get(hgf), |v| w.shown(v));
        assert!(t.contains("A: rat heart, my lab 2025"), "{t}");
        assert!(t.contains("confidence: A (animal data)"), "{t}");
        assert!(t.contains("45 min"), "{t}");

        // Moved in the viewer: says so, with the loaded value and source for reference.
        let t = hover_text(w.label(), 90.0 * 60.0, w.get(hgf), |v| w.shown(v));
        assert!(t.contains("edited in the viewer"), "{t}");
        assert!(t.contains("90 min") && t.contains("loaded: 45 min"), "{t}");
        assert!(
            t.contains("original source: A: rat heart, my lab 2025"),
            "{t}"
        );
        assert!(t.contains("animal data"), "{t}");
    }

    #[test]
    fn numbers_read_plainly() {
        assert_eq!(number(2100.0), "2100");
        assert_eq!(number(12.0), "12");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(1.14e-4), "1.140e-4");
        assert_eq!(number(0.0), "0");
    }
}
