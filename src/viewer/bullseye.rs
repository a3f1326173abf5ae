//! The AHA bullseye of the selected species per segment: mean exposure (AUC), mean
//! concentration now, receptor occupancy averaged over the time run, or the fold over the
//! endogenous tissue level now.

use eframe::egui::{self, Color32, Pos2, Rect, Stroke, Vec2};

use secretome::base::Species;
use secretome::output::report::bullseye_segment;
use secretome::sim::{Region, Snapshot};

use super::app::ViewerApp;
use super::plots::viridis32;

/// What the bullseye shows per segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BullseyeMode {
    /// Mean exposure ∫c dt, ng·h/mL (log scale).
    Auc,
    /// Mean concentration now, ng/mL (log scale).
    Now,
    /// Mean receptor occupancy c/(c + K_d) averaged over the time run, 0..1 (linear).
    Occupancy,
    /// The mean concentration now as a fold over the endogenous tissue level (log scale
    /// from 1).
    Fold,
}

impl BullseyeMode {
    const ALL: [BullseyeMode; 4] = [
        BullseyeMode::Auc,
        BullseyeMode::Now,
        BullseyeMode::Occupancy,
        BullseyeMode::Fold,
    ];

    fn button(self) -> &'static str {
        match self {
            BullseyeMode::Auc => "AUC",
            BullseyeMode::Now => "now",
            BullseyeMode::Occupancy => "occupancy",
            BullseyeMode::Fold => "fold",
        }
    }

    fn title(self) -> &'static str {
        match self {
            BullseyeMode::Auc => "mean AUC",
            BullseyeMode::Now => "mean now",
            BullseyeMode::Occupancy => "receptor occupancy (time mean)",
            BullseyeMode::Fold => "fold over baseline (now)",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            BullseyeMode::Auc => "ng·h/mL",
            BullseyeMode::Now => "ng/mL",
            BullseyeMode::Occupancy => "of receptors",
            BullseyeMode::Fold => "× baseline",
        }
    }

    /// Needs the exposure accumulated on the GPU.
    fn needs_exposure(self) -> bool {
        matches!(self, BullseyeMode::Auc | BullseyeMode::Occupancy)
    }
}

/// Segment 1–17's value (index k − 1) of species `sp` in a snapshot: the mean AUC in
/// ng·h/mL, the mean now, `occupancy_auc` / the time run (the occupancy now at t = 0), or
/// `tissue_fold` of the mean now. NaN where the geometry has no such segment.
pub fn bullseye_values(
    s: &Snapshot,
    sp: usize,
    species: &Species,
    mode: BullseyeMode,
) -> [f64; 17] {
    let mut values = [f64::NAN; 17];
    for r in &s.regions {
        let Region::Segment(k) = r.region else {
            continue;
        };
        let Some(st) = r.species.get(sp).filter(|_| (1..=17).contains(&k)) else {
            continue;
        };
        values[k as usize - 1] = match mode {
            BullseyeMode::Auc => st.auc / 3600.0,
            BullseyeMode::Now => st.mean,
            BullseyeMode::Occupancy if s.time > 0.0 => st.occupancy_auc / s.time,
            BullseyeMode::Occupancy => st.occupancy,
            BullseyeMode::Fold => species.tissue_fold(st.mean),
        };
    }
    values
}

/// The bullseye's colour scale: `lo`..`hi`, logarithmic or linear.
struct Scale {
    lo: f64,
    hi: f64,
    log: bool,
}

impl Scale {
    /// The scale of a mode over `values`: four decades below the largest for AUC and the
    /// mean now, 0 to the largest for occupancy, 1× to the largest fold (log) for the fold.
    fn of(mode: BullseyeMode, values: &[f64]) -> Scale {
        let max = values
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0f64, |m, &v| m.max(v));
        match mode {
            BullseyeMode::Auc | BullseyeMode::Now => {
                let hi = if max > 0.0 { max } else { 1.0 };
                Scale {
                    lo: hi * 1e-4,
                    hi,
                    log: true,
                }
            }
            BullseyeMode::Occupancy => Scale {
                lo: 0.0,
                hi: if max > 0.0 { max } else { 1.0 },
                log: false,
            },
            BullseyeMode::Fold => Scale {
                lo: 1.0,
                hi: if max > 1.0 { max } else { 2.0 },
                log: true,
            },
        }
    }

    /// Position 0..1 of a value on the scale.
    fn t(&self, v: f64) -> f64 {
        let t = if self.log {
            (v / self.lo).ln() / (self.hi / self.lo).ln()
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

impl ViewerApp {
    pub(super) fn bullseye_ui(&mut self, ui: &mut egui::Ui) {
        let sp = self.species;
        let exposure = self.session.simulation().has_exposure();
        if !exposure && self.readouts.bullseye_mode.needs_exposure() {
            self.readouts.bullseye_mode = BullseyeMode::Now;
        }
        let before = self.readouts.bullseye_mode;
        ui.horizontal_wrapped(|ui| {
            for m in BullseyeMode::ALL {
                ui.add_enabled_ui(exposure || !m.needs_exposure(), |ui| {
                    ui.selectable_value(&mut self.readouts.bullseye_mode, m, m.button())
                        .on_hover_text(m.title());
                });
            }
        });
        if self.readouts.bullseye_mode != before {
            self.readouts.bullseye = None;
        }
        let mode = self.readouts.bullseye_mode;
        let Some(s) = &self.readouts.snapshot else {
            ui.label("waiting for the first readout…");
            return;
        };
        let species = &self.model.table.species[sp];
        let values = bullseye_values(s, sp, species, mode);
        if values.iter().all(|v| v.is_nan()) {
            ui.label("no AHA segments in this geometry");
            return;
        }
        if mode == BullseyeMode::Fold && species.baseline_tissue.value <= 0.0 {
            ui.label(format!(
                "{} has no endogenous tissue level in the table",
                species.id
            ));
            return;
        }
        let scale = Scale::of(mode, &values);
        let (lo, hi) = (scale.lo, scale.hi);
        let kind = if scale.log { "log" } else { "linear" };
        if self.readouts.bullseye.is_none() {
            const N: usize = 160;
            let mut img = egui::ColorImage::filled([N, N], Color32::TRANSPARENT);
            for j in 0..N {
                for i in 0..N {
                    let x = (i as f64 + 0.5) / N as f64 * 2.0 - 1.0;
                    let y = 1.0 - (j as f64 + 0.5) / N as f64 * 2.0;
                    let r = (x * x + y * y).sqrt();
                    if let Some(seg) = bullseye_segment(r, y.atan2(x)) {
                        let v = values[seg as usize - 1];
                        img.pixels[j * N + i] = if v.is_finite() {
                            viridis32(scale.t(v))
                        } else {
                            Color32::DARK_GRAY
                        };
                    }
                }
            }
            self.readouts.bullseye = Some(ui.ctx().load_texture(
                "bullseye",
                img,
                egui::TextureOptions::LINEAR,
            ));
        }
        if let Some(tex) = &self.readouts.bullseye {
            let size = Vec2::splat(ui.available_width().min(200.0));
            let (rect, resp) = ui.allocate_exact_size(size, egui::Sense::hover());
            ui.painter().image(
                tex.id(),
                rect,
                Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                Color32::WHITE,
            );
            let c = rect.center();
            let rad = rect.width() * 0.5;
            for ring in [0.25, 0.5, 0.75, 1.0] {
                ui.painter()
                    .circle_stroke(c, rad * ring, Stroke::new(1.0, Color32::BLACK));
            }
            if let Some(p) = resp.hover_pos() {
                let d = p - c;
                let r = (d.length() / rad) as f64;
                if let Some(seg) = bullseye_segment(r, (-d.y as f64).atan2(d.x as f64)) {
                    let v = values[seg as usize - 1];
                    let text = match mode {
                        BullseyeMode::Occupancy => {
                            format!("segment {seg}: {:.1} % of receptors occupied", 100.0 * v)
                        }
                        BullseyeMode::Fold => format!(
                            "segment {seg}: {v:.4} × the endogenous {} ng/mL",
                            species.baseline_tissue.value
                        ),
                        _ => format!("segment {seg}: {v:.3e} {}", mode.unit()),
                    };
                    resp.on_hover_text_at_pointer(text);
                }
            }
            // The scale under the bullseye.
            let (bar, _) = ui.allocate_exact_size(Vec2::new(size.x, 10.0), egui::Sense::hover());
            let n = 48;
            for k in 0..n {
                let x0 = bar.left() + bar.width() * k as f32 / n as f32;
                let x1 = bar.left() + bar.width() * (k + 1) as f32 / n as f32;
                ui.painter().rect_filled(
                    Rect::from_min_max(Pos2::new(x0, bar.top()), Pos2::new(x1, bar.bottom())),
                    0.0,
                    viridis32((k as f64 + 0.5) / n as f64),
                );
            }
        }
        let (lo_text, hi_text) = match mode {
            BullseyeMode::Occupancy => (
                format!("{:.0} %", 100.0 * lo),
                format!("{:.1} %", 100.0 * hi),
            ),
            BullseyeMode::Fold => ("1×".to_string(), format!("{hi:.4}×")),
            _ => (format!("{lo:.1e}"), format!("{hi:.1e} {}", mode.unit())),
        };
        ui.label(format!(
            "{} {} · {kind} scale {lo_text} – {hi_text}",
            species.id,
            mode.title()
        ));
        if mode == BullseyeMode::Occupancy {
            ui.small(format!(
                "c/(c + K_d), K_d {} ng/mL, averaged over {:.1} h",
                species.kd.value,
                s.time / 3600.0
            ));
        }
        ui.small(
            "anterior at the top, septum on the left; basal ring outside, apex (17) in the centre",
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use secretome::problem::build::build;
    use secretome::session::Session;
    use secretome::GpuContext;

    /// In occupancy mode each segment shows its `occupancy_auc` divided by the time run, as
    /// the snapshot reports them; the fold mode the table's `tissue_fold` of the mean now.
    #[test]
    fn bullseye_occupancy_is_the_time_mean_of_each_segment() {
        let ctx = GpuContext::new().unwrap();
        let mut sc = super::super::load(None).unwrap();
        sc.grid_spacing_mm = 3.0;
        let built = build(&sc).unwrap();
        let table = built.problem.species.clone();
        let mut session = Session::new(&ctx, &built).unwrap();
        session.advance(40).unwrap();
        let pending = session.simulation().request_snapshot();
        ctx.wait().unwrap();
        let snap = session
            .simulation()
            .take_snapshot(&pending)
            .unwrap()
            .unwrap();
        assert!(snap.time > 0.0);
        let sp = table.index_of("TSG6").unwrap();
        let tsg6 = &table.species[sp];
        let occ = bullseye_values(&snap, sp, tsg6, BullseyeMode::Occupancy);
        let fold = bullseye_values(&snap, sp, tsg6, BullseyeMode::Fold);
        let mut segments = 0;
        for r in &snap.regions {
            let Region::Segment(k) = r.region else {
                continue;
            };
            let st = &r.species[sp];
            let i = k as usize - 1;
            assert_eq!(occ[i], st.occupancy_auc / snap.time, "segment {k}");
            assert!((0.0..=1.0).contains(&occ[i]), "segment {k}: {}", occ[i]);
            assert_eq!(fold[i], tsg6.tissue_fold(st.mean), "segment {k}");
            segments += 1;
        }
        assert_eq!(segments, 17);
        assert!(
            occ.iter().any(|&o| o > 0.0),
            "the depot's segments have bound receptors: {occ:?}"
        );
    }

    #[test]
    fn scales_span_their_values() {
        let s = Scale::of(BullseyeMode::Occupancy, &[0.1, 0.4, f64::NAN]);
        assert_eq!((s.lo, s.hi, s.log), (0.0, 0.4, false));
        assert_eq!(s.t(0.2), 0.5);
        let s = Scale::of(BullseyeMode::Fold, &[1.0, 4.0]);
        assert_eq!((s.lo, s.hi, s.log), (1.0, 4.0, true));
        assert!((s.t(2.0) - 0.5).abs() < 1e-12 && s.t(1.0) == 0.0 && s.t(4.0) == 1.0);
        let s = Scale::of(BullseyeMode::Auc, &[1e-6, 1.0]);
        assert_eq!(s.t(1e-6), 0.0, "below four decades: the bottom");
    }
}
