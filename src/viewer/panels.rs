//! The menu bar, the control and information panels, the status bar and the file dialogs.

use std::path::{Path, PathBuf};

use eframe::egui::{self, Color32, RichText};

use secretome::geometry::infarct::Territory;
use secretome::scenario::{GeometrySpec, Scenario};

use super::app::{CutMode, PlaceRoute, ViewerApp, RETAINED};
use super::lessons::LESSONS;
use super::save::{self, DialogKind, FileDialog, PointDepot, SavedState};

/// Time as the status bar and controls show it: hours under two days, days above.
pub fn time_text(h: f64) -> String {
    if h < 48.0 {
        format!("{h:.2} h")
    } else {
        format!("{:.2} d ({h:.0} h)", h / 24.0)
    }
}

impl ViewerApp {
    pub(super) fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                #[cfg(target_arch = "wasm32")]
                if self.web_file_menu(ui) {
                    return;
                }
                if ui.button("Open scenario…").clicked() {
                    self.menus.file_dialog = Some(FileDialog {
                        kind: DialogKind::Open,
                        path: self
                            .opened
                            .path
                            .as_ref()
                            .map_or("assets/scenarios/".into(), |p| p.display().to_string()),
                    });
                }
                if ui.button("Save scenario…").clicked() {
                    self.menus.file_dialog = Some(FileDialog {
                        kind: DialogKind::Save,
                        path: format!("{}_saved.toml", self.opened.scenario.name),
                    });
                }
                if ui.button("Save screenshot…").clicked() {
                    self.menus.file_dialog = Some(FileDialog {
                        kind: DialogKind::Screenshot,
                        path: format!("{}_{:.0}h.png", self.opened.scenario.name, self.time_h()),
                    });
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Lessons", |ui| {
                for group in ["Three axes", "Routes"] {
                    ui.label(RichText::new(group).strong());
                    for (g, file, text) in LESSONS {
                        if *g != group {
                            continue;
                        }
                        if ui.button(file.trim_end_matches(".toml")).clicked() {
                            self.open_text(text, file);
                        }
                    }
                    ui.separator();
                }
            });
            ui.menu_button("View", |ui| {
                for (label, which) in [
                    ("Short axis (from the base)", "short"),
                    ("Long axis (from the side)", "long"),
                    ("Anterior", "anterior"),
                ] {
                    if ui.button(label).clicked() {
                        self.standard_view(which);
                    }
                }
                if ui.button("Reset view").clicked() {
                    self.camera = self.default_camera();
                }
            });
        });
    }

    /// Opens scenario text from the lessons.
    pub(super) fn open_text(&mut self, text: &str, file: &str) {
        let table = match secretome::SpeciesTable::default_table() {
            Ok(t) => t,
            Err(e) => return self.say(e.to_string(), true),
        };
        match Scenario::parse(text, file, Path::new("assets/scenarios"), &table) {
            Ok(sc) => {
                self.opened.text = text.to_string();
                self.open(sc, None);
            }
            Err(e) => self.say(e.to_string(), true),
        }
    }

    pub(super) fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let grid = &self.session.problem().grid;
            let [nx, ny, nz] = grid.dims;
            // Through a CPU driver the surface may be drawn coarser than the grid.
            let surface = if self.heart.scene.mesh_step > grid.spacing * 1.01 {
                format!(" (surface drawn at {:.1} mm)", self.heart.scene.mesh_step)
            } else {
                String::new()
            };
            ui.label(format!(
                "{} · {nx}×{ny}×{nz} voxels at {} mm{surface} · {:.1} steps/s · frame {:.1} ms · t = {}",
                self.ctx.report.name,
                grid.spacing,
                self.pacing.steps_per_s,
                self.pacing.frame_ms,
                time_text(self.time_h())
            ));
            if let Some((text, error)) = &self.menus.message {
                ui.separator();
                let colour = if *error {
                    Color32::from_rgb(255, 110, 110)
                } else {
                    Color32::LIGHT_GRAY
                };
                ui.label(RichText::new(text).color(colour));
            }
        });
    }

    pub(super) fn controls(&mut self, ui: &mut egui::Ui) {
        ui.heading("Simulation");
        ui.label(format!(
            "t = {}   (dt {} s)",
            time_text(self.time_h()),
            self.dt()
        ));
        ui.horizontal(|ui| {
            let label = if self.pacing.playing { "Pause" } else { "Play" };
            if ui.button(label).clicked() {
                self.pacing.playing = !self.pacing.playing;
            }
            if ui.button("Step").clicked() {
                self.pacing.playing = false;
                self.step(1);
            }
            if ui.button("Reset").clicked() {
                self.reset();
            }
        });
        ui.add(
            egui::Slider::new(&mut self.pacing.speed_h_per_s, 0.01..=48.0)
                .logarithmic(true)
                .text("h simulated / s"),
        );

        ui.separator();
        ui.heading("Field");
        let names: Vec<String> = self
            .model
            .table
            .species
            .iter()
            .map(|s| s.id.clone())
            .collect();
        let mut sp = self.species;
        egui::ComboBox::from_label("species")
            .selected_text(names[sp].clone())
            .show_ui(ui, |ui| {
                for (k, n) in names.iter().enumerate() {
                    ui.selectable_value(&mut sp, k, n);
                }
            });
        if sp != self.species {
            self.set_species(sp);
        }
        let was_log = self.colours.log_scale;
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.colours.log_scale, true, "log");
            ui.selectable_value(&mut self.colours.log_scale, false, "linear");
            ui.checkbox(&mut self.colours.auto_range, "auto range")
                .on_hover_text("off: a fixed range around the species' EC50 (edit it below)");
        });
        if self.colours.log_scale != was_log {
            self.range_around_ec50();
        }
        if self.colours.log_scale && self.colours.auto_range {
            ui.add(egui::Slider::new(&mut self.colours.decades, 1.0..=6.0).text("decades"));
        }
        if !self.colours.auto_range {
            ui.horizontal(|ui| {
                ui.label("range");
                let speed = self.colours.range.1 * 0.01;
                let lo = self.colours.range.0;
                let shown = |v: f64, _| super::plots::short(v);
                ui.add(
                    egui::DragValue::new(&mut self.colours.range.0)
                        .speed(speed)
                        .range(0.0..=f64::MAX)
                        .custom_formatter(shown),
                );
                ui.add(
                    egui::DragValue::new(&mut self.colours.range.1)
                        .speed(speed)
                        .range(lo..=f64::MAX)
                        .custom_formatter(shown),
                );
                ui.label("ng/mL");
            });
        }
        ui.horizontal(|ui| {
            ui.label("cut");
            egui::ComboBox::from_id_salt("cut")
                .selected_text(match self.cut.mode {
                    CutMode::None => "none",
                    CutMode::ShortAxis => "short axis",
                    CutMode::LongAxis => "long axis",
                    CutMode::Camera => "facing camera",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.cut.mode, CutMode::None, "none");
                    ui.selectable_value(&mut self.cut.mode, CutMode::ShortAxis, "short axis");
                    ui.selectable_value(&mut self.cut.mode, CutMode::LongAxis, "long axis");
                    ui.selectable_value(&mut self.cut.mode, CutMode::Camera, "facing camera");
                });
        });
        if self.cut.mode != CutMode::None {
            ui.add(egui::Slider::new(&mut self.cut.offset, 0.0..=1.0).text("plane position"));
            ui.checkbox(&mut self.cut.outlines, "outline infarct / border zone");
        }

        ui.separator();
        ui.heading("Place cells");
        ui.checkbox(
            &mut self.placing.active,
            "click on the heart places a depot",
        );
        ui.horizontal(|ui| {
            ui.selectable_value(
                &mut self.placing.route,
                PlaceRoute::Intramyocardial,
                "intramyocardial",
            );
            ui.selectable_value(
                &mut self.placing.route,
                PlaceRoute::Transendocardial,
                "transendocardial",
            );
        });
        ui.add(
            egui::Slider::new(&mut self.placing.dose, 1e5..=1e9)
                .logarithmic(true)
                .text("cells delivered"),
        );
        ui.small(format!(
            "{:.0} % retained at 1 h: {:.2e} cells in the depot",
            RETAINED * 100.0,
            self.placing.dose * RETAINED
        ));
        ui.add(egui::Slider::new(&mut self.placing.radius, 0.5..=6.0).text("radius, mm"));
        ui.small("drag a depot to move it; select it to edit or delete (Del)");

        ui.separator();
        ui.heading("Equation");
        let before = self.model.terms;
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.model.terms.diffusion, "diffusion");
            ui.checkbox(&mut self.model.terms.decay, "decay");
            ui.checkbox(&mut self.model.terms.uptake, "uptake");
            ui.checkbox(&mut self.model.terms.exchange, "exchange");
            ui.checkbox(&mut self.model.terms.sources, "secretion");
        });
        if self.model.terms != before {
            self.apply_terms();
        }
        if ui
            .checkbox(&mut self.model.autocrine, "autocrine survival feedback")
            .changed()
        {
            self.apply_autocrine();
        }

        ui.separator();
        let s = self.species;
        ui.heading(format!("{} parameters", self.model.table.species[s].id))
            .on_hover_text("hover a slider for the value's source and its confidence");
        self.parameter_sliders(ui);

        ui.separator();
        ui.heading("Geometry");
        let is_box = matches!(self.opened.scenario.geometry, GeometrySpec::Box { .. });
        ui.add(
            egui::Slider::new(&mut self.geometry.spacing, 0.25..=4.0)
                .logarithmic(true)
                .text("voxel edge, mm"),
        );
        if !is_box {
            egui::ComboBox::from_label("infarct")
                .selected_text(self.geometry.territory.map_or("none", |t| t.name()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.geometry.territory, None, "none");
                    for t in [Territory::Lad, Territory::Rca, Territory::Lcx] {
                        ui.selectable_value(&mut self.geometry.territory, Some(t), t.name());
                    }
                });
            if self.geometry.territory.is_some() {
                ui.add(
                    egui::Slider::new(&mut self.geometry.transmural, 0.1..=1.0).text("transmural"),
                );
                ui.add(
                    egui::Slider::new(&mut self.geometry.border_zone, 0.0..=10.0)
                        .text("border zone, mm"),
                );
            }
        }
        if ui
            .button("Re-voxelise")
            .on_hover_text("rebuild the grid with this spacing and infarct (the run restarts)")
            .clicked()
        {
            self.revoxelise();
        }
    }

    pub(super) fn info_panel(&mut self, ui: &mut egui::Ui) {
        if let Some((name, text)) = &self.menus.lesson {
            ui.heading(name.clone());
            if text.is_empty() {
                ui.label("(this scenario has no description)");
            } else {
                ui.label(text.clone());
            }
            ui.separator();
        }
        ui.heading("Depots");
        if self.markers.is_empty() {
            ui.label("none in the heart: tick “click on the heart places a depot”");
        }
        let mut select = None;
        for i in 0..self.markers.len() {
            let live = self.live_cells(i);
            let text = format!("{} · {:.2e} cells", self.markers[i].name, live);
            if ui
                .selectable_label(self.placing.selected == Some(i), text)
                .clicked()
            {
                select = Some(i);
            }
        }
        if let Some(i) = select {
            self.placing.selected = Some(i);
        }
        let remote = self
            .session
            .simulation()
            .problem()
            .compartment
            .remote
            .clone();
        if !remote.is_empty() {
            ui.label(RichText::new("remote sites (through plasma)").italics());
            for (d, r) in remote.iter().enumerate() {
                let cells = self
                    .readouts
                    .snapshot
                    .as_ref()
                    .and_then(|s| s.remote_cells.get(d).copied())
                    .unwrap_or(r.cells);
                ui.label(format!("{} · {cells:.2e} cells", r.name));
            }
        }
        if let Some(i) = self.placing.selected.filter(|&i| i < self.markers.len()) {
            ui.separator();
            ui.label(RichText::new(self.markers[i].name.clone()).strong());
            let c = self.markers[i].centre;
            ui.label(format!("at ({:.1}, {:.1}, {:.1}) mm", c.x, c.y, c.z));
            let mut cells = self.live_cells(i);
            let mut radius = self.markers[i].radius_mm;
            let r1 = ui.add(
                egui::Slider::new(&mut cells, 0.0..=1e9)
                    .logarithmic(true)
                    .text("cells now"),
            );
            if r1.drag_stopped() || (r1.changed() && !r1.dragged()) {
                self.set_cells(i, cells);
            }
            let r2 = ui.add(egui::Slider::new(&mut radius, 0.5..=8.0).text("radius, mm"));
            if r2.changed() {
                self.markers[i].radius_mm = radius;
            }
            if r2.drag_stopped() || (r2.changed() && !r2.dragged()) {
                self.move_depot(i, c, radius);
            }
            if ui.button("Delete depot").clicked() {
                self.delete_depot(i);
            }
        }
        ui.separator();
        ui.heading("AHA bullseye");
        self.bullseye_ui(ui);
        if let Some(s) = &self.readouts.snapshot {
            ui.separator();
            ui.heading("Plasma");
            ui.small("from the cells, on top of the endogenous level");
            for (k, v) in s.plasma.iter().enumerate() {
                let sp = &self.model.table.species[k];
                let b = sp.baseline_plasma.value;
                ui.label(if b > 0.0 {
                    format!(
                        "{}: {v:.3e} ng/mL, {:.3} % of the endogenous {b} ng/mL",
                        sp.id,
                        100.0 * v / b
                    )
                } else {
                    format!("{}: {v:.3e} ng/mL", sp.id)
                });
            }
        }
    }

    pub(super) fn dialogs(&mut self, ctx: &egui::Context) {
        let Some(d) = &mut self.menus.file_dialog else {
            return;
        };
        let title = match d.kind {
            DialogKind::Open => "Open scenario",
            DialogKind::Save => "Save scenario",
            DialogKind::Screenshot => "Save screenshot",
        };
        let mut go = false;
        let mut cancel = false;
        egui::Window::new(title)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label("file:");
                let r = ui.add(egui::TextEdit::singleline(&mut d.path).desired_width(360.0));
                if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    go = true;
                }
                if d.kind == DialogKind::Open {
                    let dir = Path::new(&d.path);
                    let dir = if dir.is_dir() {
                        dir.to_path_buf()
                    } else {
                        dir.parent().map_or(PathBuf::from("."), Path::to_path_buf)
                    };
                    if let Ok(entries) = std::fs::read_dir(&dir) {
                        let mut files: Vec<PathBuf> = entries
                            .filter_map(|e| e.ok().map(|e| e.path()))
                            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                            .collect();
                        files.sort();
                        egui::ScrollArea::vertical()
                            .max_height(200.0)
                            .show(ui, |ui| {
                                for f in files {
                                    if ui.link(f.display().to_string()).clicked() {
                                        d.path = f.display().to_string();
                                    }
                                }
                            });
                    }
                }
                ui.horizontal(|ui| {
                    go |= ui.button("OK").clicked();
                    cancel = ui.button("Cancel").clicked();
                });
            });
        if cancel {
            self.menus.file_dialog = None;
        } else if go {
            let kind = d.kind;
            let path = PathBuf::from(d.path.trim());
            self.menus.file_dialog = None;
            match kind {
                DialogKind::Open => match std::fs::read_to_string(&path) {
                    Ok(text) => match Scenario::load(&path) {
                        Ok(sc) => {
                            self.opened.text = text;
                            self.open(sc, Some(path));
                        }
                        Err(e) => self.say(e.to_string(), true),
                    },
                    Err(e) => self.say(format!("{}: {e}", path.display()), true),
                },
                DialogKind::Save => self.save_scenario(&path),
                DialogKind::Screenshot => self.screenshot(ctx, path),
            }
        }
    }

    /// The File menu in the browser: the page's file dialog opens a scenario, saving hands
    /// the scenario or the picture over as a download; there is nothing to quit.
    #[cfg(target_arch = "wasm32")]
    fn web_file_menu(&mut self, ui: &mut egui::Ui) -> bool {
        if ui.button("Open scenario…").clicked() {
            if let Err(e) = crate::web::files::pick_scenario() {
                self.say(e, true);
            }
        }
        if ui.button("Save scenario").clicked() {
            let name = format!("{}_saved.toml", self.opened.scenario.name);
            self.save_scenario(Path::new(&name));
        }
        if ui.button("Save screenshot").clicked() {
            let name = format!("{}_{:.0}h.png", self.opened.scenario.name, self.time_h());
            self.screenshot(ui.ctx(), PathBuf::from(name));
        }
        true
    }

    /// Opens the scenario picked in the page's file dialog, once it has been read.
    #[cfg(target_arch = "wasm32")]
    pub(super) fn poll_picked(&mut self) {
        match crate::web::files::take_picked() {
            Some(Ok((name, text))) => match crate::web::parse(&text, &name) {
                Ok(sc) => {
                    self.opened.text = text;
                    self.open(sc, None);
                }
                Err(e) => self.say(format!("{e:#}"), true),
            },
            Some(Err(e)) => self.say(e, true),
            None => {}
        }
    }

    pub(super) fn save_scenario(&mut self, path: &Path) {
        let kept = save::kept_remote_names(&self.opened.text);
        let depots: Vec<PointDepot> = self
            .markers
            .iter()
            .enumerate()
            .filter(|(_, m)| !kept.iter().any(|k| save::belongs(&m.name, k)))
            .map(|(i, m)| PointDepot {
                name: m.name.clone(),
                at: m.centre.to_array(),
                radius_mm: m.radius_mm,
                cells: self.live_cells(i),
            })
            .collect();
        let is_box = matches!(self.opened.scenario.geometry, GeometrySpec::Box { .. });
        let loaded = self.model.loaded.clone();
        let r = save::scenario_toml(&SavedState {
            original: &self.opened.text,
            spacing_mm: self.geometry.spacing,
            infarct: (!is_box).then_some(
                self.geometry
                    .territory
                    .map(|t| (t, self.geometry.transmural, self.geometry.border_zone)),
            ),
            terms: self.model.terms,
            autocrine: self.model.autocrine,
            table: &self.model.table,
            loaded: &loaded,
            depots,
        })
        .and_then(|text| save::write_atomically(path, &text));
        match r {
            Ok(()) => self.say(format!("saved {}", path.display()), false),
            Err(e) => self.say(format!("{e:#}"), true),
        }
    }
}
