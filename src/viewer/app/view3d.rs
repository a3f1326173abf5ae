//! The 3D view: the cut's plane, the cameras, the picture drawn when what it shows changes,
//! the depot markers and the pointer's work on them (select, drag, place, orbit, pan, zoom,
//! hover), and screenshots of the window.

use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui::{self, Color32, Pos2, Rect, Sense, Stroke, Vec2};
use glam::DVec3;

use secretome::render::camera::OrbitCamera;
use secretome::render::{ClipPlane, ViewStyle};

use super::state::{CutMode, Heart};
use super::ViewerApp;
use crate::viewer::CaptureResult;

/// A screenshot on its way: after `frames_left` frames the window is captured and saved;
/// a headless capture (`--screenshot`) then closes the window.
pub(super) struct Capture {
    path: PathBuf,
    frames_left: u32,
    requested: bool,
    /// Where a headless capture reports; `None` for the menu's screenshots.
    result: Option<CaptureResult>,
    image: Arc<std::sync::Mutex<Option<Arc<egui::ColorImage>>>>,
}

impl Capture {
    /// `--screenshot`: `path` after `frames` frames, the outcome to `result`.
    pub(super) fn headless(path: PathBuf, frames: u32, result: CaptureResult) -> Capture {
        Capture {
            path,
            frames_left: frames,
            requested: false,
            result: Some(result),
            image: Default::default(),
        }
    }
}

impl ViewerApp {
    pub(in crate::viewer) fn clip_plane(&self) -> Option<ClipPlane> {
        let (centre, radius) = self.heart.scene.bounds();
        let (axis, base, apex) = match &self.heart.anatomy {
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
        let offset = self.cut.offset;
        match self.cut.mode {
            CutMode::None => None,
            CutMode::ShortAxis => Some(ClipPlane {
                point: apex + (base - apex) * offset,
                normal: axis,
            }),
            CutMode::LongAxis => {
                let n = match &self.heart.anatomy {
                    Some(a) => DVec3::from_array(a.frame.anterior()),
                    None => DVec3::Y,
                };
                let mid = 0.5 * (base + apex);
                Some(ClipPlane {
                    point: mid + n * (2.0 * offset - 1.0) * radius,
                    normal: n,
                })
            }
            CutMode::Camera => {
                let n = (self.camera.eye() - self.camera.target).normalize_or(DVec3::X);
                Some(ClipPlane {
                    point: self.camera.target + n * (2.0 * offset - 1.0) * radius,
                    normal: n,
                })
            }
        }
    }

    pub(in crate::viewer) fn default_camera(&self) -> OrbitCamera {
        default_camera(&self.heart)
    }

    /// The heart's long axis, anterior and septal directions (the grid's z, y, x for a box).
    pub(in crate::viewer) fn heart_axes(&self) -> (DVec3, DVec3, DVec3) {
        match &self.heart.anatomy {
            Some(a) => (
                DVec3::from_array(a.frame.long_axis),
                DVec3::from_array(a.frame.anterior()),
                DVec3::from_array(a.frame.septum),
            ),
            None => (DVec3::Z, DVec3::Y, DVec3::X),
        }
    }

    /// Standard views: short axis (from the base), long axis (from the side), anterior.
    pub(in crate::viewer) fn standard_view(&mut self, which: &str) {
        let (centre, radius) = self.heart.scene.bounds();
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
    pub(super) fn update_picture(&mut self, size: [u32; 2]) -> bool {
        if self.picture.field_dirty {
            self.picture
                .renderer
                .update_field(self.session.simulation(), self.species);
            self.picture.field_dirty = false;
            self.picture.field_version += 1;
        }
        let style = ViewStyle {
            lo: self.colours.range.0,
            hi: self.colours.range.1,
            log: self.colours.log_scale,
            clip: self.clip_plane(),
            outlines: self.cut.outlines,
            background: [0.07, 0.08, 0.10],
        };
        let key = (self.camera, style, size, self.picture.field_version);
        if self.picture.last_render.as_ref() == Some(&key) {
            return false;
        }
        self.picture.renderer.render(size, &self.camera, &style);
        self.picture.last_render = Some(key);
        true
    }

    pub(super) fn view_3d(&mut self, ui: &mut egui::Ui, frame: &eframe::Frame) {
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        // On a CPU adapter the picture is drawn at half resolution while interactive.
        let ppp = ui.ctx().pixels_per_point() * self.picture.render_scale;
        let size = [
            (rect.width() * ppp).round().max(1.0) as u32,
            (rect.height() * ppp).round().max(1.0) as u32,
        ];
        let (w, h) = (rect.width() as f64, rect.height() as f64);
        if self.update_picture(size) || self.picture.texture.is_none() {
            let pic = &mut self.picture;
            let view = pic.renderer.picture();
            if let (Some(rs), Some(view)) = (frame.wgpu_render_state(), view) {
                let mut r = rs.renderer.write();
                match pic.texture {
                    Some((_, s)) if s == size => {}
                    Some((id, _)) => {
                        r.update_egui_texture_from_wgpu_texture(
                            &rs.device,
                            view,
                            wgpu::FilterMode::Linear,
                            id,
                        );
                        pic.texture = Some((id, size));
                    }
                    None => {
                        let id =
                            r.register_native_texture(&rs.device, view, wgpu::FilterMode::Linear);
                        pic.texture = Some((id, size));
                    }
                }
            }
        }
        let painter = ui.painter_at(rect);
        if let Some((id, _)) = self.picture.texture {
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
                let selected = self.placing.selected == Some(i);
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
        if self.placing.dragging.is_some() {
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
            app.heart.scene.pick(&ray, app.clip_plane().as_ref())
        };

        // Interaction.
        if response.drag_started_by(egui::PointerButton::Primary) {
            if let Some(p) = response.interact_pointer_pos() {
                self.placing.dragging = marker_at(p);
            }
        }
        if response.dragged() {
            let d = response.drag_delta();
            if self.placing.dragging.is_some() {
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
            if let (Some(i), Some(p)) = (
                self.placing.dragging.take(),
                response.interact_pointer_pos(),
            ) {
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
                    self.placing.selected = Some(i);
                } else if self.placing.active {
                    match pick(self, p) {
                        Some(at) => self.place_at(at),
                        None => self.say("click on the heart to place a depot", true),
                    }
                } else {
                    self.placing.selected = None;
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
                let key = (p, self.camera, self.cut.mode, self.cut.offset);
                let hit = match &self.picture.hover {
                    Some((k, hit)) if *k == key => *hit,
                    _ => {
                        let hit = pick(self, p);
                        self.picture.hover = Some((key, hit));
                        hit
                    }
                };
                if let Some(at) = hit {
                    response.clone().on_hover_text_at_pointer(format!(
                        "({:.1}, {:.1}, {:.1}) mm{}",
                        at.x,
                        at.y,
                        at.z,
                        if self.placing.active {
                            " — click to place a depot"
                        } else {
                            ""
                        }
                    ));
                }
            }
        }
        if let Some(i) = self.placing.selected {
            if ui.input(|inp| inp.key_pressed(egui::Key::Delete)) && i < self.markers.len() {
                self.delete_depot(i);
            }
        }

        // The colour bar, over the view's lower right corner.
        crate::viewer::plots::colour_bar(
            &painter,
            rect,
            self.colours.range,
            self.colours.log_scale,
            &self.model.table.species[self.species].id,
            self.ec50(),
        );
    }

    pub(super) fn handle_capture(&mut self, ctx: &egui::Context) {
        if self.menus.capture.is_none() {
            return;
        }
        let figures = self.status_figures();
        let Some(c) = &mut self.menus.capture else {
            return;
        };
        let taken = c.image.lock().ok().and_then(|mut g| g.take());
        if let Some(img) = taken {
            // A headless capture in the browser goes to the page's server (the browser test).
            #[cfg(target_arch = "wasm32")]
            let r = match &c.result {
                Some(_) => {
                    png_bytes(&img).map(|png| crate::web::files::post("/capture", &png, &figures))
                }
                None => save_png(&c.path, &img),
            };
            #[cfg(not(target_arch = "wasm32"))]
            let r = save_png(&c.path, &img);
            let path = c.path.clone();
            match c.result.take() {
                Some(slot) => {
                    if let Ok(mut g) = slot.lock() {
                        *g = Some(r.map(|()| figures));
                    }
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                None => {
                    self.menus.capture = None;
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

    /// What the status bar shows, for scripts timing the window.
    fn status_figures(&self) -> String {
        let [nx, ny, nz] = self.session.problem().grid.dims;
        #[cfg(target_arch = "wasm32")]
        let load = crate::web::first_frame_s().map_or(String::new(), |s| {
            format!(" · first frame {s:.1} s after load")
        });
        #[cfg(not(target_arch = "wasm32"))]
        let load = String::new();
        format!(
            "{} · {nx}×{ny}×{nz} voxels at {} mm · frame {:.1} ms · {:.1} steps/s · t = {:.2} h{load}",
            self.ctx.report.name,
            self.session.problem().grid.spacing,
            self.pacing.frame_ms,
            self.pacing.steps_per_s,
            self.session.simulation().time() / 3600.0
        )
    }

    /// Saves the window as a PNG (menu: Screenshot).
    pub(in crate::viewer) fn screenshot(&mut self, ctx: &egui::Context, path: PathBuf) {
        if self.menus.capture.is_some() {
            return self.say("a screenshot is already being taken", true);
        }
        self.menus.capture = Some(Capture {
            path,
            frames_left: 1,
            requested: false,
            result: None,
            image: Default::default(),
        });
        ctx.request_repaint();
    }
}

/// A camera looking at the heart's anterior wall from a little above, the whole heart in view.
pub(super) fn default_camera(heart: &Heart) -> OrbitCamera {
    let (centre, radius) = heart.scene.bounds();
    let from = match &heart.anatomy {
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

fn rgba(img: &egui::ColorImage) -> Vec<u8> {
    img.pixels
        .iter()
        .flat_map(|c| c.to_srgba_unmultiplied())
        .collect()
}

#[cfg(not(target_arch = "wasm32"))]
fn save_png(path: &std::path::Path, img: &egui::ColorImage) -> std::result::Result<(), String> {
    let [w, h] = img.size;
    let tmp = path.with_extension("png.part");
    image::save_buffer_with_format(
        &tmp,
        &rgba(img),
        w as u32,
        h as u32,
        image::ColorType::Rgba8,
        image::ImageFormat::Png,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The picture as PNG bytes.
#[cfg(target_arch = "wasm32")]
fn png_bytes(img: &egui::ColorImage) -> std::result::Result<Vec<u8>, String> {
    let [w, h] = img.size;
    let mut out = std::io::Cursor::new(Vec::new());
    image::write_buffer_with_format(
        &mut out,
        &rgba(img),
        w as u32,
        h as u32,
        image::ColorType::Rgba8,
        image::ImageFormat::Png,
    )
    .map_err(|e| format!("the screenshot: {e}"))?;
    Ok(out.into_inner())
}

/// In the browser: the picture handed over as a download named as `path`'s file name.
#[cfg(target_arch = "wasm32")]
fn save_png(path: &std::path::Path, img: &egui::ColorImage) -> std::result::Result<(), String> {
    let name = path
        .file_name()
        .map_or("secretome.png".into(), |n| n.to_string_lossy().into_owned());
    crate::web::files::download(&name, &png_bytes(img)?, "image/png")
}
