//! The live plots (egui_plot), the colour bar and the AHA bullseye.

use std::ops::RangeInclusive;

use eframe::egui::{self, Color32, Pos2, Rect, Stroke, Vec2};
use egui_plot::{
    uniform_grid_spacer, GridInput, GridMark, HLine, HoverPosition, Legend, Line, LineStyle, Plot,
    PlotPoints,
};

use secretome::base::colormap::viridis;
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
    /// Mean receptor occupancy, 0..1: `[species][region][k]` for [`REGIONS`].
    pub occupancy: Vec<[Vec<f64>; 3]>,
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
            self.occupancy = (0..ns).map(|_| Default::default()).collect();
        }
        self.t.push(t);
        for (k, v) in s.plasma.iter().enumerate() {
            self.plasma[k].push(*v);
        }
        for (k, (m, o)) in self.means.iter_mut().zip(&mut self.occupancy).enumerate() {
            for (j, (label, _)) in REGIONS.iter().enumerate() {
                let st = s
                    .regions
                    .iter()
                    .find(|r| r.region == Region::Label(*label))
                    .and_then(|r| r.species.get(k));
                m[j].push(st.map_or(f64::NAN, |st| st.mean));
                o[j].push(st.map_or(f64::NAN, |st| st.occupancy));
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
        for m in self.means.iter_mut().chain(&mut self.occupancy) {
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
    let [r, g, b] = viridis(t);
    Color32::from_rgb(r, g, b)
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

/// How the plasma plot shows the cells' plasma.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlasmaView {
    /// ng/mL on a log axis, each species' endogenous baseline dashed in its colour.
    Log,
    /// As a percentage of the endogenous baseline (the fold over baseline minus one).
    Percent,
}

/// What the regional plot shows for the selected species.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionView {
    /// Mean concentration, ng/mL.
    Concentration,
    /// Mean receptor occupancy c/(c + K_d), %.
    Occupancy,
    /// The mean as a fold over the endogenous tissue level.
    Fold,
}

/// Labels of a log10 axis: the concentration at each whole decade.
fn decade_tick(mark: GridMark, _range: &RangeInclusive<f64>) -> String {
    let e = mark.value.round();
    if (mark.value - e).abs() > 1e-6 {
        String::new()
    } else if (-2.0..=4.0).contains(&e) {
        format!("{}", 10f64.powi(e as i32))
    } else {
        format!("1e{e}")
    }
}

/// Grid lines of a log10 axis at whole decades (1, 2 or 5 apart).
fn decade_steps(input: GridInput) -> [f64; 3] {
    let s = nice(input.base_step_size.max(f64::MIN_POSITIVE)).max(1.0);
    [s, nice(2.0 * s), nice(5.0 * s)]
}

/// log10 of the positive points of a series.
fn log_series(t: &[f64], v: &[f64]) -> PlotPoints<'static> {
    PlotPoints::from(
        t.iter()
            .zip(v)
            .filter(|(_, y)| **y > 0.0 && y.is_finite())
            .map(|(&x, &y)| [x, y.log10()])
            .collect::<Vec<_>>(),
    )
}

impl ViewerApp {
    pub(super) fn plots(&mut self, ui: &mut egui::Ui) {
        let height = (ui.available_height() - 30.0).max(150.0);
        let width = (ui.available_width() - 24.0) / 3.0;
        ui.horizontal(|ui| {
            ui.vertical(|ui| self.plasma_plot(ui, width, height));
            ui.vertical(|ui| self.cells_plot(ui, width, height));
            ui.vertical(|ui| self.regions_plot(ui, width, height));
        });
    }

    /// Plasma per species: the cells' contribution on a log axis with the endogenous
    /// baselines dashed, or as a percentage of the baseline.
    fn plasma_plot(&mut self, ui: &mut egui::Ui, width: f32, height: f32) {
        ui.horizontal(|ui| {
            ui.label("plasma from the cells:");
            let v = &mut self.readouts.plasma_view;
            ui.selectable_value(v, PlasmaView::Log, "ng/mL")
                .on_hover_text("what the cells add, on a log axis; dashed: the endogenous level");
            ui.selectable_value(v, PlasmaView::Percent, "% of endogenous")
                .on_hover_text("what the cells add as a share of the endogenous level (fold − 1)");
            if *v == PlasmaView::Log {
                ui.small("(log; - - endogenous)");
            }
        });
        let h = &self.readouts.history;
        let table = &self.model.table.species;
        let colour = |k: usize| SPECIES_COLOURS[k % SPECIES_COLOURS.len()];
        let name = |k: usize| table.get(k).map_or("?", |s| s.id.as_str());
        let base = |k: usize| table.get(k).map_or(0.0, |s| s.baseline_plasma.value);
        let plot = Plot::new("plasma")
            .width(width)
            .height(height)
            .legend(Legend::default())
            .x_axis_label("t (h)");
        match self.readouts.plasma_view {
            PlasmaView::Log => {
                plot.y_grid_spacer(uniform_grid_spacer(decade_steps))
                    .y_axis_formatter(decade_tick)
                    .label_formatter(|hp| {
                        let (who, p) = match hp {
                            HoverPosition::NearDataPoint {
                                plot_name,
                                position,
                                ..
                            } => (format!("{plot_name}: "), *position),
                            HoverPosition::Elsewhere { position } => (String::new(), *position),
                        };
                        Some(format!(
                            "{who}{:.3e} ng/mL\nt = {:.2} h",
                            10f64.powf(p.y),
                            p.x
                        ))
                    })
                    .show(ui, |p| {
                        for (k, v) in h.plasma.iter().enumerate() {
                            p.line(Line::new(name(k), log_series(&h.t, v)).color(colour(k)));
                            if base(k) > 0.0 {
                                p.hline(
                                    HLine::new(name(k), base(k).log10())
                                        .id(("baseline", k))
                                        .color(colour(k))
                                        .style(LineStyle::dashed_loose()),
                                );
                            }
                        }
                    });
            }
            PlasmaView::Percent => {
                plot.y_axis_label("% of endogenous")
                    .y_grid_spacer(uniform_grid_spacer(nice_steps))
                    .y_axis_formatter(tick)
                    .show(ui, |p| {
                        for (k, v) in h.plasma.iter().enumerate() {
                            let b = base(k);
                            if b > 0.0 {
                                let pct: Vec<f64> = v.iter().map(|c| 100.0 * c / b).collect();
                                p.line(Line::new(name(k), series(&h.t, &pct)).color(colour(k)));
                            }
                        }
                    });
            }
        }
    }

    fn cells_plot(&self, ui: &mut egui::Ui, width: f32, height: f32) {
        let h = &self.readouts.history;
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
    }

    /// The selected species by region: mean concentration, receptor occupancy or fold over
    /// the endogenous tissue level.
    fn regions_plot(&mut self, ui: &mut egui::Ui, width: f32, height: f32) {
        let sp = self.species;
        let s = &self.model.table.species[sp];
        ui.horizontal(|ui| {
            ui.label(format!("{} by region:", s.id));
            let v = &mut self.readouts.region_view;
            ui.selectable_value(v, RegionView::Concentration, "ng/mL")
                .on_hover_text("mean concentration");
            ui.selectable_value(v, RegionView::Occupancy, "occupancy")
                .on_hover_text(format!(
                    "mean receptor occupancy c/(c + K_d), K_d = {} ng/mL",
                    s.kd.value
                ));
            ui.selectable_value(v, RegionView::Fold, "fold")
                .on_hover_text(format!(
                    "(endogenous + mean)/endogenous, endogenous {} ng/mL",
                    s.baseline_tissue.value
                ));
        });
        let h = &self.readouts.history;
        let (axis, values): (&str, Vec<Vec<f64>>) = match self.readouts.region_view {
            RegionView::Concentration => (
                "mean, ng/mL",
                h.means.get(sp).map_or(Vec::new(), |m| m.to_vec()),
            ),
            RegionView::Occupancy => (
                "receptors occupied, %",
                h.occupancy.get(sp).map_or(Vec::new(), |m| {
                    m.iter()
                        .map(|r| r.iter().map(|o| 100.0 * o).collect())
                        .collect()
                }),
            ),
            RegionView::Fold => (
                "× endogenous level",
                h.means.get(sp).map_or(Vec::new(), |m| {
                    m.iter()
                        .map(|r| r.iter().map(|c| s.tissue_fold(*c)).collect())
                        .collect()
                }),
            ),
        };
        Plot::new("regions")
            .width(width)
            .height(height)
            .legend(Legend::default())
            .y_axis_label(axis)
            .y_grid_spacer(uniform_grid_spacer(nice_steps))
            .y_axis_formatter(tick)
            .x_axis_label("t (h)")
            .show(ui, |p| {
                for (j, (_, name)) in REGIONS.iter().enumerate() {
                    if let Some(v) = values.get(j) {
                        p.line(Line::new(*name, series(&h.t, v)).color(SPECIES_COLOURS[j]));
                    }
                }
            });
    }
}

/// Where a concentration sits on the colour bar, 0 (bottom) to 1 (top); `None` outside the
/// range.
pub fn bar_position(v: f64, range: (f64, f64), log: bool) -> Option<f64> {
    let (lo, hi) = range;
    let f = if log && lo > 0.0 {
        (v / lo).ln() / (hi / lo).ln()
    } else {
        (v - lo) / (hi - lo)
    };
    (f.is_finite() && (0.0..=1.0).contains(&f)).then_some(f)
}

/// The colour bar's ticks: both ends, and between them on a log scale whole decades (every
/// other one over more than six), on a linear one quarters.
fn bar_ticks(range: (f64, f64), log: bool) -> Vec<f64> {
    let (lo, hi) = range;
    let mut ticks = vec![hi, lo];
    if log && lo > 0.0 {
        let (a, b) = (lo.log10().ceil() as i32, hi.log10().floor() as i32);
        let every = if b - a > 6 { 2 } else { 1 };
        ticks.extend((a..=b).step_by(every).map(|e| 10f64.powi(e)));
    } else {
        ticks.extend((1..4).map(|k| lo + (hi - lo) * k as f64 / 4.0));
    }
    ticks
}

/// A concentration for the colour bar: plain where that reads well, else 1.0e-5.
pub fn short(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if (1e-3..1e4).contains(&v.abs()) {
        let places = (2 - v.abs().log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.places$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{v:.1e}")
    }
}

/// The colour bar of the 3D view, in ng/mL, over the view's lower right corner, with the
/// species' EC50 marked where it lies within the range.
pub fn colour_bar(
    painter: &egui::Painter,
    view: Rect,
    range: (f64, f64),
    log: bool,
    id: &str,
    ec50: f64,
) {
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
    let y_of = |f: f64| y0 + h * (1.0 - f as f32);
    let ec50_y = bar_position(ec50, range, log).map(y_of);
    let mut labelled: Vec<f32> = ec50_y.into_iter().collect();
    for v in bar_ticks(range, log) {
        let Some(f) = bar_position(v, range, log) else {
            continue;
        };
        let y = y_of(f);
        painter.line_segment(
            [Pos2::new(x0 + w, y), Pos2::new(x0 + w + 4.0, y)],
            Stroke::new(1.0, Color32::WHITE),
        );
        // A label that would overlap one already placed (the EC50's first) is left out.
        if labelled.iter().all(|l| (l - y).abs() > 11.0) {
            labelled.push(y);
            painter.text(
                Pos2::new(x0 + w + 6.0, y),
                egui::Align2::LEFT_CENTER,
                short(v),
                egui::FontId::proportional(11.0),
                Color32::WHITE,
            );
        }
    }
    if let Some(y) = ec50_y {
        let marker = Color32::from_rgb(255, 140, 60);
        let (a, b) = (Pos2::new(x0 - 6.0, y), Pos2::new(x0 + w + 4.0, y));
        painter.line_segment([a, b], Stroke::new(4.0, Color32::BLACK));
        painter.line_segment([a, b], Stroke::new(2.0, marker));
        painter.text(
            Pos2::new(x0 + w + 6.0, y),
            egui::Align2::LEFT_CENTER,
            format!("EC50 {}", short(ec50)),
            egui::FontId::proportional(12.0),
            marker,
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

    /// The EC50 has its place on the bar when the range holds it, on either scale.
    #[test]
    fn the_ec50_is_placed_on_the_colour_bar() {
        assert!((bar_position(10.0, (0.01, 100.0), true).unwrap() - 0.75).abs() < 1e-12);
        assert_eq!(bar_position(10.0, (0.0, 20.0), false), Some(0.5));
        assert_eq!(bar_position(10.0, (0.001, 1.0), true), None);
        assert_eq!(short(0.01), "0.01");
        assert_eq!(short(100.0), "100");
        assert_eq!(short(0.0316), "0.0316");
        assert_eq!(short(3e-5), "3.0e-5");
        let t = bar_ticks((1e-6, 20.0), true);
        assert_eq!(&t[..2], &[20.0, 1e-6]);
        assert_eq!(t.len(), 2 + 4, "1e-6, 1e-4, 0.01, 1: {t:?}");
        assert_eq!(bar_ticks((1e-3, 100.0), true).len(), 2 + 6, "every decade");
        assert_eq!(
            bar_ticks((0.0, 20.0), false),
            vec![20.0, 0.0, 5.0, 10.0, 15.0]
        );
        assert_eq!(
            decade_tick(
                GridMark {
                    value: -2.0,
                    step_size: 1.0
                },
                &(0.0..=1.0)
            ),
            "0.01"
        );
        assert_eq!(
            decade_tick(
                GridMark {
                    value: -5.0,
                    step_size: 1.0
                },
                &(0.0..=1.0)
            ),
            "1e-5"
        );
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
