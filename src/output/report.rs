//! The pictures of a run's `report/` directory, drawn with plotters into memory and written
//! atomically as PNG:
//!
//! - `slices_<species>.png` (1200 × 560): a short-axis and a long-axis slice of the species
//!   at the last output, both through its peak (on a box: the xy and xz planes), on a log
//!   colour scale of four decades in ng/mL with its bar (blood pools pale grey, outside white);
//! - `bullseye_auc.png` (300 × 330 per species): the AHA 17-segment bullseye of each species'
//!   mean exposure (ng·h/mL, log scale of four decades), anterior at the top and the septum
//!   on the left (hearts only);
//! - `plasma.png` (900 × 540): plasma concentration of every species against time;
//! - `regional_means.png` (1200 × 800): mean concentration in myocardium, border zone and
//!   infarct against time, one panel per species.

use std::path::Path;

use plotters::prelude::*;

use crate::base::atomic::write_atomic;
use crate::base::colormap;
use crate::base::Grid;
use crate::base::TissueLabel;
use crate::error::{Result, SimError};
use crate::geometry::HeartAnatomy;

/// Named series of values against time.
pub type Series = Vec<(String, Vec<f64>)>;

pub const SLICE_SIZE: (u32, u32) = (1200, 560);
pub const BULLSEYE_PANEL: (u32, u32) = (300, 330);
pub const PLASMA_SIZE: (u32, u32) = (1400, 540);
pub const REGIONAL_SIZE: (u32, u32) = (1200, 800);

#[cfg(not(target_arch = "wasm32"))]
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// The report's pictures are drawn by batch runs, which the browser has none of.
#[cfg(target_arch = "wasm32")]
fn register_font() -> Result<()> {
    Err(SimError::Run(
        "report pictures are not drawn in the browser".into(),
    ))
}

#[cfg(not(target_arch = "wasm32"))]
fn register_font() -> Result<()> {
    static DONE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *DONE
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(SimError::Run("the report font could not be loaded".into()))
    }
}

fn draw_err(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::Io {
        path: path.display().to_string(),
        message: format!("drawing: {e}"),
    }
}

/// Encodes an RGB buffer as PNG and writes it atomically.
fn save_png(path: &Path, rgb: Vec<u8>, (w, h): (u32, u32)) -> Result<()> {
    let img = image::RgbImage::from_raw(w, h, rgb)
        .ok_or_else(|| draw_err(path, "buffer size does not match the picture"))?;
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| draw_err(path, e))?;
    write_atomic(path, |w| std::io::Write::write_all(w, &png))
}

/// Draws into a fresh white picture of `size` with `f`, then saves it.
fn picture<F>(path: &Path, size: (u32, u32), f: F) -> Result<()>
where
    F: FnOnce(
        &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    ) -> std::result::Result<(), String>,
{
    register_font()?;
    let mut buf = vec![255u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(path, e))?;
        f(&root).map_err(|e| draw_err(path, e))?;
        root.present().map_err(|e| draw_err(path, e))?;
    }
    save_png(path, buf, size)
}

/// The viridis colour map at t in [0, 1] (clamped), as a plotters colour.
fn viridis(t: f64) -> RGBColor {
    let [r, g, b] = colormap::viridis(t);
    RGBColor(r, g, b)
}

/// A log colour scale: [max / 10^decades, max].
struct LogScale {
    lo: f64,
    hi: f64,
}

impl LogScale {
    fn new(max: f64, decades: f64) -> LogScale {
        let hi = if max > 0.0 && max.is_finite() {
            max
        } else {
            1.0
        };
        LogScale {
            lo: hi / 10f64.powf(decades),
            hi,
        }
    }

    fn t(&self, v: f64) -> f64 {
        if v <= self.lo {
            return 0.0;
        }
        (v / self.lo).ln() / (self.hi / self.lo).ln()
    }
}

fn text(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

/// A vertical colour bar at (x, y) of size (w, h) with labelled decades.
fn colour_bar(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    (x, y, w, h): (i32, i32, i32, i32),
    scale: &LogScale,
    title: &str,
) -> std::result::Result<(), String> {
    for j in 0..h {
        let t = 1.0 - j as f64 / (h - 1).max(1) as f64;
        area.draw(&Rectangle::new(
            [(x, y + j), (x + w, y + j + 1)],
            viridis(t).filled(),
        ))
        .map_err(|e| e.to_string())?;
    }
    area.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        BLACK.stroke_width(1),
    ))
    .map_err(|e| e.to_string())?;
    let decades = (scale.hi / scale.lo).log10();
    let first = scale.lo.log10().ceil() as i32;
    let last = scale.hi.log10().floor() as i32;
    for d in first..=last {
        let v = 10f64.powi(d);
        let t = (v.log10() - scale.lo.log10()) / decades;
        let yy = y + ((1.0 - t) * (h - 1) as f64) as i32;
        area.draw(&PathElement::new(vec![(x + w, yy), (x + w + 5, yy)], BLACK))
            .map_err(|e| e.to_string())?;
        area.draw(&Text::new(
            format!("1e{d}"),
            (x + w + 8, yy - 7),
            text(14.0),
        ))
        .map_err(|e| e.to_string())?;
    }
    area.draw(&Text::new(title.to_string(), (x - 10, y - 24), text(15.0)))
        .map_err(|e| e.to_string())
}

/// Where a slice lies: its centre and two in-plane unit directions (mm), and half-extents.
struct Plane {
    centre: [f64; 3],
    u: [f64; 3],
    v: [f64; 3],
    half: (f64, f64),
}

fn add(a: [f64; 3], b: [f64; 3], s: f64) -> [f64; 3] {
    [a[0] + s * b[0], a[1] + s * b[1], a[2] + s * b[2]]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn unit(a: [f64; 3]) -> Option<[f64; 3]> {
    let n = dot(a, a).sqrt();
    (n > 1e-9).then(|| a.map(|x| x / n))
}

/// The slices through `peak` (mm; where the species is highest): on a heart, the short-axis
/// plane at the peak's level and the long-axis plane that contains the peak; on a box, the xy
/// and xz planes through it.
fn planes(grid: &Grid, anatomy: Option<&HeartAnatomy>, peak: [f64; 3]) -> (Plane, Plane) {
    let [nx, ny, nz] = grid.dims;
    let ext = [nx, ny, nz].map(|n| n as f64 * grid.spacing);
    let mid = [0, 1, 2].map(|i| grid.origin[i] + ext[i] / 2.0);
    let span = ext.iter().fold(0.0f64, |m, &e| m.max(e)) / 2.0;
    match anatomy {
        Some(a) => {
            let f = &a.frame;
            let axis = f.long_axis;
            let base = f.base_centre;
            // The peak's level on the axis, and its direction from the axis.
            let rel = [0, 1, 2].map(|i| peak[i] - base[i]);
            let level = dot(rel, axis);
            let centre = add(base, axis, level);
            let radial = add(rel, axis, -level);
            let u = unit(radial).unwrap_or(f.septum);
            let w = cross(axis, u);
            let length = dot([0, 1, 2].map(|i| base[i] - f.apex[i]), axis).abs();
            let la_centre = add(base, axis, -0.5 * length);
            (
                Plane {
                    centre,
                    u,
                    v: w,
                    half: (span * 0.7, span * 0.7),
                },
                Plane {
                    centre: la_centre,
                    u,
                    v: axis,
                    half: (span * 0.7, length * 0.5 + 12.0),
                },
            )
        }
        None => (
            Plane {
                centre: [mid[0], mid[1], peak[2]],
                u: [1.0, 0.0, 0.0],
                v: [0.0, 1.0, 0.0],
                half: (ext[0] / 2.0, ext[1] / 2.0),
            },
            Plane {
                centre: [mid[0], peak[1], mid[2]],
                u: [1.0, 0.0, 0.0],
                v: [0.0, 0.0, 1.0],
                half: (ext[0] / 2.0, ext[2] / 2.0),
            },
        ),
    }
}

/// Draws one slice of `field` into a `w` × `h` pixel box at (x0, y0), keeping the aspect.
#[allow(clippy::too_many_arguments)]
fn draw_slice(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    grid: &Grid,
    field: &[f32],
    plane: &Plane,
    (x0, y0, w, h): (i32, i32, i32, i32),
    scale: &LogScale,
    title: &str,
) -> std::result::Result<(), String> {
    let mm_per_px = (2.0 * plane.half.0 / w as f64).max(2.0 * plane.half.1 / h as f64);
    let [nx, ny, nz] = grid.dims;
    for j in 0..h {
        for i in 0..w {
            let a = (i as f64 - w as f64 / 2.0) * mm_per_px;
            let b = (h as f64 / 2.0 - j as f64) * mm_per_px;
            let p = add(add(plane.centre, plane.u, a), plane.v, b);
            let idx = [0, 1, 2].map(|k| ((p[k] - grid.origin[k]) / grid.spacing).floor());
            let inside = idx[0] >= 0.0
                && idx[1] >= 0.0
                && idx[2] >= 0.0
                && (idx[0] as usize) < nx
                && (idx[1] as usize) < ny
                && (idx[2] as usize) < nz;
            let colour = if inside {
                let v = grid.index(idx[0] as usize, idx[1] as usize, idx[2] as usize);
                match grid.labels[v] {
                    TissueLabel::Outside => WHITE,
                    TissueLabel::BloodLv | TissueLabel::BloodRv => RGBColor(215, 215, 215),
                    _ => viridis(scale.t(field[v] as f64)),
                }
            } else {
                WHITE
            };
            area.draw_pixel((x0 + i, y0 + j), &colour)
                .map_err(|e| e.to_string())?;
        }
    }
    area.draw(&Rectangle::new(
        [(x0, y0), (x0 + w, y0 + h)],
        BLACK.stroke_width(1),
    ))
    .map_err(|e| e.to_string())?;
    // A 10 mm scale bar.
    let bar = (10.0 / mm_per_px) as i32;
    area.draw(&PathElement::new(
        vec![(x0 + 10, y0 + h - 12), (x0 + 10 + bar, y0 + h - 12)],
        BLACK.stroke_width(3),
    ))
    .map_err(|e| e.to_string())?;
    area.draw(&Text::new("10 mm", (x0 + 10, y0 + h - 32), text(13.0)))
        .map_err(|e| e.to_string())?;
    area.draw(&Text::new(title.to_string(), (x0, y0 - 24), text(16.0)))
        .map_err(|e| e.to_string())
}

/// `slices_<id>.png` for one species.
pub fn slices(
    path: &Path,
    grid: &Grid,
    anatomy: Option<&HeartAnatomy>,
    field: &[f32],
    species: &str,
    time_h: f64,
) -> Result<()> {
    let (peak, tissue_max) = field
        .iter()
        .zip(&grid.labels)
        .enumerate()
        .filter(|(_, (_, l))| l.is_tissue())
        .fold((0usize, 0.0f64), |m, (i, (v, _))| {
            if *v as f64 > m.1 {
                (i, *v as f64)
            } else {
                m
            }
        });
    let scale = LogScale::new(tissue_max, 4.0);
    let c = grid.coords(peak);
    let peak_mm = [0, 1, 2].map(|k| grid.origin[k] + (c[k] as f64 + 0.5) * grid.spacing);
    let (sa, la) = planes(grid, anatomy, peak_mm);
    let (sa_title, la_title) = if anatomy.is_some() {
        ("short axis through the peak", "long axis through the peak")
    } else {
        ("xy plane through the peak", "xz plane through the peak")
    };
    picture(path, SLICE_SIZE, |area| {
        area.draw(&Text::new(
            format!("{species} at t = {time_h:.1} h (ng/mL, log scale)"),
            (20, 12),
            text(20.0),
        ))
        .map_err(|e| e.to_string())?;
        draw_slice(area, grid, field, &sa, (20, 80, 470, 460), &scale, sa_title)?;
        draw_slice(
            area,
            grid,
            field,
            &la,
            (520, 80, 470, 460),
            &scale,
            la_title,
        )?;
        colour_bar(area, (1040, 90, 30, 420), &scale, "ng/mL")
    })
}

/// Which AHA segment a bullseye point at radius r (0..1) and angle θ (rad, 0 = right,
/// counter-clockwise) shows: anterior at the top, septum on the left.
pub fn bullseye_segment(r: f64, theta: f64) -> Option<u8> {
    let deg = theta.to_degrees().rem_euclid(360.0);
    if r > 1.0 {
        return None;
    }
    if r < 0.25 {
        return Some(17);
    }
    if r < 0.5 {
        // Apical: anterior 45–135°, septal 135–225°, inferior 225–315°, lateral 315–45°.
        let k = ((deg - 45.0).rem_euclid(360.0) / 90.0) as u8;
        return Some(13 + k);
    }
    // Basal (outer) and mid rings: six 60° sectors, segment 1/7 anterior at 60–120°, then
    // counter-clockwise through the septum.
    let k = ((deg - 60.0).rem_euclid(360.0) / 60.0) as u8;
    Some(if r >= 0.75 { 1 + k } else { 7 + k })
}

/// `bullseye_auc.png`: one bullseye per species; `values[s][seg - 1]` in ng·h/mL.
/// What a bullseye shows: its title after the species id, the unit of its values, and whether
/// its colour scale is logarithmic (four decades below the largest value) or linear from 0.
#[derive(Clone, Copy, Debug)]
pub struct BullseyeKind<'a> {
    pub title: &'a str,
    pub unit: &'a str,
    pub log: bool,
}

/// The mean exposure per segment (`bullseye_auc.png`).
pub const BULLSEYE_AUC: BullseyeKind<'static> = BullseyeKind {
    title: "mean AUC",
    unit: "ng·h/mL",
    log: true,
};

/// The time-averaged receptor occupancy per segment (`bullseye_occupancy.png`).
pub const BULLSEYE_OCCUPANCY: BullseyeKind<'static> = BullseyeKind {
    title: "occupancy, time mean",
    unit: "of receptors",
    log: false,
};

pub fn bullseye(
    path: &Path,
    species: &[String],
    values: &[Vec<f64>],
    kind: BullseyeKind<'_>,
) -> Result<()> {
    let (pw, ph) = BULLSEYE_PANEL;
    let size = (pw * species.len().max(1) as u32, ph);
    picture(path, size, |area| {
        for (s, id) in species.iter().enumerate() {
            let v = &values[s];
            let max = v.iter().fold(0.0f64, |m, x| m.max(*x));
            let scale = if kind.log {
                LogScale::new(max, 4.0)
            } else {
                LogScale {
                    lo: 0.0,
                    hi: if max > 0.0 { max } else { 1.0 },
                }
            };
            let t = |x: f64| {
                if kind.log {
                    scale.t(x)
                } else {
                    (x / scale.hi).clamp(0.0, 1.0)
                }
            };
            let x0 = s as i32 * pw as i32;
            let (cx, cy, rad) = (x0 + 120, 175, 110.0);
            for j in -110..=110 {
                for i in -110..=110 {
                    let r = ((i * i + j * j) as f64).sqrt() / rad;
                    let theta = (-j as f64).atan2(i as f64);
                    if let Some(seg) = bullseye_segment(r, theta) {
                        let x = v[seg as usize - 1];
                        area.draw_pixel((cx + i, cy + j), &viridis(t(x)))
                            .map_err(|e| e.to_string())?;
                    }
                }
            }
            for ring in [0.25, 0.5, 0.75, 1.0] {
                area.draw(&Circle::new(
                    (cx, cy),
                    (ring * rad) as i32,
                    BLACK.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
            }
            area.draw(&Text::new(
                format!("{id} {}", kind.title),
                (x0 + 20, 20),
                text(17.0),
            ))
            .map_err(|e| e.to_string())?;
            area.draw(&Text::new(
                format!(
                    "{} scale {:.2e} – {:.2e} {}",
                    if kind.log { "log" } else { "linear" },
                    scale.lo,
                    scale.hi,
                    kind.unit
                ),
                (x0 + 20, 300),
                text(13.0),
            ))
            .map_err(|e| e.to_string())?;
            // Colour key: a horizontal strip from min to max.
            for i in 0..200 {
                area.draw(&Rectangle::new(
                    [(x0 + 20 + i, 318), (x0 + 21 + i, 326)],
                    viridis(i as f64 / 199.0).filled(),
                ))
                .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    })
}

/// A line plot of several series against time (h) in one panel.
#[allow(clippy::too_many_arguments)]
fn line_panel(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    title: &str,
    y_label: &str,
    times: &[f64],
    series: &[(String, Vec<f64>)],
) -> std::result::Result<(), String> {
    line_panel_with(area, title, y_label, times, series, &[])
}

/// Colours of the series in a panel, in order.
const SERIES_COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Draws the dashed `levels` (value, colour index), the `series` against `times` (values below
/// `floor` on it) and their legend at `legend` on a chart of either y scale.
macro_rules! draw_lines {
    ($chart:expr, $times:expr, $series:expr, $levels:expr, $t_max:expr, $floor:expr, $legend:expr) => {{
        for &(level, k) in $levels {
            let c = SERIES_COLOURS[k % SERIES_COLOURS.len()];
            $chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, level), ($t_max, level)],
                    8,
                    6,
                    c.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
        }
        for (k, (name, v)) in $series.iter().enumerate() {
            let c = SERIES_COLOURS[k % SERIES_COLOURS.len()];
            $chart
                .draw_series(LineSeries::new(
                    $times
                        .iter()
                        .copied()
                        .zip(v.iter().map(|&y: &f64| y.max($floor))),
                    c.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
        }
        $chart
            .configure_series_labels()
            .position($legend)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(text(13.0))
            .draw()
            .map_err(|e| e.to_string())
    }};
}

/// The largest value of `series` and `levels`, or a tiny one when all are zero.
fn top(series: &[(String, Vec<f64>)], levels: &[(f64, usize)]) -> f64 {
    series
        .iter()
        .flat_map(|(_, v)| v.iter())
        .chain(levels.iter().map(|(l, _)| l))
        .fold(0.0f64, |m, v| m.max(*v))
        .max(1e-12)
}

/// A panel on a log y axis (six decades below the largest value; smaller values sit on the
/// axis) with horizontal dashed lines at `levels` (value, colour index of a series).
fn log_panel(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    title: &str,
    y_label: &str,
    times: &[f64],
    series: &[(String, Vec<f64>)],
    levels: &[(f64, usize)],
) -> std::result::Result<(), String> {
    let t_max = times.iter().fold(1e-9f64, |m, t| m.max(*t));
    let y_max = top(series, levels) * 2.0;
    let y_min = y_max * 1e-6;
    let mut chart = ChartBuilder::on(area)
        .caption(title, text(18.0))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..t_max, (y_min..y_max).log_scale())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("time (h)")
        .y_desc(y_label)
        .label_style(text(13.0))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()
        .map_err(|e| e.to_string())?;
    draw_lines!(
        chart,
        times,
        series,
        levels,
        t_max,
        y_min,
        SeriesLabelPosition::LowerRight
    )
}

/// A line panel with horizontal dashed lines at `levels` (value, colour index of a series).
fn line_panel_with(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    title: &str,
    y_label: &str,
    times: &[f64],
    series: &[(String, Vec<f64>)],
    levels: &[(f64, usize)],
) -> std::result::Result<(), String> {
    let t_max = times.iter().fold(1e-9f64, |m, t| m.max(*t));
    let y_max = top(series, levels) * 1.05;
    let mut chart = ChartBuilder::on(area)
        .caption(title, text(18.0))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..t_max, 0.0..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("time (h)")
        .y_desc(y_label)
        .label_style(text(13.0))
        .y_label_formatter(&|v| format!("{v:.2e}"))
        .draw()
        .map_err(|e| e.to_string())?;
    draw_lines!(
        chart,
        times,
        series,
        levels,
        t_max,
        f64::NEG_INFINITY,
        SeriesLabelPosition::MiddleRight
    )
}

/// `plasma.png`: left, the plasma concentration the cells add, species by species, on a log
/// scale with each species' endogenous baseline dashed in its colour (`baselines`, ng/mL;
/// 0 = none); right, the cells' plasma as a percentage of the baseline (the fold over
/// baseline minus one: 100 % doubles the endogenous level).
pub fn plasma(
    path: &Path,
    times: &[f64],
    series: &[(String, Vec<f64>)],
    baselines: &[f64],
) -> Result<()> {
    picture(path, PLASMA_SIZE, |area| {
        let (left, right) = area.split_horizontally(PLASMA_SIZE.0 / 2);
        let lines: Vec<(f64, usize)> = baselines
            .iter()
            .enumerate()
            .filter(|(_, b)| **b > 0.0)
            .map(|(k, b)| (*b, k))
            .collect();
        log_panel(
            &left,
            "Plasma from the cells (dashed: endogenous baseline)",
            "ng/mL",
            times,
            series,
            &lines,
        )?;
        let shares: Vec<(String, Vec<f64>)> = series
            .iter()
            .zip(baselines)
            .filter(|(_, b)| **b > 0.0)
            .map(|((name, v), b)| (name.clone(), v.iter().map(|c| 100.0 * c / b).collect()))
            .collect();
        line_panel(
            &right,
            "Cells' plasma over the endogenous baseline",
            "% of baseline (fold − 1)",
            times,
            &shares,
        )
    })
}

/// `regional_means.png`: per species, the regions' mean concentrations against time.
pub fn regional_means(path: &Path, times: &[f64], panels: &[(String, Series)]) -> Result<()> {
    picture(path, REGIONAL_SIZE, |area| {
        let cols = 2usize;
        let rows = panels.len().div_ceil(cols).max(1);
        let cells = area.split_evenly((rows, cols));
        for ((species, series), cell) in panels.iter().zip(cells.iter()) {
            line_panel(
                cell,
                &format!("{species}: regional mean"),
                "ng/mL",
                times,
                series,
            )?;
        }
        Ok(())
    })
}
