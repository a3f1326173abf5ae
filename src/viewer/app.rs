//! The viewer's window: state, frame loop and panels.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use eframe::egui::{self, Color32, Pos2, Rect, Sense, Stroke, Vec2};
use glam::DVec3;

use secretome::geometry::infarct::{InfarctSpec, Territory};
use secretome::geometry::HeartAnatomy;
use secretome::problem::build::{build, Built};
use secretome::render::camera::OrbitCamera;
use secretome::render::{ClipPlane, HeartRenderer, Scene, ViewStyle, CPU_TRIANGLE_BUDGET};
use secretome::scenario::Scenario;
use secretome::session::{PlacedDepot, Session};
use secretome::sim::{PendingSnapshot, Region, Snapshot};
use secretome::{GpuContext, SpeciesTable, Terms};

use super::bullseye::BullseyeMode;
use super::plots::{History, PlasmaView, RegionView};
use super::CaptureResult;

/// What the window opens with (all validated before it opens).
pub struct Start {
    pub scenario: Scenario,
    /// The scenario file's text (kept when the state is saved as a scenario).
    pub scenario_text: String,
    pub path: Option<PathBuf>,
    pub built: Built,
    /// `--species`: replaces the scenario's `[view]` species.
    pub species: Option<usize>,
    pub speed: f64,
    pub start_at_h: Option<f64>,
    /// `--cut`: replaces the `[view]`'s cut by the short axis through the first depot.
    pub cut: bool,
    /// --screenshot: the file, the frames before it, where the outcome goes.
    pub capture: Option<(PathBuf, u32, CaptureResult)>,
}

/// A depot as the window shows it: where, how big, how many cells it started with.
#[derive(Clone, Debug)]
pub struct Marker {
    pub name: String,
    pub centre: DVec3,
    pub radius_mm: f64,
    pub initial_cells: f64,
    /// Placed in the window (rather than by the scenario).
    pub placed: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CutMode {
    None,
    ShortAxis,
    LongAxis,
    Camera,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PlaceRoute {
    Intramyocardial,
    Transendocardial,
}

impl PlaceRoute {
    fn name(self) -> &'static str {
        match self {
            PlaceRoute::Intramyocardial => "intramyocardial",
            PlaceRoute::Transendocardial => "transendocardial",
        }
    }
}

/// Fraction of delivered cells retained at ~1 h by both needle routes (MODEL.md §3).
pub const RETAINED: f64 = 0.15;

/// A screenshot on its way: after `frames_left` frames the window is captured and saved;
/// a headless capture (`--screenshot`) then closes the window.
pub struct Capture {
    path: PathBuf,
    frames_left: u32,
    requested: bool,
    /// Where a headless capture reports; `None` for the menu's screenshots.
    result: Option<CaptureResult>,
    image: Arc<std::sync::Mutex<Option<Arc<egui::ColorImage>>>>,
}

/// What a hover pick depends on: the pointer, the camera and the cut.
type HoverKey = (Pos2, OrbitCamera, CutMode, f64);

/// A geometry being rebuilt off the frame loop.
type Rebuild = JoinHandle<std::result::Result<(Scenario, Built, Scene), String>>;

pub struct ViewerApp {
    pub(super) ctx: GpuContext,
    pub(super) scenario: Scenario,
    pub(super) scenario_text: String,
    /// The species as the scenario gave them (the sliders edit `table`).
    pub(super) loaded_table: SpeciesTable,
    pub(super) path: Option<PathBuf>,
    pub(super) anatomy: Option<HeartAnatomy>,
    pub(super) session: Session,
    pub(super) scene: Scene,
    renderer: HeartRenderer,
    texture: Option<(egui::TextureId, [u32; 2])>,
    pub(super) camera: OrbitCamera,
    pub(super) markers: Vec<Marker>,
    pub(super) species: usize,
    /// Species table as edited by the sliders (secretion included).
    pub(super) table: SpeciesTable,
    pub(super) terms: Terms,
    pub(super) autocrine: bool,
    // Controls.
    pub(super) playing: bool,
    pub(super) speed_h_per_s: f64,
    pub(super) log_scale: bool,
    pub(super) decades: f64,
    pub(super) auto_range: bool,
    pub(super) range: (f64, f64),
    pub(super) cut: CutMode,
    pub(super) cut_offset: f64,
    pub(super) outlines: bool,
    pub(super) place_mode: bool,
    pub(super) place_route: PlaceRoute,
    pub(super) place_dose: f64,
    pub(super) place_radius: f64,
    pub(super) selected: Option<usize>,
    dragging: Option<usize>,
    // Geometry edits (applied by re-voxelising).
    pub(super) spacing: f64,
    pub(super) territory: Option<Territory>,
    pub(super) transmural: f64,
    pub(super) border_zone: f64,
    /// The geometry being rebuilt, and whether depots placed here are placed again.
    rebuild: Option<(Rebuild, bool)>,
    // Live readouts.
    pending: Option<PendingSnapshot>,
    last_request: Instant,
    /// The step count of the state the last snapshot was asked for; `None` after steering.
    snapshot_of: Option<u64>,
    pub(super) snapshot: Option<Snapshot>,
    pub(super) history: History,
    pub(super) bullseye: Option<egui::TextureHandle>,
    pub(super) bullseye_mode: BullseyeMode,
    pub(super) plasma_view: PlasmaView,
    pub(super) region_view: RegionView,
    // Pacing and timing.
    submitted: u64,
    completed: Arc<AtomicU64>,
    carry: f64,
    /// Most steps queued on the GPU at once (adapted to the frame time).
    max_steps: f64,
    last_frame: Instant,
    pub(super) frame_ms: f64,
    pub(super) steps_per_s: f64,
    rate_window: (Instant, u64),
    pub(super) field_dirty: bool,
    field_version: u64,
    last_render: Option<(OrbitCamera, ViewStyle, [u32; 2], u64)>,
    /// The last hover pick: (pointer, camera, cut) and its hit.
    hover: Option<(HoverKey, Option<DVec3>)>,
    /// Resolution of the 3D picture relative to the screen's.
    pub(super) render_scale: f32,
    // Menus and messages.
    pub(super) message: Option<(String, bool)>,
    pub(super) lesson: Option<(String, String)>,
    pub(super) file_dialog: Option<super::save::FileDialog>,
    capture: Option<Capture>,
}

impl ViewerApp {
    pub fn new(cc: &eframe::CreationContext<'_>, start: Start) -> Result<ViewerApp> {
        let rs = cc
            .wgpu_render_state
            .as_ref()
            .ok_or_else(|| anyhow!("the window has no wgpu renderer"))?;
        let ctx = GpuContext::from_device(rs.adapter.clone(), rs.device.clone(), rs.queue.clone());
        cc.egui_ctx.set_visuals(egui::Visuals::dark());
        Self::create(ctx, start)
    }

    /// The window's state on a device (the window's, or any: the tests drive it without one).
    pub fn create(ctx: GpuContext, start: Start) -> Result<ViewerApp> {
        let Start {
            scenario,
            scenario_text,
            path,
            built,
            species,
            speed,
            start_at_h,
            cut,
            capture,
        } = start;
        let mut session = Session::new(&ctx, &built).context("starting the simulation")?;
        let mut history = History::default();
        if let Some(h) = start_at_h {
            // The plots still start at t = 0: about 60 samples on the way (each a pass over
            // the grid), as the window would have taken them.
            let steps = (h * 3600.0 / built.problem.dt).round() as u64;
            let every = steps.div_ceil(60).max(1);
            let mut done = 0;
            loop {
                let s = snapshot_now(&ctx, &session)?;
                history.push(&s, &markers_of(&session, &built), session.simulation());
                if done >= steps {
                    break;
                }
                let n = every.min(steps - done);
                session.advance(n)?;
                done += n;
            }
        }
        let scene = scene_for(&built, ctx.is_cpu());
        let renderer = HeartRenderer::new(&ctx, &built.problem.grid, &scene)?;
        let markers = markers_of(&session, &built);
        let (territory, transmural, border_zone) = infarct_of(&scenario);
        let camera = default_camera(&scene, built.anatomy.as_ref());
        let completed = Arc::new(AtomicU64::new(session.simulation().steps_taken()));
        let view = super::view_spec::start_view(
            &scenario.view,
            species.and_then(|s| built.problem.species.species.get(s)),
            cut,
        );
        let mut app = ViewerApp {
            scenario_text,
            loaded_table: built.problem.species.clone(),
            table: built.problem.species.clone(),
            terms: built.problem.terms,
            autocrine: built.problem.autocrine.enabled,
            spacing: scenario.grid_spacing_mm,
            territory,
            transmural,
            border_zone,
            anatomy: built.anatomy.clone(),
            ctx,
            path,
            session,
            scene,
            renderer,
            texture: None,
            camera,
            markers,
            species: 0,
            playing: true,
            speed_h_per_s: speed,
            log_scale: true,
            decades: 3.0,
            auto_range: true,
            range: (1e-3, 1.0),
            cut: CutMode::None,
            cut_offset: 0.5,
            outlines: true,
            place_mode: false,
            place_route: PlaceRoute::Intramyocardial,
            place_dose: 2e7,
            place_radius: 2.0,
            selected: None,
            dragging: None,
            rebuild: None,
            pending: None,
            last_request: Instant::now(),
            snapshot_of: None,
            snapshot: None,
            history,
            bullseye: None,
            bullseye_mode: BullseyeMode::Auc,
            plasma_view: PlasmaView::Log,
            region_view: RegionView::Concentration,
            submitted: 0,
            completed,
            carry: 0.0,
            max_steps: 2.0,
            last_frame: Instant::now(),
            frame_ms: 0.0,
            steps_per_s: 0.0,
            rate_window: (Instant::now(), 0),
            field_dirty: true,
            field_version: 0,
            last_render: None,
            hover: None,
            render_scale: 1.0,
            message: None,
            lesson: None,
            file_dialog: None,
            capture: capture.map(|(path, frames, result)| Capture {
                path,
                frames_left: frames,
                requested: false,
                result: Some(result),
                image: Default::default(),
            }),
            scenario,
        };
        app.apply_view(&view);
        if app.ctx.is_cpu() && app.capture.is_none() {
            app.render_scale = 0.5;
        }
        app.submitted = app.session.simulation().steps_taken();
        app.rate_window.1 = app.submitted;
        app.lesson = Some((app.scenario.name.clone(), app.scenario.description.clone()));
        Ok(app)
    }

    pub(super) fn dt(&self) -> f64 {
        self.session.problem().dt
    }

    pub(super) fn time_h(&self) -> f64 {
        self.session.simulation().time() / 3600.0
    }

    /// Shows a one-line message in the status bar (an error in red).
    pub(super) fn say(&mut self, text: impl Into<String>, error: bool) {
        self.message = Some((text.into(), error));
    }

    /// The result of a steering action: an error goes to the status bar.
    pub(super) fn report<T>(&mut self, r: secretome::Result<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.say(e.to_string(), true);
                None
            }
        }
    }

    /// Forgets a snapshot in flight (its depot list may no longer be the current one).
    pub(super) fn steered(&mut self) {
        self.pending = None;
        self.snapshot_of = None;
        self.field_dirty = true;
    }

    // ---------------------------------------------------------------------------------
    // Simulation pacing
    // ---------------------------------------------------------------------------------

    /// Submits the steps this frame's share of the speed asks for, at most `max_steps` queued:
    /// that bound grows while frames are quicker than the target (18 ms on a GPU, 200 ms
    /// through a CPU driver) and shrinks when they are slower, so that the simulation takes
    /// what the window can spare and the window stays responsive.
    fn simulate(&mut self, wall_dt: f64) {
        let done = self.completed.load(Ordering::Relaxed);
        let now = Instant::now();
        let span = now.duration_since(self.rate_window.0).as_secs_f64();
        if span >= 1.0 {
            let rate = (done.saturating_sub(self.rate_window.1)) as f64 / span;
            self.steps_per_s = if self.playing || rate > 0.0 {
                rate
            } else {
                0.0
            };
            self.rate_window = (now, done);
        }
        if !self.playing {
            self.carry = 0.0;
            return;
        }
        let target_ms = if self.ctx.is_cpu() { 200.0 } else { 18.0 };
        if self.frame_ms > 1.3 * target_ms {
            self.max_steps = (self.max_steps * 0.8).max(1.0);
        } else if self.frame_ms < target_ms {
            self.max_steps = (self.max_steps + 1.0).min(4096.0);
        }
        let want = self.speed_h_per_s * 3600.0 * wall_dt.min(0.5) / self.dt() + self.carry;
        let in_flight = self.submitted.saturating_sub(done) as f64;
        let room = (self.max_steps.floor() - in_flight).max(0.0);
        let n = want.floor().min(room);
        // What could not be submitted is dropped, not owed: the speed is a ceiling.
        self.carry = if n < want.floor() { 0.0 } else { want - n };
        if n >= 1.0 {
            self.step(n as u64);
        }
    }

    /// Advances `n` steps now (also the Step button).
    pub(super) fn step(&mut self, n: u64) {
        let r = self.session.advance(n);
        self.report(r);
        self.submitted = self.session.simulation().steps_taken();
        let target = self.submitted;
        let completed = self.completed.clone();
        self.ctx.queue.on_submitted_work_done(move || {
            completed.fetch_max(target, Ordering::Relaxed);
        });
        self.field_dirty = true;
    }

    /// Collects a finished snapshot and asks for the next (about two a second: the regional
    /// reduction is a pass over the whole grid).
    fn poll_snapshot(&mut self) {
        if let Some(p) = &self.pending {
            match self.session.simulation().take_snapshot(p) {
                None => {}
                Some(Ok(s)) => {
                    self.pending = None;
                    self.history
                        .push(&s, &self.markers, self.session.simulation());
                    self.snapshot = Some(s);
                    self.bullseye = None;
                    self.update_range();
                }
                Some(Err(e)) => {
                    self.pending = None;
                    self.say(e.to_string(), true);
                }
            }
        }
        // Paused and unchanged since the last one: nothing to ask for, so the window can idle.
        let steps = self.session.simulation().steps_taken();
        if self.pending.is_none()
            && self.snapshot_of != Some(steps)
            && self.last_request.elapsed().as_secs_f64() > 0.5
        {
            self.pending = Some(self.session.simulation().request_snapshot());
            self.snapshot_of = Some(steps);
            self.last_request = Instant::now();
        }
    }

    fn update_range(&mut self) {
        if !self.auto_range {
            return;
        }
        let Some(s) = &self.snapshot else { return };
        let max = s
            .regions
            .iter()
            .filter(|r| matches!(r.region, Region::Label(l) if l.is_tissue()))
            .map(|r| r.species[self.species].max)
            .fold(0.0f64, f64::max);
        let hi = if max > 0.0 && max.is_finite() {
            max
        } else {
            1e-3
        };
        let lo = if self.log_scale {
            hi / 10f64.powf(self.decades)
        } else {
            0.0
        };
        self.range = (lo, hi);
    }

    pub(super) fn set_species(&mut self, s: usize) {
        self.species = s;
        self.field_dirty = true;
        self.bullseye = None;
        self.update_range();
        self.range_around_ec50();
    }

    // ---------------------------------------------------------------------------------
    // Steering
    // ---------------------------------------------------------------------------------

    pub(super) fn live_cells(&self, i: usize) -> f64 {
        self.snapshot
            .as_ref()
            .and_then(|s| s.depot_cells.get(i).copied())
            .unwrap_or(self.markers.get(i).map_or(0.0, |m| m.initial_cells))
    }

    pub(super) fn place_at(&mut self, p: DVec3) {
        let n = self.markers.iter().filter(|m| m.placed).count() + 1;
        let cells = self.place_dose * RETAINED;
        let d = PlacedDepot {
            name: format!("{} {n}", self.place_route.name()),
            at: p.to_array(),
            radius_mm: self.place_radius,
            cells,
        };
        if let Some(i) = {
            let r = self.session.place_depot(&d);
            self.report(r)
        } {
            self.markers.push(Marker {
                name: d.name.clone(),
                centre: p,
                radius_mm: d.radius_mm,
                initial_cells: cells,
                placed: true,
            });
            self.selected = Some(i);
            self.steered();
            self.say(
                format!(
                    "placed {} at ({:.1}, {:.1}, {:.1}) mm: {:.2e} cells ({:.0} % of {:.2e})",
                    d.name,
                    p.x,
                    p.y,
                    p.z,
                    cells,
                    RETAINED * 100.0,
                    self.place_dose
                ),
                false,
            );
        }
    }

    pub(super) fn move_depot(&mut self, i: usize, p: DVec3, radius: f64) {
        let r = self.session.move_depot(i, p.to_array(), radius);
        if self.report(r).is_some() {
            self.markers[i].centre = p;
            self.markers[i].radius_mm = radius;
            self.steered();
        }
    }

    pub(super) fn delete_depot(&mut self, i: usize) {
        let r = self.session.delete_depot(i);
        if self.report(r).is_some() {
            let m = self.markers.remove(i);
            self.selected = None;
            self.steered();
            self.say(format!("deleted {}", m.name), false);
        }
    }

    pub(super) fn set_cells(&mut self, i: usize, cells: f64) {
        let r = self.session.set_cells(i, cells);
        if self.report(r).is_some() {
            self.steered();
        }
    }

    pub(super) fn apply_terms(&mut self) {
        let terms = self.terms;
        let r = self.session.simulation_mut().set_terms(terms);
        self.report(r);
    }

    pub(super) fn apply_autocrine(&mut self) {
        let mut a = self.session.simulation().problem().autocrine.clone();
        a.enabled = self.autocrine;
        let r = self.session.simulation_mut().set_autocrine(&a);
        if self.report(r).is_some() {
            self.steered();
        }
    }

    pub(super) fn apply_species(&mut self) {
        let table = self.table.clone();
        let r = self.session.set_species(&table);
        self.report(r);
    }

    pub(super) fn apply_secretion(&mut self, s: usize) {
        let v = self.table.species[s].secretion.value;
        let r = self.session.set_secretion(s, v);
        if self.report(r).is_some() {
            self.steered();
        }
    }

    /// Back to the scenario's start; depots placed in the window are placed again.
    pub(super) fn reset(&mut self) {
        let built = match build(&self.scenario) {
            Ok(b) => b,
            Err(e) => return self.say(e.to_string(), true),
        };
        let scene = scene_for(&built, self.ctx.is_cpu());
        self.install(self.scenario.clone(), built, scene, true);
    }

    /// Loads another scenario (a lesson, a file).
    pub(super) fn open(&mut self, scenario: Scenario, path: Option<PathBuf>) {
        let (t, f, b) = infarct_of(&scenario);
        self.territory = t;
        self.transmural = f;
        self.border_zone = b;
        self.spacing = scenario.grid_spacing_mm;
        self.lesson = Some((scenario.name.clone(), scenario.description.clone()));
        self.path = path;
        self.start_rebuild(scenario, false);
    }

    /// Rebuilds the geometry with the window's spacing and infarct, off the frame loop.
    pub(super) fn revoxelise(&mut self) {
        let mut sc = self.scenario.clone();
        sc.grid_spacing_mm = self.spacing;
        if matches!(sc.geometry, secretome::scenario::GeometrySpec::Box { .. }) {
            sc.infarcts.clear();
        } else {
            sc.infarcts = self
                .territory
                .map(|t| InfarctSpec::territory(t, self.transmural, self.border_zone))
                .into_iter()
                .collect();
        }
        self.start_rebuild(sc, true);
    }

    fn start_rebuild(&mut self, sc: Scenario, keep_placed: bool) {
        if self.rebuild.is_some() {
            return self.say("a geometry is already being built", true);
        }
        self.say(
            format!("building {} at {} mm…", sc.name, sc.grid_spacing_mm),
            false,
        );
        let cpu = self.ctx.is_cpu();
        let handle = std::thread::spawn(move || {
            let built = build(&sc).map_err(|e| e.to_string())?;
            let scene = scene_for(&built, cpu);
            Ok((sc, built, scene))
        });
        self.rebuild = Some((handle, keep_placed));
    }

    pub(super) fn poll_rebuild(&mut self) {
        if !self.rebuild.as_ref().is_some_and(|(h, _)| h.is_finished()) {
            return;
        }
        let Some((handle, keep)) = self.rebuild.take() else {
            return;
        };
        match handle.join() {
            Ok(Ok((sc, built, scene))) => self.install(sc, built, scene, keep),
            Ok(Err(e)) => self.say(e, true),
            Err(_) => self.say("building the geometry failed", true),
        }
    }

    /// Starts a new session on `built`; with `keep_placed`, the depots placed in the window
    /// are placed again (those that land outside the tissue are reported and dropped).
    fn install(&mut self, sc: Scenario, built: Built, scene: Scene, keep_placed: bool) {
        let mut session = match Session::new(&self.ctx, &built) {
            Ok(s) => s,
            Err(e) => return self.say(e.to_string(), true),
        };
        let renderer = match HeartRenderer::new(&self.ctx, &built.problem.grid, &scene) {
            Ok(r) => r,
            Err(e) => return self.say(e.to_string(), true),
        };
        let mut markers = markers_of(&session, &built);
        let mut dropped = Vec::new();
        if keep_placed {
            for m in self.markers.iter().filter(|m| m.placed) {
                let d = PlacedDepot {
                    name: m.name.clone(),
                    at: m.centre.to_array(),
                    radius_mm: m.radius_mm,
                    cells: m.initial_cells,
                };
                match session.place_depot(&d) {
                    Ok(_) => markers.push(m.clone()),
                    Err(_) => dropped.push(m.name.clone()),
                }
            }
        }
        let same_grid = self.session.problem().grid.dims == built.problem.grid.dims
            && self.session.problem().grid.spacing == built.problem.grid.spacing;
        if !same_grid || !keep_placed {
            self.camera = default_camera(&scene, built.anatomy.as_ref());
        }
        // A new session starts from the scenario's parameters.
        self.table = built.problem.species.clone();
        self.loaded_table = built.problem.species.clone();
        self.terms = built.problem.terms;
        self.autocrine = built.problem.autocrine.enabled;
        self.anatomy = built.anatomy.clone();
        self.session = session;
        self.scene = scene;
        self.renderer = renderer;
        // The egui texture id is kept; the new renderer's picture replaces its contents.
        self.texture = self.texture.map(|(id, _)| (id, [0, 0]));
        self.last_render = None;
        self.markers = markers;
        self.selected = None;
        self.snapshot = None;
        self.pending = None;
        self.snapshot_of = None;
        self.history = History::default();
        self.bullseye = None;
        self.submitted = self.session.simulation().steps_taken();
        self.completed.store(self.submitted, Ordering::Relaxed);
        self.rate_window = (Instant::now(), self.submitted);
        self.field_dirty = true;
        if self.species >= self.table.species.len() {
            self.species = 0;
        }
        let [nx, ny, nz] = built.problem.grid.dims;
        self.say(
            if dropped.is_empty() {
                format!(
                    "{}: {nx}×{ny}×{nz} voxels at {} mm",
                    sc.name, sc.grid_spacing_mm
                )
            } else {
                format!(
                    "{}: {nx}×{ny}×{nz} voxels; outside the tissue now, dropped: {}",
                    sc.name,
                    dropped.join(", ")
                )
            },
            !dropped.is_empty(),
        );
        self.scenario = sc;
        if !keep_placed {
            // A scenario opened (not reset or re-voxelised): its [view].
            let view = self.scenario.view.clone();
            self.apply_view(&view);
        }
    }

    // ---------------------------------------------------------------------------------
    // The 3D view
    // ---------------------------------------------------------------------------------

    pub(super) fn clip_plane(&self) -> Option<ClipPlane> {
        let (centre, radius) = self.scene.bounds();
        let (axis, base, apex) = match &self.anatomy {
            Some(a) => (
                DVec3::from_array(a.frame.long_axis),
                DVec3::from_array(a.frame.base_centre),
                DVec3::from_array(a.frame.apex),
            ),
            None => (
                DVec3::Z,
                centre + radius * DVec3::Z,
                centre - radius * DVec3::Z,
            ),
        };
        match self.cut {
            CutMode::None => None,
            CutMode::ShortAxis => Some(ClipPlane {
                point: apex + (base - apex) * self.cut_offset,
                normal: axis,
            }),
            CutMode::LongAxis => {
                let n = match &self.anatomy {
                    Some(a) => DVec3::from_array(a.frame.anterior()),
                    None => DVec3::Y,
                };
                let mid = 0.5 * (base + apex);
                Some(ClipPlane {
                    point: mid + n * (2.0 * self.cut_offset - 1.0) * radius,
                    normal: n,
                })
            }
            CutMode::Camera => {
                let n = (self.camera.eye() - self.camera.target).normalize_or(DVec3::X);
                Some(ClipPlane {
                    point: self.camera.target + n * (2.0 * self.cut_offset - 1.0) * radius,
                    normal: n,
                })
            }
        }
    }

    pub(super) fn default_camera(&self) -> OrbitCamera {
        default_camera(&self.scene, self.anatomy.as_ref())
    }

    /// The heart's long axis, anterior and septal directions (the grid's z, y, x for a box).
    pub(super) fn heart_axes(&self) -> (DVec3, DVec3, DVec3) {
        match &self.anatomy {
            Some(a) => (
                DVec3::from_array(a.frame.long_axis),
                DVec3::from_array(a.frame.anterior()),
                DVec3::from_array(a.frame.septum),
            ),
            None => (DVec3::Z, DVec3::Y, DVec3::X),
        }
    }

    /// Standard views: short axis (from the base), long axis (from the side), anterior.
    pub(super) fn standard_view(&mut self, which: &str) {
        let (centre, radius) = self.scene.bounds();
        let (axis, anterior, septum) = self.heart_axes();
        let from = match which {
            "short" => axis + 0.02 * anterior,
            "long" => -septum,
            _ => anterior,
        };
        let fov = 30f64.to_radians();
        self.camera = OrbitCamera::looking_from(centre, from, fit_distance(radius, fov), fov);
    }

    /// Brings the 3D picture (`size` pixels) up to date: the field copied from the solver
    /// after steps, the picture drawn again when anything it shows has changed. Returns
    /// whether it was drawn.
    fn update_picture(&mut self, size: [u32; 2]) -> bool {
        if self.field_dirty {
            self.renderer
                .update_field(self.session.simulation(), self.species);
            self.field_dirty = false;
            self.field_version += 1;
        }
        let style = ViewStyle {
            lo: self.range.0,
            hi: self.range.1,
            log: self.log_scale,
            clip: self.clip_plane(),
            outlines: self.outlines,
            background: [0.07, 0.08, 0.10],
        };
        let key = (self.camera, style, size, self.field_version);
        if self.last_render.as_ref() == Some(&key) {
            return false;
        }
        self.renderer.render(size, &self.camera, &style);
        self.last_render = Some(key);
        true
    }

    /// Starts a frame: the wall time since the last one, s (also smoothed into `frame_ms`,
    /// which the status bar shows and the pacing reads).
    fn next_frame(&mut self) -> f64 {
        let now = Instant::now();
        let wall_dt = now.duration_since(self.last_frame).as_secs_f64();
        self.last_frame = now;
        self.frame_ms = if self.frame_ms == 0.0 {
            wall_dt * 1e3
        } else {
            0.9 * self.frame_ms + 0.1 * wall_dt * 1e3
        };
        wall_dt
    }

    /// The window's frame loop without the window (`view --bench`): each frame polls the
    /// snapshot, queues the steps the pacing allows, turns the camera a little (as a user
    /// dragging it would, so the picture is drawn every frame) and draws the picture at
    /// `size` pixels, then waits for the GPU as presenting a frame would. egui's own drawing
    /// is not included. Returns the figures as one line.
    pub fn bench_frames(&mut self, frames: u32, size: [u32; 2]) -> Result<String> {
        self.render_scale = 1.0;
        self.ctx.wait()?;
        let sim_t0 = self.session.simulation().time();
        let steps0 = self.session.simulation().steps_taken();
        let start = Instant::now();
        self.last_frame = start;
        let mut slowest: f64 = 0.0;
        for _ in 0..frames {
            let wall_dt = self.next_frame();
            slowest = slowest.max(wall_dt);
            self.poll_snapshot();
            self.simulate(wall_dt);
            self.camera.orbit(0.01, 0.0);
            self.update_picture(size);
            self.ctx.wait()?;
        }
        let wall = start.elapsed().as_secs_f64();
        let sim = self.session.simulation();
        let steps = sim.steps_taken() - steps0;
        let [nx, ny, nz] = self.session.problem().grid.dims;
        Ok(format!(
            "{} · {nx}×{ny}×{nz} voxels at {} mm · picture {}×{} · {frames} frames in {wall:.2} s: \
             {:.1} frames/s (mean {:.2} ms, slowest {:.1} ms) · {steps} steps, {:.1} steps/s, \
             {:.3} simulated h per s",
            self.ctx.report.name,
            self.session.problem().grid.spacing,
            size[0],
            size[1],
            frames as f64 / wall,
            wall * 1e3 / frames as f64,
            slowest * 1e3,
            steps as f64 / wall,
            (sim.time() - sim_t0) / 3600.0 / wall,
        ))
    }

    fn view_3d(&mut self, ui: &mut egui::Ui, frame: &eframe::Frame) {
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        // On a CPU adapter the picture is drawn at half resolution while interactive.
        let ppp = ui.ctx().pixels_per_point() * self.render_scale;
        let size = [
            (rect.width() * ppp).round().max(1.0) as u32,
            (rect.height() * ppp).round().max(1.0) as u32,
        ];
        let (w, h) = (rect.width() as f64, rect.height() as f64);
        if self.update_picture(size) || self.texture.is_none() {
            let view = self.renderer.picture();
            if let (Some(rs), Some(view)) = (frame.wgpu_render_state(), view) {
                let mut r = rs.renderer.write();
                match self.texture {
                    Some((_, s)) if s == size => {}
                    Some((id, _)) => {
                        r.update_egui_texture_from_wgpu_texture(
                            &rs.device,
                            view,
                            wgpu::FilterMode::Linear,
                            id,
                        );
                        self.texture = Some((id, size));
                    }
                    None => {
                        let id =
                            r.register_native_texture(&rs.device, view, wgpu::FilterMode::Linear);
                        self.texture = Some((id, size));
                    }
                }
            }
        }
        let painter = ui.painter_at(rect);
        if let Some((id, _)) = self.texture {
            painter.image(
                id,
                rect,
                Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                Color32::WHITE,
            );
        }

        // Depot markers: circles sized by the live cells.
        let to_screen = |p: DVec3| -> Option<(Pos2, f64)> {
            let (x, y, depth) = self.camera.project(p, w, h)?;
            Some((rect.min + Vec2::new(x as f32, y as f32), depth))
        };
        let px_per_mm = self.camera.pixels_per_mm(h);
        let mut screen: Vec<Option<(Pos2, f32)>> = Vec::new();
        for (i, m) in self.markers.iter().enumerate() {
            let live = self.live_cells(i);
            let scale = if m.initial_cells > 0.0 {
                (live / m.initial_cells).cbrt().clamp(0.25, 2.0)
            } else {
                0.25
            };
            let s = to_screen(m.centre).map(|(pos, _)| {
                let r = (m.radius_mm * scale * px_per_mm).max(4.0) as f32;
                (pos, r)
            });
            if let Some((pos, r)) = s {
                let selected = self.selected == Some(i);
                // A depot spread over a territory is outlined only: filled, it would hide the
                // field it makes.
                let fill = if m.radius_mm > 6.0 { 0 } else { 70 };
                painter.circle(
                    pos,
                    r,
                    Color32::from_rgba_unmultiplied(255, 90, 200, fill),
                    Stroke::new(
                        if selected { 3.0 } else { 1.5 },
                        if selected {
                            Color32::YELLOW
                        } else {
                            Color32::from_rgb(255, 120, 220)
                        },
                    ),
                );
                // With many depots only the selected one is named (the list names them all).
                if self.markers.len() <= 3 || selected {
                    painter.text(
                        pos + Vec2::new(r + 4.0, -r),
                        egui::Align2::LEFT_BOTTOM,
                        format!("{} · {:.2e} cells", m.name, live),
                        egui::FontId::proportional(12.0),
                        Color32::WHITE,
                    );
                }
            }
            screen.push(s);
        }
        if self.dragging.is_some() {
            if let Some(p) = response.hover_pos().or(response.interact_pointer_pos()) {
                painter.circle_stroke(p, 8.0, Stroke::new(2.0, Color32::YELLOW));
            }
        }
        let marker_at = |p: Pos2| -> Option<usize> {
            screen
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.map(|(c, r)| (i, c.distance(p), r)))
                .filter(|&(_, d, r)| d <= r.max(8.0))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _, _)| i)
        };
        let pick = |app: &Self, p: Pos2| -> Option<DVec3> {
            let local = p - rect.min;
            let ray = app.camera.ray(local.x as f64, local.y as f64, w, h);
            app.scene.pick(&ray, app.clip_plane().as_ref())
        };

        // Interaction.
        if response.drag_started_by(egui::PointerButton::Primary) {
            if let Some(p) = response.interact_pointer_pos() {
                self.dragging = marker_at(p);
            }
        }
        if response.dragged() {
            let d = response.drag_delta();
            if self.dragging.is_some() {
                // The marker follows the pointer; it moves on release.
            } else if response.dragged_by(egui::PointerButton::Primary)
                && !ui.input(|i| i.modifiers.shift)
            {
                self.camera.orbit(-d.x as f64 * 0.008, d.y as f64 * 0.008);
            } else {
                self.camera.pan(d.x as f64, d.y as f64, h);
            }
        }
        if response.drag_stopped() {
            if let (Some(i), Some(p)) = (self.dragging.take(), response.interact_pointer_pos()) {
                match pick(self, p) {
                    Some(at) => {
                        let r = self.markers[i].radius_mm;
                        self.move_depot(i, at, r);
                    }
                    None => self.say("drop the depot on the heart (surface or slice)", true),
                }
            }
        }
        if response.clicked() {
            if let Some(p) = response.interact_pointer_pos() {
                if let Some(i) = marker_at(p) {
                    self.selected = Some(i);
                } else if self.place_mode {
                    match pick(self, p) {
                        Some(at) => self.place_at(at),
                        None => self.say("click on the heart to place a depot", true),
                    }
                } else {
                    self.selected = None;
                }
            }
        }
        if response.hovered() {
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 {
                self.camera.zoom((-scroll as f64 * 0.002).exp());
            }
            if let Some(p) = response.hover_pos() {
                // Picked again only when the pointer or the camera moved.
                let key = (p, self.camera, self.cut, self.cut_offset);
                let hit = match &self.hover {
                    Some((k, hit)) if *k == key => *hit,
                    _ => {
                        let hit = pick(self, p);
                        self.hover = Some((key, hit));
                        hit
                    }
                };
                if let Some(at) = hit {
                    response.clone().on_hover_text_at_pointer(format!(
                        "({:.1}, {:.1}, {:.1}) mm{}",
                        at.x,
                        at.y,
                        at.z,
                        if self.place_mode {
                            " — click to place a depot"
                        } else {
                            ""
                        }
                    ));
                }
            }
        }
        if let Some(i) = self.selected {
            if ui.input(|inp| inp.key_pressed(egui::Key::Delete)) && i < self.markers.len() {
                self.delete_depot(i);
            }
        }

        // The colour bar, over the view's lower right corner.
        super::plots::colour_bar(
            &painter,
            rect,
            self.range,
            self.log_scale,
            &self.table.species[self.species].id,
            self.ec50(),
        );
    }

    fn handle_capture(&mut self, ctx: &egui::Context) {
        let Some(c) = &mut self.capture else { return };
        let taken = c.image.lock().ok().and_then(|mut g| g.take());
        if let Some(img) = taken {
            let r = save_png(&c.path, &img);
            let path = c.path.clone();
            match c.result.take() {
                Some(slot) => {
                    // What the status bar shows, for scripts timing the window.
                    let [nx, ny, nz] = self.session.problem().grid.dims;
                    let figures = format!(
                        "{} · {nx}×{ny}×{nz} voxels at {} mm · frame {:.1} ms · {:.1} steps/s · t = {:.2} h",
                        self.ctx.report.name,
                        self.session.problem().grid.spacing,
                        self.frame_ms,
                        self.steps_per_s,
                        self.session.simulation().time() / 3600.0
                    );
                    if let Ok(mut g) = slot.lock() {
                        *g = Some(r.map(|()| figures));
                    }
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                None => {
                    self.capture = None;
                    match r {
                        Ok(()) => self.say(format!("saved {}", path.display()), false),
                        Err(e) => self.say(e, true),
                    }
                }
            }
            return;
        }
        if c.requested {
            ctx.request_repaint();
            return;
        }
        if c.frames_left > 0 {
            c.frames_left -= 1;
        } else {
            c.requested = true;
            let slot = c.image.clone();
            ctx.request_screenshot(move |img| {
                if let Ok(mut g) = slot.lock() {
                    *g = Some(img);
                }
            });
        }
        ctx.request_repaint();
    }

    /// Saves the window as a PNG (menu: Screenshot).
    pub(super) fn screenshot(&mut self, ctx: &egui::Context, path: PathBuf) {
        if self.capture.is_some() {
            return self.say("a screenshot is already being taken", true);
        }
        self.capture = Some(Capture {
            path,
            frames_left: 1,
            requested: false,
            result: None,
            image: Default::default(),
        });
        ctx.request_repaint();
    }
}

impl eframe::App for ViewerApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let wall_dt = self.next_frame();
        self.poll_rebuild();
        self.poll_snapshot();
        self.simulate(wall_dt);
        self.handle_capture(&ctx);

        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::Panel::bottom("plots")
            .resizable(true)
            .default_size(220.0)
            .show(ui, |ui| self.plots(ui));
        egui::Panel::left("controls")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.controls(ui));
            });
        egui::Panel::right("info")
            .resizable(true)
            .default_size(280.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.info_panel(ui));
            });
        egui::CentralPanel::default()
            .frame(egui::Frame::NONE)
            .show(ui, |ui| self.view_3d(ui, frame));
        self.dialogs(&ctx);
        if self.playing || self.rebuild.is_some() || self.pending.is_some() {
            ctx.request_repaint();
        } else if self.snapshot_of != Some(self.session.simulation().steps_taken()) {
            // Paused after a step or a steering action: come back for its snapshot; then
            // nothing changes and the window idles until the next input.
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}

fn save_png(path: &std::path::Path, img: &egui::ColorImage) -> std::result::Result<(), String> {
    let [w, h] = img.size;
    let bytes: Vec<u8> = img
        .pixels
        .iter()
        .flat_map(|c| c.to_srgba_unmultiplied())
        .collect();
    let tmp = path.with_extension("png.part");
    image::save_buffer_with_format(
        &tmp,
        &bytes,
        w as u32,
        h as u32,
        image::ColorType::Rgba8,
        image::ImageFormat::Png,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A snapshot taken now, waiting for the GPU (only before the window opens).
fn snapshot_now(ctx: &GpuContext, session: &Session) -> Result<Snapshot> {
    let pending = session.simulation().request_snapshot();
    ctx.wait()?;
    session
        .simulation()
        .take_snapshot(&pending)
        .ok_or_else(|| anyhow!("a snapshot was not ready after waiting for the GPU"))?
        .map_err(Into::into)
}

/// Markers for the depots of a new session: each at the centre of its voxels, with the
/// radius of a sphere of their volume.
fn markers_of(session: &Session, built: &Built) -> Vec<Marker> {
    let g = &built.problem.grid;
    session
        .depots()
        .iter()
        .map(|d| {
            let mut c = DVec3::ZERO;
            let mut w = 0.0;
            for &(v, wt) in &d.voxels {
                let [x, y, z] = g.coords(v);
                c += DVec3::from_array(g.centre(x, y, z)) * wt;
                w += wt;
            }
            let centre = if w > 0.0 { c / w } else { c };
            let volume = d.voxels.len() as f64 * g.spacing.powi(3);
            Marker {
                name: d.name.clone(),
                centre,
                radius_mm: (3.0 * volume / (4.0 * std::f64::consts::PI)).cbrt(),
                initial_cells: d.cells.max(
                    built
                        .events
                        .iter()
                        .flat_map(|e| e.depots.iter())
                        .filter(|(i, _)| session.depots().get(*i).is_some_and(|x| x.name == d.name))
                        .map(|&(_, c)| c)
                        .fold(0.0, f64::max),
                ),
                placed: false,
            }
        })
        .collect()
}

fn infarct_of(sc: &Scenario) -> (Option<Territory>, f64, f64) {
    match sc.infarcts.first() {
        Some(inf) => {
            let t = [Territory::Lad, Territory::Rca, Territory::Lcx]
                .into_iter()
                .find(|t| t.segments() == inf.segments.as_slice())
                .or(Some(Territory::Lad));
            (t, inf.transmural, inf.border_zone_mm)
        }
        None => (None, 0.7, 4.0),
    }
}

/// The surface the window draws: at the grid's spacing on a GPU; through a CPU driver, which
/// does vertex work on one thread, coarsened to about [`CPU_TRIANGLE_BUDGET`] triangles.
fn scene_for(built: &Built, cpu: bool) -> Scene {
    Scene::with_triangle_budget(&built.problem.grid, cpu.then_some(CPU_TRIANGLE_BUDGET))
}

/// A camera looking at the heart's anterior wall from a little above, the whole heart in view.
fn default_camera(scene: &Scene, anatomy: Option<&HeartAnatomy>) -> OrbitCamera {
    let (centre, radius) = scene.bounds();
    let from = match anatomy {
        Some(a) => {
            DVec3::from_array(a.frame.anterior()) * 0.85 - DVec3::from_array(a.frame.septum) * 0.35
                + DVec3::from_array(a.frame.long_axis) * 0.45
        }
        None => DVec3::new(1.0, -1.0, 0.7),
    };
    let fov = 30f64.to_radians();
    OrbitCamera::looking_from(centre, from, fit_distance(radius, fov), fov)
}

/// A distance from which a sphere of `radius` fits the picture's height.
fn fit_distance(radius: f64, fov: f64) -> f64 {
    1.05 * radius / (0.5 * fov).tan()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn wait_for_rebuild(app: &mut ViewerApp) {
        let start = Instant::now();
        while app.rebuild.is_some() {
            assert!(
                start.elapsed().as_secs() < 300,
                "the rebuild never finished"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
            app.poll_rebuild();
        }
    }

    /// The window on the default scenario at 3 mm, without a window.
    fn app_at_3mm(start_at_h: Option<f64>, cut: bool) -> ViewerApp {
        let ctx = GpuContext::new().unwrap();
        let mut scenario = super::super::load(None).unwrap();
        scenario.grid_spacing_mm = 3.0;
        let built = build(&scenario).unwrap();
        let start = Start {
            scenario,
            scenario_text: super::super::DEFAULT_SCENARIO.to_string(),
            path: None,
            built,
            species: None,
            speed: 0.5,
            start_at_h,
            cut,
            capture: None,
        };
        ViewerApp::create(ctx, start).unwrap()
    }

    /// `--start-at` runs the first hours before the window opens and fills the plots on the
    /// way, from t = 0.
    #[test]
    fn start_at_fills_the_plots_from_zero() {
        let app = app_at_3mm(Some(2.0), false);
        let tsg6 = app.table.index_of("TSG6").unwrap();
        let steps = (2.0 * 3600.0 / app.dt()).round() as usize;
        let h = &app.history;
        // t = 0, then one sample per ceil(steps / 60) steps up to 2 h.
        let every = steps.div_ceil(60);
        assert_eq!(h.t.len(), steps.div_ceil(every) + 1);
        assert_eq!(h.t[0], 0.0);
        assert!((h.t[h.t.len() - 1] - 2.0).abs() < 1e-9, "{:?}", h.t.last());
        // Plasma TSG6 starts at zero and rises as the depot secretes; the depot's cells fall.
        let p = &h.plasma[tsg6];
        assert_eq!(p[0], 0.0);
        assert!(
            p.windows(2).all(|w| w[1] >= w[0]) && p[p.len() - 1] > 0.0,
            "{p:?}"
        );
        let (_, cells) = &h.cells[0];
        assert_eq!(cells.len(), h.t.len());
        assert!(cells[cells.len() - 1][1] < cells[0][1]);
    }

    /// Paused, the window asks for one snapshot of the state it shows and then none (so it can
    /// idle); a step asks again.
    #[test]
    fn a_paused_window_stops_asking_for_snapshots() {
        let mut app = app_at_3mm(None, false);
        app.playing = false;
        // Whether the window asked for a snapshot; then lets it arrive.
        fn settle(app: &mut ViewerApp) -> bool {
            app.last_request = Instant::now() - std::time::Duration::from_secs(1);
            app.poll_snapshot();
            let asked = app.pending.is_some();
            app.ctx.wait().unwrap();
            app.poll_snapshot();
            assert!(
                app.pending.is_none(),
                "the snapshot arrives once the GPU is done"
            );
            asked
        }
        assert!(settle(&mut app), "the first state is read");
        assert!(app.snapshot.is_some());
        assert!(!settle(&mut app), "paused and unchanged: nothing to read");
        app.step(1);
        assert!(settle(&mut app), "a step is read");
        assert_eq!(app.snapshot.as_ref().unwrap().time, app.dt());
        assert!(!settle(&mut app));
    }

    /// The window's logic, driven without a window on the same code paths as its buttons:
    /// a depot placed by a click, a step, re-voxelising at another spacing and infarct (the
    /// placed depot comes back), a lesson from the menu, and the state saved as a scenario
    /// that loads again.
    #[test]
    fn the_window_places_revoxelises_opens_lessons_and_saves() {
        let mut app = app_at_3mm(None, true);
        assert_eq!(app.markers.len(), 1, "the preset's depot");
        let dose = app.place_dose;
        let at = app.markers[0].centre;
        app.place_at(at);
        assert_eq!(app.session.depots().len(), 2, "{:?}", app.message);
        assert_eq!(app.markers[1].initial_cells, dose * RETAINED);
        app.step(3);
        assert_eq!(app.session.simulation().steps_taken(), 3);

        // Re-voxelise at 2 mm with an RCA infarct.
        app.spacing = 2.0;
        app.territory = Some(Territory::Rca);
        app.transmural = 0.5;
        app.revoxelise();
        wait_for_rebuild(&mut app);
        let grid = &app.session.problem().grid;
        assert_eq!(grid.spacing, 2.0, "{:?}", app.message);
        assert_eq!(app.session.simulation().steps_taken(), 0);
        assert_eq!(app.scenario.infarcts[0].segments, Territory::Rca.segments());
        assert!(
            app.markers.iter().any(|m| m.placed),
            "the placed depot is placed again: {:?}",
            app.message
        );
        assert_eq!(app.markers.len(), app.session.depots().len());

        // Save, and load what was saved.
        let dir = std::env::temp_dir().join(format!("secretome-app-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("saved.toml");
        app.save_scenario(&path);
        assert_eq!(
            app.message.as_ref().map(|m| m.1),
            Some(false),
            "{:?}",
            app.message
        );
        let saved = Scenario::load(&path).unwrap();
        assert_eq!(saved.grid_spacing_mm, 2.0);
        assert_eq!(saved.depots.len(), app.markers.len());
        let _ = std::fs::remove_dir_all(&dir);

        // A lesson from the menu: its explanation is shown, its remote site runs.
        let (_, file, text) = super::super::lessons::LESSONS
            .iter()
            .find(|(_, f, _)| *f == "endocrine_iv.toml")
            .unwrap();
        app.open_text(text, file);
        wait_for_rebuild(&mut app);
        assert_eq!(app.scenario.name, "endocrine_iv", "{:?}", app.message);
        assert!(app
            .lesson
            .as_ref()
            .is_some_and(|(_, t)| t.contains("endocrine")));
        assert_eq!(
            app.session.simulation().problem().compartment.remote.len(),
            1
        );
        assert!(
            app.markers.is_empty(),
            "no cells reach the heart in this lesson"
        );
    }
}
