//! The viewer's window: its state and the frame loop. The state is grouped by what each part
//! is for (`state`); the work is split by subject: pacing the simulation and reading it back
//! (`pacing`), steering its depots and parameters (`steering`), opening and rebuilding
//! geometries (`rebuild`), and the 3D view with its screenshots (`view3d`). The panels are
//! drawn by the viewer's other files.

mod pacing;
mod rebuild;
mod state;
mod steering;
#[cfg(test)]
mod tests;
mod view3d;

use std::path::PathBuf;
use web_time::Instant;

use anyhow::{anyhow, Context, Result};
use eframe::egui;
use glam::DVec3;

use secretome::problem::build::Built;
use secretome::render::camera::OrbitCamera;
use secretome::render::HeartRenderer;
use secretome::scenario::Scenario;
use secretome::session::Session;
use secretome::sim::Region;
use secretome::GpuContext;

use super::plots::History;
use super::CaptureResult;
use rebuild::{markers_of, scene_for, Rebuild};
use state::{
    Colours, CutState, GeometryEdits, Heart, Menus, Model, Opened, Pacing, Picture, Placing,
    Readouts,
};
use view3d::{default_camera, Capture};

pub use state::{CutMode, PlaceRoute};

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

/// Where the window's start-up error goes (its text, whole), for the caller of eframe's runner
/// to report in one line: the runner itself only says that the app could not be created.
pub type StartError = std::sync::Arc<std::sync::Mutex<Option<String>>>;

/// eframe's app creator for `start` (the desktop's window, the web page's canvas), and where
/// its error goes if the window state cannot be made.
pub fn creator(start: Start) -> (eframe::AppCreator<'static>, StartError) {
    let failed = StartError::default();
    let slot = failed.clone();
    let create: eframe::AppCreator<'static> = Box::new(move |cc| match ViewerApp::new(cc, start) {
        Ok(app) => Ok(Box::new(app)),
        Err(e) => {
            let text = format!("{e:#}");
            if let Ok(mut g) = slot.lock() {
                *g = Some(text.clone());
            }
            Err(text.into())
        }
    });
    (create, failed)
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

/// Fraction of delivered cells retained at ~1 h by both needle routes (MODEL.md §3).
pub const RETAINED: f64 = 0.15;

/// How long after the last edit of the depots a refined scenario's refinement follows them,
/// ms (a slider's drag refines once).
const REGRID_DELAY_MS: u64 = 400;

/// The window's state: the run and what it is on, and one part per concern of the window
/// (see `state`); panels in the other viewer files read and edit the parts' public fields.
pub struct ViewerApp {
    pub(super) ctx: GpuContext,
    pub(super) opened: Opened,
    pub(super) session: Session,
    pub(super) heart: Heart,
    /// The session's depots, in its order.
    pub(super) markers: Vec<Marker>,
    pub(super) model: Model,
    /// The species shown (field, colour bar, bullseye, regional plot, sliders).
    pub(super) species: usize,
    pub(super) camera: OrbitCamera,
    pub(super) colours: Colours,
    pub(super) cut: CutState,
    pub(super) placing: Placing,
    pub(super) geometry: GeometryEdits,
    /// The geometry being rebuilt off the frame loop.
    rebuild: Option<Rebuild>,
    pub(super) readouts: Readouts,
    pub(super) pacing: Pacing,
    pub(super) picture: Picture,
    pub(super) menus: Menus,
}

impl ViewerApp {
    pub fn new(cc: &eframe::CreationContext<'_>, start: Start) -> Result<ViewerApp> {
        let rs = cc
            .wgpu_render_state
            .as_ref()
            .ok_or_else(|| anyhow!("the window has no wgpu renderer"))?;
        let ctx = GpuContext::from_device(rs.adapter.clone(), rs.device.clone(), rs.queue.clone());
        // Dark whatever the system prefers (a browser follows its page's light scheme otherwise).
        cc.egui_ctx.set_theme(egui::ThemePreference::Dark);
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
        #[cfg_attr(target_arch = "wasm32", allow(unused_mut))]
        let mut history = History::default();
        // In the browser, which cannot wait for the samples on the way, the steps are only
        // queued and the plots start at `start_at_h`.
        #[cfg(target_arch = "wasm32")]
        if let Some(h) = start_at_h {
            session.advance((h * 3600.0 / built.problem.dt).round() as u64)?;
        }
        #[cfg(not(target_arch = "wasm32"))]
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
        let renderer = HeartRenderer::new(&ctx, &built.problem, &scene)?;
        let markers = markers_of(&session, &built);
        let heart = Heart {
            anatomy: built.anatomy.clone(),
            scene,
        };
        let camera = default_camera(&heart);
        let view = super::view_spec::start_view(
            &scenario.view,
            species.and_then(|s| built.problem.species.species.get(s)),
            cut,
        );
        let steps = session.simulation().steps_taken();
        let mut app = ViewerApp {
            model: Model::of(&built),
            geometry: GeometryEdits::of(&scenario),
            menus: Menus {
                lesson: Some((scenario.name.clone(), scenario.description.clone())),
                capture: capture
                    .map(|(path, frames, result)| Capture::headless(path, frames, result)),
                ..Menus::default()
            },
            opened: Opened {
                scenario,
                text: scenario_text,
                path,
            },
            ctx,
            session,
            heart,
            camera,
            markers,
            species: 0,
            colours: Colours::default(),
            cut: CutState::default(),
            placing: Placing::default(),
            rebuild: None,
            readouts: Readouts::new(history),
            pacing: Pacing::new(speed, steps),
            picture: Picture::new(renderer),
        };
        app.apply_view(&view);
        if app.ctx.is_cpu() && app.menus.capture.is_none() {
            app.picture.render_scale = 0.5;
        }
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
        self.menus.message = Some((text.into(), error));
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
        self.readouts.forget_pending();
        self.picture.field_dirty = true;
        if self.session.regrid_pending() {
            self.placing.regrid_at =
                Some(Instant::now() + std::time::Duration::from_millis(REGRID_DELAY_MS));
        }
    }

    /// On a refined scenario, a moment after the depots were last edited: the refinement
    /// follows them (`Session::regrid`) and the picture draws from the new levels.
    pub(super) fn poll_regrid(&mut self) {
        #[cfg(target_arch = "wasm32")]
        self.continue_regrid();
        match self.placing.regrid_at {
            Some(t) if Instant::now() >= t && self.placing.dragging.is_none() => {}
            _ => return,
        }
        self.placing.regrid_at = None;
        #[cfg(not(target_arch = "wasm32"))]
        {
            let r = self.session.regrid(&self.ctx);
            if self.report(r) == Some(true) {
                self.regridded();
            }
        }
        #[cfg(target_arch = "wasm32")]
        match self.session.regrid_target() {
            Ok(Some(to)) => {
                self.placing.regridding = Some((to, Default::default()));
                self.continue_regrid();
            }
            Ok(None) => {}
            Err(e) => self.say(e.to_string(), true),
        }
    }

    /// In the browser: the run carried onto the new levels once every read it needs has come
    /// back (a few frames; the steps wait meanwhile).
    #[cfg(target_arch = "wasm32")]
    fn continue_regrid(&mut self) {
        let Some((to, replay)) = &mut self.placing.regridding else {
            return;
        };
        let (ctx, session) = (&self.ctx, &mut self.session);
        let Some(r) = replay.attempt(ctx, || session.regrid_onto(ctx, to)) else {
            return;
        };
        self.placing.regridding = None;
        if self.report(r.map(|()| true)) == Some(true) {
            self.regridded();
        }
    }

    /// The picture drawn from the new levels, and said so.
    fn regridded(&mut self) {
        match HeartRenderer::new(&self.ctx, self.session.problem(), &self.heart.scene) {
            Ok(renderer) => self.picture.replace_renderer(renderer),
            Err(e) => self.say(e.to_string(), true),
        }
        self.readouts.forget_pending();
        self.say(
            format!(
                "refined around the depots again ({} voxels on every level)",
                self.session.simulation().stored().0
            ),
            false,
        );
    }

    fn update_range(&mut self) {
        if !self.colours.auto_range {
            return;
        }
        let Some(s) = &self.readouts.snapshot else {
            return;
        };
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
        let lo = if self.colours.log_scale {
            hi / 10f64.powf(self.colours.decades)
        } else {
            0.0
        };
        self.colours.range = (lo, hi);
    }

    pub(super) fn set_species(&mut self, s: usize) {
        self.species = s;
        self.picture.field_dirty = true;
        self.readouts.bullseye = None;
        self.update_range();
        self.range_around_ec50();
    }

    #[cfg(not(target_arch = "wasm32"))]
    /// The window's frame loop without the window (`view --bench`): each frame polls the
    /// snapshot, queues the steps the pacing allows, turns the camera a little (as a user
    /// dragging it would, so the picture is drawn every frame) and draws the picture at
    /// `size` pixels, then waits for the GPU as presenting a frame would. egui's own drawing
    /// is not included. Returns the figures as one line.
    pub fn bench_frames(&mut self, frames: u32, size: [u32; 2]) -> Result<String> {
        self.picture.render_scale = 1.0;
        self.ctx.wait()?;
        let sim_t0 = self.session.simulation().time();
        let steps0 = self.session.simulation().steps_taken();
        let start = Instant::now();
        self.pacing.last_frame = start;
        let mut slowest: f64 = 0.0;
        for _ in 0..frames {
            let wall_dt = self.pacing.next_frame();
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
}

impl eframe::App for ViewerApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let wall_dt = self.pacing.next_frame();
        self.poll_rebuild();
        #[cfg(target_arch = "wasm32")]
        {
            crate::web::frame_drawn();
            self.poll_picked();
        }
        self.poll_regrid();
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
        if self.pacing.playing || self.rebuild.is_some() || self.readouts.pending.is_some() {
            ctx.request_repaint();
        } else if self.readouts.snapshot_of != Some(self.session.simulation().steps_taken()) {
            // Paused after a step or a steering action: come back for its snapshot; then
            // nothing changes and the window idles until the next input.
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}

/// A snapshot taken now, waiting for the GPU (only before the window opens).
#[cfg(not(target_arch = "wasm32"))]
fn snapshot_now(ctx: &GpuContext, session: &Session) -> Result<secretome::sim::Snapshot> {
    let pending = session.simulation().request_snapshot();
    ctx.wait()?;
    session
        .simulation()
        .take_snapshot(&pending)
        .ok_or_else(|| anyhow!("a snapshot was not ready after waiting for the GPU"))?
        .map_err(Into::into)
}
