//! Opening a scenario on its `[view]`: the species, the colour scale and range (the EC50 in
//! view), the camera, and the cut placed through the point the lesson is about.

use glam::DVec3;

use secretome::base::Species;
use secretome::geometry::sites::label_centre;
use secretome::render::camera::OrbitCamera;
use secretome::scenario::{default_range, ColourScale, ViewCamera, ViewCut, ViewPoint, ViewSpec};
use secretome::TissueLabel;

use super::app::{CutMode, ViewerApp};

/// The view the window opens with: the scenario's `[view]`, with the command line's
/// `--species` (the range then follows that species' EC50 unless the file gave one for the
/// same species) and `--cut` (short axis through the first depot, seen from above the base).
pub fn start_view(view: &ViewSpec, species: Option<&Species>, cut: bool) -> ViewSpec {
    let mut v = view.clone();
    if let Some(s) = species.filter(|s| s.id != v.species) {
        v.species = s.id.clone();
        v.range_ng_ml = default_range(s.ec50.value, v.scale);
        v.range_given = false;
    }
    if cut {
        v.cut = ViewCut::ShortAxis;
        v.through = ViewPoint::Depot;
        v.camera = ViewCamera::Base;
    }
    v
}

impl ViewerApp {
    /// Applies a `[view]`: selects the species, sets the colour scale and a fixed range,
    /// turns the camera and places the cut through the view's point.
    pub(super) fn apply_view(&mut self, v: &ViewSpec) {
        if let Some(s) = self.model.table.index_of(&v.species) {
            self.species = s;
        }
        self.colours.log_scale = v.scale == ColourScale::Log;
        self.colours.auto_range = false;
        let [lo, hi] = v.range_ng_ml;
        self.colours.range = (lo, hi);
        if self.colours.log_scale && lo > 0.0 {
            // What "auto range" keeps if the user turns it on.
            self.colours.decades = (hi / lo).log10().clamp(1.0, 6.0);
        }
        self.camera = self.camera_from(v.camera);
        self.cut.mode = match v.cut {
            ViewCut::None => CutMode::None,
            ViewCut::ShortAxis => CutMode::ShortAxis,
            ViewCut::LongAxis => CutMode::LongAxis,
            ViewCut::Camera => CutMode::Camera,
        };
        self.cut.offset = match self.view_point(v.through) {
            Some(p) if self.cut.mode != CutMode::None => self.offset_through(p),
            _ => 0.5,
        };
        self.placing.selected = None;
        self.picture.field_dirty = true;
        self.readouts.bullseye = None;
    }

    /// Where a view's point is in this heart, mm (`None`: a depot asked for where there is
    /// none).
    pub(super) fn view_point(&self, p: ViewPoint) -> Option<DVec3> {
        match p {
            ViewPoint::Depot => self.markers.first().map(|m| m.centre),
            ViewPoint::BorderZone => self
                .heart
                .anatomy
                .as_ref()
                .and_then(|a| label_centre(a, TissueLabel::BorderZone).ok())
                .map(DVec3::from_array),
            ViewPoint::Centre => Some(match &self.heart.anatomy {
                Some(a) => {
                    0.5 * (DVec3::from_array(a.frame.apex) + DVec3::from_array(a.frame.base_centre))
                }
                None => self.heart.scene.bounds().0,
            }),
            ViewPoint::Point(p) => Some(DVec3::from_array(p)),
        }
    }

    /// The plane position (0..1) whose plane passes through `p`, for the current cut and
    /// camera (clamped to the slider's ends). Found from the planes at both ends, so it holds
    /// for however [`ViewerApp::clip_plane`] maps the position.
    pub(super) fn offset_through(&mut self, p: DVec3) -> f64 {
        let keep = self.cut.offset;
        self.cut.offset = 0.0;
        let p0 = self.clip_plane();
        self.cut.offset = 1.0;
        let p1 = self.clip_plane();
        self.cut.offset = keep;
        match (p0, p1) {
            (Some(a), Some(b)) => {
                let span = a.normal.dot(b.point - a.point);
                if span.abs() < 1e-12 {
                    keep
                } else {
                    (a.normal.dot(p - a.point) / span).clamp(0.0, 1.0)
                }
            }
            _ => keep,
        }
    }

    /// A camera looking at the heart's centre from where a view asks, the heart in view.
    pub(super) fn camera_from(&self, c: ViewCamera) -> OrbitCamera {
        let (centre, radius) = self.heart.scene.bounds();
        let (axis, anterior, septum) = self.heart_axes();
        let fov = 30f64.to_radians();
        let fit = 1.05 * radius / (0.5 * fov).tan();
        match c {
            ViewCamera::Default => self.default_camera(),
            // Into a short-axis cut: from above the base, tilted towards the front, close
            // enough that the slice fills the picture.
            ViewCamera::Base => {
                let from = axis + 0.8 * anterior - 0.2 * septum;
                OrbitCamera::looking_from(centre, from, 2.8 * radius, fov)
            }
            ViewCamera::Anterior => {
                OrbitCamera::looking_from(centre, anterior + 0.25 * axis, fit, fov)
            }
            ViewCamera::Lateral => {
                OrbitCamera::looking_from(centre, -septum + 0.25 * axis, fit, fov)
            }
        }
    }

    /// The selected species' EC50, ng/mL.
    pub(super) fn ec50(&self) -> f64 {
        self.model.table.species[self.species].ec50.value
    }

    /// A fixed colour range follows the species and scale: the default around its EC50.
    pub(super) fn range_around_ec50(&mut self) {
        if self.colours.auto_range {
            return;
        }
        let scale = if self.colours.log_scale {
            ColourScale::Log
        } else {
            ColourScale::Linear
        };
        let [lo, hi] = default_range(self.ec50(), scale);
        self.colours.range = (lo, hi);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::{Duration, Instant};

    use super::*;
    use crate::viewer::app::Start;
    use crate::viewer::lessons::LESSONS;
    use secretome::problem::build::build;
    use secretome::scenario::Scenario;
    use secretome::{GpuContext, SpeciesTable};

    const SPACING: f64 = 3.0;

    fn lesson(file: &str) -> Scenario {
        let (_, _, text) = LESSONS.iter().find(|(_, f, _)| *f == file).unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
        let table = SpeciesTable::default_table().unwrap();
        let mut sc = Scenario::parse(text, file, &dir, &table).unwrap();
        sc.grid_spacing_mm = SPACING;
        sc
    }

    /// The window as `secretome view LESSON [--species ID]` opens it, at 3 mm.
    fn window_on(sc: Scenario, species: Option<&str>) -> ViewerApp {
        let built = build(&sc).unwrap();
        let species = species.map(|id| built.problem.species.index_of(id).unwrap());
        let start = Start {
            scenario_text: String::new(),
            scenario: sc,
            path: None,
            built,
            species,
            speed: 0.5,
            start_at_h: None,
            cut: false,
            capture: None,
        };
        ViewerApp::create(GpuContext::new().unwrap(), start).unwrap()
    }

    /// Distance from the cut's plane to a point, mm.
    fn plane_distance(app: &ViewerApp, p: DVec3) -> f64 {
        let c = app.clip_plane().unwrap();
        c.normal.dot(p - c.point).abs()
    }

    /// What a lesson's [view] asks for is what the window shows: species, a fixed colour
    /// range holding the EC50, the cut, the plane through the view's point.
    fn check_view(app: &ViewerApp, file: &str) {
        let v = &app.opened.scenario.view;
        assert_eq!(app.model.table.species[app.species].id, v.species, "{file}");
        let ec50 = app.ec50();
        assert!(!app.colours.auto_range, "{file}: the view's range is kept");
        assert!(
            app.colours.range.0 < ec50 && ec50 < app.colours.range.1,
            "{file}: EC50 {ec50} ng/mL outside the colour range {:?}",
            app.colours.range
        );
        assert!(
            super::super::plots::bar_position(ec50, app.colours.range, app.colours.log_scale)
                .is_some(),
            "{file}: the EC50 is marked on the colour bar"
        );
        let cut = match v.cut {
            ViewCut::None => CutMode::None,
            ViewCut::ShortAxis => CutMode::ShortAxis,
            ViewCut::LongAxis => CutMode::LongAxis,
            ViewCut::Camera => CutMode::Camera,
        };
        assert_eq!(app.cut.mode, cut, "{file}");
        if cut != CutMode::None {
            let p = app
                .view_point(v.through)
                .unwrap_or_else(|| panic!("{file}: no {:?} in this heart", v.through));
            let d = plane_distance(app, p);
            assert!(
                d <= SPACING,
                "{file}: the plane passes {d:.2} mm from {:?} ({p:?})",
                v.through
            );
        }
    }

    /// Opening each lesson from the menu applies its [view]; the intramyocardial lesson opens
    /// cut on the short axis through its depot (the plane within a voxel of the depot's
    /// centre), TSG-6 shown.
    #[test]
    fn each_lesson_opens_on_its_view() {
        let mut app = window_on(lesson("intramyocardial.toml"), None);
        check_view(&app, "intramyocardial.toml (start-up)");
        for (_, file, _) in LESSONS {
            let sc = lesson(file);
            let name = sc.name.clone();
            // Another view first, so that the lesson's has to be applied.
            app.cut.mode = CutMode::None;
            app.colours.auto_range = true;
            app.open(sc, None);
            let start = Instant::now();
            // Installed: the status bar names the lesson and its grid.
            while !app
                .menus
                .message
                .as_ref()
                .is_some_and(|(m, _)| m.starts_with(&format!("{name}: ")))
            {
                assert!(
                    start.elapsed() < Duration::from_secs(300)
                        && !app.menus.message.as_ref().is_some_and(|m| m.1),
                    "{file}: not opened: {:?}",
                    app.menus.message
                );
                std::thread::sleep(Duration::from_millis(20));
                app.poll_rebuild();
            }
            check_view(&app, file);
            if *file == "intramyocardial.toml" {
                assert_eq!(app.model.table.species[app.species].id, "TSG6");
                assert_eq!(app.cut.mode, CutMode::ShortAxis);
                assert_eq!(app.opened.scenario.view.through, ViewPoint::Depot);
                let depot = app.markers[0].centre;
                let d = plane_distance(&app, depot);
                assert!(d <= SPACING, "{d} mm from the depot's centre");
            }
        }
    }

    /// `--species` replaces the view's species and its range follows that species' EC50;
    /// `--cut` cuts through the first depot on the short axis.
    #[test]
    fn the_command_line_overrides_the_view() {
        let sc = lesson("endocrine_iv.toml");
        assert_eq!(sc.view.cut, ViewCut::None);
        let table = SpeciesTable::default_table().unwrap();
        let hgf = &table.species[table.index_of("HGF").unwrap()];
        let v = start_view(&sc.view, Some(hgf), true);
        assert_eq!(v.species, "HGF");
        assert_eq!(v.range_ng_ml, default_range(hgf.ec50.value, v.scale));
        assert_eq!((v.cut, v.through), (ViewCut::ShortAxis, ViewPoint::Depot));

        let app = window_on(lesson("paracrine_remote.toml"), Some("VEGF"));
        assert_eq!(app.model.table.species[app.species].id, "VEGF");
        let ec50 = app.ec50();
        assert!(
            app.colours.range.0 < ec50 && ec50 < app.colours.range.1,
            "{:?}",
            app.colours.range
        );
    }
}
