//! The window's state, grouped by what each part is for. Fields that the panels in the other
//! viewer files read or edit are `pub`; those only the window's own logic touches (in `app/`)
//! are `pub(super)`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use web_time::Instant;

use eframe::egui::{self, Pos2};
use glam::DVec3;

use secretome::geometry::infarct::Territory;
use secretome::geometry::HeartAnatomy;
use secretome::problem::build::Built;
use secretome::render::camera::OrbitCamera;
use secretome::render::{HeartRenderer, Scene, ViewStyle};
use secretome::scenario::Scenario;
use secretome::sim::{PendingSnapshot, Snapshot};
use secretome::{SpeciesTable, Terms};

use super::view3d::Capture;
use crate::viewer::bullseye::BullseyeMode;
use crate::viewer::plots::{History, PlasmaView, RegionView};
use crate::viewer::save::FileDialog;

/// The scenario the window shows: as parsed, its file's text and where it was opened from.
pub struct Opened {
    pub scenario: Scenario,
    /// The scenario file's text (kept when the state is saved as a scenario).
    pub text: String,
    pub path: Option<PathBuf>,
}

/// The geometry the run is on, as the window draws it: the heart's anatomy (`None` for a
/// box) and the surface (which the hover and the clicks pick on).
pub struct Heart {
    pub anatomy: Option<HeartAnatomy>,
    pub scene: Scene,
}

/// The equation's parameters as the controls edit them (the running simulation gets each
/// change), and the species as the scenario gave them.
pub struct Model {
    /// The species as the scenario gave them (the sliders edit `table`).
    pub loaded: SpeciesTable,
    /// Species table as edited by the sliders (secretion included).
    pub table: SpeciesTable,
    pub terms: Terms,
    pub autocrine: bool,
}

impl Model {
    /// A new session's parameters: the scenario's.
    pub(super) fn of(built: &Built) -> Model {
        Model {
            loaded: built.problem.species.clone(),
            table: built.problem.species.clone(),
            terms: built.problem.terms,
            autocrine: built.problem.autocrine.enabled,
        }
    }
}

/// How the selected species' concentrations map to colours (the 3D view and its colour bar).
pub struct Colours {
    pub log_scale: bool,
    /// Decades below the tissue's maximum that an automatic log range spans.
    pub decades: f64,
    /// The range follows the tissue's maximum; off, it is fixed (around the EC50, or edited).
    pub auto_range: bool,
    /// The concentrations at the colour map's ends, ng/mL.
    pub range: (f64, f64),
}

impl Default for Colours {
    fn default() -> Colours {
        Colours {
            log_scale: true,
            decades: 3.0,
            auto_range: true,
            range: (1e-3, 1.0),
        }
    }
}

/// Which plane cuts the heart open: none, across or along its long axis, or facing the camera.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CutMode {
    None,
    ShortAxis,
    LongAxis,
    Camera,
}

/// The plane the heart is cut open along, to show the field inside the wall.
pub struct CutState {
    pub mode: CutMode,
    /// Where the plane lies along its range, 0–1 (see `ViewerApp::clip_plane`).
    pub offset: f64,
    /// Infarct and border zone outlined on the slice.
    pub outlines: bool,
}

impl Default for CutState {
    fn default() -> CutState {
        CutState {
            mode: CutMode::None,
            offset: 0.5,
            outlines: true,
        }
    }
}

/// The needle route a placed depot is named after (both retain `RETAINED` of the dose).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PlaceRoute {
    Intramyocardial,
    Transendocardial,
}

impl PlaceRoute {
    pub(super) fn name(self) -> &'static str {
        match self {
            PlaceRoute::Intramyocardial => "intramyocardial",
            PlaceRoute::Transendocardial => "transendocardial",
        }
    }
}

/// Placing depots with a click, and the depot selected or dragged (indices into the markers).
pub struct Placing {
    /// A click on the heart places a depot.
    pub active: bool,
    pub route: PlaceRoute,
    /// Cells delivered (`RETAINED` of them stay in the depot).
    pub dose: f64,
    /// The new depot's radius, mm.
    pub radius: f64,
    pub selected: Option<usize>,
    /// The depot being dragged: it follows the pointer and moves on release.
    pub(super) dragging: Option<usize>,
    /// On a refined scenario, when the refinement follows the depots edited last (a moment
    /// after the last edit, so that a slider's drag refines once).
    pub(super) regrid_at: Option<web_time::Instant>,
    /// In the browser: the refinement following the depots, its reads answered frame by frame
    /// (the steps wait meanwhile).
    #[cfg(target_arch = "wasm32")]
    pub(super) regridding: Option<(secretome::Problem, secretome::gpu::web::Replay)>,
}

impl Default for Placing {
    fn default() -> Placing {
        Placing {
            active: false,
            route: PlaceRoute::Intramyocardial,
            dose: 2e7,
            radius: 2.0,
            selected: None,
            dragging: None,
            regrid_at: None,
            #[cfg(target_arch = "wasm32")]
            regridding: None,
        }
    }
}

/// Geometry edits, applied by re-voxelising: the voxel edge and the infarct.
pub struct GeometryEdits {
    /// Voxel edge, mm.
    pub spacing: f64,
    pub territory: Option<Territory>,
    /// The infarct's transmural extent, 0–1.
    pub transmural: f64,
    /// Border zone width, mm.
    pub border_zone: f64,
}

/// The live readouts: snapshots of the run (about two a second, fewer when nothing changes),
/// their history for the plots, and how the bullseye and the plots show them.
pub struct Readouts {
    pub(super) pending: Option<PendingSnapshot>,
    pub(super) last_request: Instant,
    /// The step count of the state the last snapshot was asked for; `None` after steering.
    pub(super) snapshot_of: Option<u64>,
    pub snapshot: Option<Snapshot>,
    pub history: History,
    /// The bullseye's picture (`None`: drawn again from the snapshot).
    pub bullseye: Option<egui::TextureHandle>,
    pub bullseye_mode: BullseyeMode,
    pub plasma_view: PlasmaView,
    pub region_view: RegionView,
}

impl Readouts {
    pub(super) fn new(history: History) -> Readouts {
        Readouts {
            pending: None,
            last_request: Instant::now(),
            snapshot_of: None,
            snapshot: None,
            history,
            bullseye: None,
            bullseye_mode: BullseyeMode::Auc,
            plasma_view: PlasmaView::Log,
            region_view: RegionView::Concentration,
        }
    }

    /// Forgets a snapshot in flight and which state was read: the next one is asked for.
    pub(super) fn forget_pending(&mut self) {
        self.pending = None;
        self.snapshot_of = None;
    }
}

/// The simulation's pacing: play and speed, the steps queued on the GPU and done, and the
/// frame time and step rate measured.
pub struct Pacing {
    pub playing: bool,
    pub speed_h_per_s: f64,
    /// The step count after the last steps submitted.
    pub(super) submitted: u64,
    /// The step count the GPU has finished (raised by its completion callbacks).
    pub(super) completed: Arc<AtomicU64>,
    /// The fraction of a step this frame's share of the speed left for the next.
    pub(super) carry: f64,
    /// Most steps queued on the GPU at once (adapted to the frame time).
    pub(super) max_steps: f64,
    pub(super) last_frame: Instant,
    /// Frame time, ms, smoothed.
    pub frame_ms: f64,
    pub steps_per_s: f64,
    /// Where the step rate is measured from: when, and the steps completed then.
    pub(super) rate_window: (Instant, u64),
}

impl Pacing {
    /// Playing at `speed_h_per_s`, from a session at step `steps`.
    pub(super) fn new(speed_h_per_s: f64, steps: u64) -> Pacing {
        Pacing {
            playing: true,
            speed_h_per_s,
            submitted: steps,
            completed: Arc::new(AtomicU64::new(steps)),
            carry: 0.0,
            max_steps: 2.0,
            last_frame: Instant::now(),
            frame_ms: 0.0,
            steps_per_s: 0.0,
            rate_window: (Instant::now(), steps),
        }
    }

    /// Counts again from a new session at step `steps`.
    pub(super) fn restart(&mut self, steps: u64) {
        self.submitted = steps;
        self.completed.store(steps, Ordering::Relaxed);
        self.rate_window = (Instant::now(), steps);
    }

    /// Starts a frame: the wall time since the last one, s (also smoothed into `frame_ms`,
    /// which the status bar shows and the pacing reads).
    pub(super) fn next_frame(&mut self) -> f64 {
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
}

/// What a hover pick depends on: the pointer, the camera and the cut.
pub(super) type HoverKey = (Pos2, OrbitCamera, CutMode, f64);

/// The 3D picture: the renderer and the egui texture showing its picture, what the last
/// drawing showed (it is drawn again only when that changes), and the last hover pick.
pub struct Picture {
    pub(super) renderer: HeartRenderer,
    /// The egui texture of the renderer's picture, and the picture's size it was made for.
    pub(super) texture: Option<(egui::TextureId, [u32; 2])>,
    /// The renderer's copy of the field is out of date (steps, steering, another species).
    pub field_dirty: bool,
    /// Counts the field's copies (part of what the last drawing showed).
    pub(super) field_version: u64,
    pub(super) last_render: Option<(OrbitCamera, ViewStyle, [u32; 2], u64)>,
    /// The last hover pick: (pointer, camera, cut) and its hit.
    pub(super) hover: Option<(HoverKey, Option<DVec3>)>,
    /// Resolution of the 3D picture relative to the screen's.
    pub render_scale: f32,
}

impl Picture {
    pub(super) fn new(renderer: HeartRenderer) -> Picture {
        Picture {
            renderer,
            texture: None,
            field_dirty: true,
            field_version: 0,
            last_render: None,
            hover: None,
            render_scale: 1.0,
        }
    }

    /// A new session's renderer. The egui texture id is kept; the new renderer's picture
    /// replaces its contents.
    pub(super) fn replace_renderer(&mut self, renderer: HeartRenderer) {
        self.renderer = renderer;
        self.texture = self.texture.map(|(id, _)| (id, [0, 0]));
        self.last_render = None;
        self.field_dirty = true;
    }
}

/// Menus and messages: the status bar's message, the lesson's text, a file dialog and a
/// screenshot on its way.
#[derive(Default)]
pub struct Menus {
    /// One line for the status bar, and whether it is an error (shown in red).
    pub message: Option<(String, bool)>,
    /// The scenario's name and description, shown above the depots.
    pub lesson: Option<(String, String)>,
    pub file_dialog: Option<FileDialog>,
    pub(super) capture: Option<Capture>,
}
