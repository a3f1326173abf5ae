//! Opening scenarios and rebuilding the geometry: a lesson or file opened, the run reset,
//! re-voxelising with the window's spacing and infarct (built off the frame loop), and the
//! new session installed in the window.
//!
//! In the browser there is no thread: the geometry is built in one piece in the frame after
//! the one that says "building…" (the page does not answer meanwhile: about a second for the
//! default heart at 1 mm).

use std::path::PathBuf;

use glam::DVec3;

use secretome::geometry::infarct::{InfarctSpec, Territory};
use secretome::problem::build::{build, Built};
use secretome::render::{HeartRenderer, Scene, CPU_TRIANGLE_BUDGET};
use secretome::scenario::Scenario;
use secretome::session::{PlacedDepot, Session};

use super::state::{GeometryEdits, Heart, Model};
use super::view3d::default_camera;
use super::{Marker, ViewerApp};
use crate::viewer::plots::History;

/// A geometry being rebuilt off the frame loop, and whether the depots placed in the window
/// are placed again on it.
pub(super) struct Rebuild {
    #[cfg(not(target_arch = "wasm32"))]
    handle: std::thread::JoinHandle<BuildResult>,
    /// In the browser: the scenario, built at the next frame; whether that frame came.
    #[cfg(target_arch = "wasm32")]
    pending: (Scenario, bool),
    #[cfg(target_arch = "wasm32")]
    shown: bool,
    keep_placed: bool,
}

type BuildResult = std::result::Result<(Scenario, Built, Scene), String>;

fn build_scene(sc: Scenario, cpu: bool) -> BuildResult {
    let built = build(&sc).map_err(|e| e.to_string())?;
    let scene = scene_for(&built, cpu);
    Ok((sc, built, scene))
}

impl GeometryEdits {
    /// The scenario's voxel edge and infarct (for a heart without one: what the controls
    /// offer first).
    pub(super) fn of(sc: &Scenario) -> GeometryEdits {
        let (territory, transmural, border_zone) = infarct_of(sc);
        GeometryEdits {
            spacing: sc.grid_spacing_mm,
            territory,
            transmural,
            border_zone,
        }
    }
}

impl ViewerApp {
    /// Back to the scenario's start; depots placed in the window are placed again.
    pub(in crate::viewer) fn reset(&mut self) {
        let built = match build(&self.opened.scenario) {
            Ok(b) => b,
            Err(e) => return self.say(e.to_string(), true),
        };
        let scene = scene_for(&built, self.ctx.is_cpu());
        self.install(self.opened.scenario.clone(), built, scene, true);
    }

    /// Loads another scenario (a lesson, a file).
    pub(in crate::viewer) fn open(&mut self, scenario: Scenario, path: Option<PathBuf>) {
        self.geometry = GeometryEdits::of(&scenario);
        self.menus.lesson = Some((scenario.name.clone(), scenario.description.clone()));
        self.opened.path = path;
        self.start_rebuild(scenario, false);
    }

    /// Rebuilds the geometry with the window's spacing and infarct, off the frame loop.
    pub(in crate::viewer) fn revoxelise(&mut self) {
        let g = &self.geometry;
        let mut sc = self.opened.scenario.clone();
        sc.grid_spacing_mm = g.spacing;
        if matches!(sc.geometry, secretome::scenario::GeometrySpec::Box { .. }) {
            sc.infarcts.clear();
        } else {
            sc.infarcts = g
                .territory
                .map(|t| InfarctSpec::territory(t, g.transmural, g.border_zone))
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
        #[cfg(not(target_arch = "wasm32"))]
        let rebuild = Rebuild {
            handle: std::thread::spawn(move || build_scene(sc, cpu)),
            keep_placed,
        };
        #[cfg(target_arch = "wasm32")]
        let rebuild = Rebuild {
            pending: (sc, cpu),
            shown: false,
            keep_placed,
        };
        self.rebuild = Some(rebuild);
    }

    /// The rebuilt geometry, once it is there.
    #[cfg(not(target_arch = "wasm32"))]
    fn rebuilt(&mut self) -> Option<(BuildResult, bool)> {
        if !self
            .rebuild
            .as_ref()
            .is_some_and(|r| r.handle.is_finished())
        {
            return None;
        }
        let Rebuild {
            handle,
            keep_placed,
        } = self.rebuild.take()?;
        let result = handle
            .join()
            .unwrap_or_else(|_| Err("building the geometry failed".into()));
        Some((result, keep_placed))
    }

    /// The rebuilt geometry: built here, in the frame after the one that said so.
    #[cfg(target_arch = "wasm32")]
    fn rebuilt(&mut self) -> Option<(BuildResult, bool)> {
        let r = self.rebuild.as_mut()?;
        if !r.shown {
            r.shown = true;
            return None;
        }
        let Rebuild {
            pending: (sc, cpu),
            keep_placed,
            ..
        } = self.rebuild.take()?;
        Some((build_scene(sc, cpu), keep_placed))
    }

    pub(in crate::viewer) fn poll_rebuild(&mut self) {
        match self.rebuilt() {
            Some((Ok((sc, built, scene)), keep_placed)) => {
                self.install(sc, built, scene, keep_placed)
            }
            Some((Err(e), _)) => self.say(e, true),
            None => {}
        }
    }

    /// Starts a new session on `built`; with `keep_placed`, the depots placed in the window
    /// are placed again (those that land outside the tissue are reported and dropped).
    fn install(&mut self, sc: Scenario, built: Built, scene: Scene, keep_placed: bool) {
        let mut session = match Session::new(&self.ctx, &built) {
            Ok(s) => s,
            Err(e) => return self.say(e.to_string(), true),
        };
        let renderer = match HeartRenderer::new(&self.ctx, &built.problem, &scene) {
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
        let heart = Heart {
            anatomy: built.anatomy.clone(),
            scene,
        };
        if !same_grid || !keep_placed {
            self.camera = default_camera(&heart);
        }
        // A new session starts from the scenario's parameters.
        self.model = Model::of(&built);
        self.heart = heart;
        self.session = session;
        self.picture.replace_renderer(renderer);
        self.markers = markers;
        self.placing.selected = None;
        let r = &mut self.readouts;
        r.snapshot = None;
        r.forget_pending();
        r.history = History::default();
        r.bullseye = None;
        self.pacing.restart(self.session.simulation().steps_taken());
        if self.species >= self.model.table.species.len() {
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
        self.opened.scenario = sc;
        if !keep_placed {
            // A scenario opened (not reset or re-voxelised): its [view].
            let view = self.opened.scenario.view.clone();
            self.apply_view(&view);
        }
    }
}

/// Markers for the depots of a new session: each at the centre of its voxels, with the
/// radius of a sphere of their volume.
pub(super) fn markers_of(session: &Session, built: &Built) -> Vec<Marker> {
    let p = &built.problem;
    session
        .depots()
        .iter()
        .map(|d| {
            let mut c = DVec3::ZERO;
            let mut w = 0.0;
            for &(v, wt) in &d.voxels {
                c += DVec3::from_array(p.voxel_centre(v)) * wt;
                w += wt;
            }
            let centre = if w > 0.0 { c / w } else { c };
            // mm³ (voxels of every level).
            let volume: f64 = d.voxels.iter().map(|&(v, _)| p.voxel_ml_at(v) * 1e3).sum();
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
pub(super) fn scene_for(built: &Built, cpu: bool) -> Scene {
    Scene::with_triangle_budget(
        &built.problem.coarse_grid(),
        cpu.then_some(CPU_TRIANGLE_BUDGET),
    )
}
