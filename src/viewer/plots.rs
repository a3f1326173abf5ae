//! The live plots (egui_plot), the colour bar and the AHA bullseye.

use std::ops::RangeInclusive;

use eframe::egui::{self, Color32, Pos2, Rect, Stroke, Vec2};
use egui_plot::{uniform_grid_spacer, GridInput, GridMark, Legend, Line, Plot, PlotPoints};

use secretome::output::report::{bullseye_segment, viridis};
use secretome::sim::{Region, Simulation, Snapshot};
use secretome::TissueLabel;

use super::app::{Marker, ViewerApp};

/// The regions whose mean concentration is plotted.
const REGIONS: [(TissueLabel, &str); 3] = [
    (TissueLabel::Infarct, "infarct"),
    (TissueLabel::BorderZone, "border zone"),
    (TissueLabel::Myocardium, "remote"),
];

/// Readouts over time, one point per snapshot (thinned to stay under 4000 points).
#[derive(Default)]
pub struct History {
    /// Hours.
    pub t: Vec<f64>,
    /// Plasma, ng/mL: `[species][k]`.
    pub plasma: Vec<Vec<f64>>,
    /// Cells per depot (grid depots by name, then remote sites): (name, [t, cells]).
    pub cells: Vec<(String, Vec<[f64; 2]>)>,
    /// Mean concentration, ng/mL: `[species][region][k]` for [`REGIONS`].
    pub means: Vec<[Vec<f64>; 3]>,
}

impl History {
    pub fn push(&mut self, s: &Snapshot, markers: &[Marker], sim: &Simulation) {
        let t = s.time / 3600.0;
        if self.t.last().is_some_and(|&last| last >= t) {
            return;
        }
        let ns = s.plasma.len();
        if self.plasma.len() != ns {
            self.plasma = vec![Vec::new(); ns];
            self.means = (0..ns).map(|_| Default::default()).collect();
        }
        self.t.push(t);
        for (k, v) in s.plasma.iter().enumerate() {
            self.plasma[k].push(*v);
        }
        for (k, m) in self.means.iter_mut().enumerate() {
            for (j, (label, _)) in REGIONS.iter().enumerate() {
                let v = s
                    .regions
                    .iter()
                    .find(|r| r.region == Region::Label(*label))
                    .map_or(f64::NAN, |r| r.species[k].mean);
                m[j].push(v);
            }
        }
        let remote = &sim.problem().compartment.remote;
        let named = markers
            .iter()
            .map(|m| m.name.clone())
            .zip(s.depot_cells.iter().copied())
            .chain(
                remote
                    .iter()
                    .map(|r| r.name.clone())
                    .zip(s.remote_cells.iter().copied()),
            );
        for (name, c) in named {
            match self.cells.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push([t, c]),
                None => self.cells.push((name, vec![[t, c]])),
            }
        }
        if self.t.len() > 4000 {
            self.thin();
        }
    }

    /// Keeps every other point.
    fn thin(&mut self) {
        fn half<T: Clone>(v: &mut Vec<T>) {
            *v = v.iter().step_by(2).cloned().collect();
        }
        half(&mut self.t);
        self.plasma.iter_mut().for_each(half);
        for m in &mut self.means {
            m.iter_mut().for_each(half);
        }
        for (_, v) in &mut self.cells {
            half(v);
        }
    }
}

fn series(t: &[f64], v: &[f64]) -> PlotPoints<'static> {
    PlotPoints::from(
        t.iter()
            .zip(v)
            .filter(|(_, y)| y.is_finite())
            .map(|(&x, &y)| [x, y])
            .collect::<Vec<_>>(),
    )
}

pub fn viridis32(t: f64) -> Color32 {
    let c = viridis(t);
    Color32::from_rgb(c.0, c.1, c.2)
}

const SPECIES_COLOURS: [Color32; 6] = [
    Color32::from_rgb(230, 85, 13),
    Color32::from_rgb(49, 130, 189),
    Color32::from_rgb(49, 163, 84),
    Color32::from_rgb(158, 154, 200),
    Color32::from_rgb(253, 174, 107),
    Color32::from_rgb(200, 200, 200),
];

/// A y-axis label that stays readable from picograms to millions of cells: plain decimals
/// with as many places as the grid step needs, or, where the axis reaches below 0.01 or past
/// 100 000, scientific notation with as many digits as the step needs.
fn tick(mark: GridMark, range: &RangeInclusive<f64>) -> String {
    let (v, step) = (mark.value, mark.step_size.abs());
    let reach = range.start().abs().max(range.end().abs());
    if v == 0.0 || step <= 0.0 {
        "0".to_string()
    } else if !(1e-2..1e5).contains(&reach) {
        let places = (v.abs().log10().floor() - step.log10().floor()).max(0.0) as usize;
        format!("{v:.places$e}")
    } else {
        let places = (-step.log10()).ceil().max(0.0) as usize;
        format!("{v:.places$}")
    }
}

/// The smallest of 1, 2, 5 × 10ᵏ that is at least `x`.
fn nice(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&s| s >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * p)
}

/// y grid lines at 1–2–5 steps: the finest at least the plot's minimum spacing, the labelled
/// ones three times that, so that a short plot over a narrow range (a depot losing 3 % of its
/// cells) still has labels, which egui_plot's powers of ten would skip.
fn nice_steps(input: GridInput) -> [f64; 3] {
    let b = input.base_step_size.max(f64::MIN_POSITIVE);
    let labelled = nice(3.0 * b);
    [nice(b), labelled, nice(4.0 * labelled)]
}

impl ViewerApp {
    pub(super) fn plots(&mut self, ui: &mut egui::Ui) {
        let h = &self.history;
        let height = (ui.available_height() - 24.0).max(150.0);
        let width = (ui.available_width() - 24.0) / 3.0;
        let sp = self.species;
        let id = self.table.species[sp].id.clone();
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.label("plasma, ng/mL");
                Plot::new("plasma")
                    .width(width)
                    .height(height)
                    .legend(Legend::default())
                    .y_grid_spacer(uniform_grid_spacer(nice_steps))
                    .y_axis_formatter(tick)
                    .x_axis_label("t (h)")
                    .show(ui, |p| {
                        for (k, v) in h.plasma.iter().enumerate() {
                            let name = self.table.species.get(k).map_or("?", |s| s.id.as_str());
                            p.line(
                                Line::new(name, series(&h.t, v))
                                    .color(SPECIES_COLOURS[k % SPECIES_COLOURS.len()]),
                            );
                        }
                    });
            });
            ui.vertical(|ui| {
                ui.label("cells per depot");
                let mut plot = Plot::new("cells").width(width).height(height);
                // A legend of many depots would cover the plot (the list names them).
                if h.cells.len() <= 6 {
                    plot = plot.legend(Legend::default());
                }
                plot.y_grid_spacer(uniform_grid_spacer(nice_steps))
                    .y_axis_formatter(tick)
                    .x_axis_label("t (h)")
                    .show(ui, |p| {
                        for (name, v) in &h.cells {
                            p.line(Line::new(name.clone(), PlotPoints::from(v.clone())));
                        }
                    });
            });
            ui.vertical(|ui| {
                ui.label(format!("mean {id} by region, ng/mL"));
                Plot::new("regions")
                    .width(width)
                    .height(height)
                    .legend(Legend::default())
                    .y_grid_spacer(uniform_grid_spacer(nice_steps))
                    .y_axis_formatter(tick)
                    .x_axis_label("t (h)")
                    .show(ui, |p| {
                        if let Some(m) = h.means.get(sp) {
                            for (j, (_, name)) in REGIONS.iter().enumerate() {
                                p.line(
                                    Line::new(*name, series(&h.t, &m[j])).color(SPECIES_COLOURS[j]),
                                );
                            }
                        }
                    });
            });
        });
    }

    /// The AHA bullseye of the selected species' exposure (mean AUC, or mean concentration
    /// now), on a log scale over four decades.
    pub(super) fn bullseye_ui(&mut self, ui: &mut egui::Ui) {
        let sp = self.species;
        let exposure = self.session.simulation().has_exposure();
        if !exposure {
            self.bullseye_auc = false;
        }
        ui.horizontal(|ui| {
            ui.add_enabled_ui(exposure, |ui| {
                ui.selectable_value(&mut self.bullseye_auc, true, "AUC");
            });
            ui.selectable_value(&mut self.bullseye_auc, false, "now");
        });
        let Some(s) = &self.snapshot else {
            ui.label("waiting for the first readout…");
            return;
        };
        let mut values = [f64::NAN; 17];
        for r in &s.regions {
            if let Region::Segment(k) = r.region {
                if (1..=17).contains(&k) {
                    let st = &r.species[sp];
                    values[k as usize - 1] = if self.bullseye_auc {
                        st.auc / 3600.0
                    } else {
                        st.mean
                    };
                }
            }
        }
        if values.iter().all(|v| v.is_nan()) {
            ui.label("no AHA segments in this geometry");
            return;
        }
        let max = values
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0f64, |m, &v| m.max(v));
        let hi = if max > 0.0 { max } else { 1.0 };
        let lo = hi * 1e-4;
        let t = |v: f64| {
            if v > lo {
                (v / lo).ln() / (hi / lo).ln()
            } else {
                0.0
            }
        };
        if self.bullseye.is_none() {
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
                            viridis32(t(v))
                        } else {
                            Color32::DARK_GRAY
                        };
                    }
                }
            }
            self.bullseye = Some(ui.ctx().load_texture(
                "bullseye",
                img,
                egui::TextureOptions::LINEAR,
            ));
        }
        if let Some(tex) = &self.bullseye {
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
                    resp.on_hover_text_at_pointer(format!(
                        "segment {seg}: {:.3e} {}",
                        values[seg as usize - 1],
                        if self.bullseye_auc {
                            "ng·h/mL"
                        } else {
                            "ng/mL"
                        }
                    ));
                }
            }
        }
        ui.label(format!(
            "{} {} · log scale {:.1e} – {:.1e} {}",
            self.table.species[sp].id,
            if self.bullseye_auc {
                "mean AUC"
            } else {
                "mean now"
            },
            lo,
            hi,
            if self.bullseye_auc {
                "ng·h/mL"
            } else {
                "ng/mL"
            }
        ));
        ui.small(
            "anterior at the top, septum on the left; basal ring outside, apex (17) in the centre",
        );
    }
}

/// The colour bar of the 3D view, in ng/mL, over the view's lower right corner.
pub fn colour_bar(painter: &egui::Painter, view: Rect, range: (f64, f64), log: bool, id: &str) {
    let w = 24.0;
    let h = (view.height() * 0.4).clamp(80.0, 260.0);
    let x0 = view.max.x - w - 90.0;
    let y0 = view.max.y - h - 30.0;
    let bg = Rect::from_min_size(
        Pos2::new(x0 - 10.0, y0 - 28.0),
        Vec2::new(w + 95.0, h + 46.0),
    );
    painter.rect_filled(bg, 4.0, Color32::from_black_alpha(160));
    let n = 64;
    for k in 0..n {
        let t0 = k as f32 / n as f32;
        let t1 = (k + 1) as f32 / n as f32;
        let r = Rect::from_min_max(
            Pos2::new(x0, y0 + h * (1.0 - t1)),
            Pos2::new(x0 + w, y0 + h * (1.0 - t0)),
        );
        painter.rect_filled(r, 0.0, viridis32(((t0 + t1) * 0.5) as f64));
    }
    let (lo, hi) = range;
    for k in 0..=4 {
        let f = k as f64 / 4.0;
        let v = if log && lo > 0.0 {
            lo * (hi / lo).powf(f)
        } else {
            lo + (hi - lo) * f
        };
        let y = y0 + h * (1.0 - f as f32);
        painter.line_segment(
            [Pos2::new(x0 + w, y), Pos2::new(x0 + w + 4.0, y)],
            Stroke::new(1.0, Color32::WHITE),
        );
        painter.text(
            Pos2::new(x0 + w + 6.0, y),
            egui::Align2::LEFT_CENTER,
            format!("{v:.2e}"),
            egui::FontId::proportional(11.0),
            Color32::WHITE,
        );
    }
    painter.text(
        Pos2::new(x0 - 4.0, y0 - 14.0),
        egui::Align2::LEFT_CENTER,
        format!("{id}, ng/mL{}", if log { " (log)" } else { "" }),
        egui::FontId::proportional(12.0),
        Color32::WHITE,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(value: f64, step_size: f64, hi: f64) -> String {
        tick(GridMark { value, step_size }, &(0.0..=hi))
    }

    /// Plasma in 1e-5 ng/mL steps, cells in millions, means in tenths all read as numbers,
    /// each axis in one notation.
    #[test]
    fn ticks_read_at_every_scale() {
        assert_eq!(at(2e-5, 1e-5, 8e-5), "2e-5");
        assert_eq!(at(2.5e-5, 5e-6, 8e-5), "2.5e-5");
        assert_eq!(at(0.0, 1e-5, 8e-5), "0");
        assert_eq!(at(0.25, 0.05, 1.0), "0.25");
        assert_eq!(at(40.0, 10.0, 100.0), "40");
        assert_eq!(at(2_990_000.0, 10_000.0, 3e6), "2.99e6");
        assert_eq!(at(3e6, 1e6, 3e6), "3e6");
    }

    #[test]
    fn grid_steps_are_one_two_five() {
        assert_eq!(nice(0.9), 1.0);
        assert_eq!(nice(1.0), 1.0);
        assert_eq!(nice(1.2e4), 2e4);
        assert!((nice(3.3e-6) - 5e-6).abs() < 1e-18);
        assert_eq!(nice(6.0), 10.0);
        let s = nice_steps(GridInput {
            bounds: (2.93e6, 3.0e6),
            base_step_size: 5e3,
        });
        assert_eq!(s, [5e3, 2e4, 1e5]);
    }
}
