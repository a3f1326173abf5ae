//! The viewer in a web page (wasm32, WebGPU): `web/index.html` holds a canvas `secretome`
//! and a status line `status`. [`start`] builds the heart in the page (the default lesson, or
//! the one the address names) and runs the desktop's viewer in the canvas, on the browser's
//! WebGPU adapter, with the same solver.
//!
//! The page's address takes the desktop's `view` options as parameters: `lesson=FILE.toml`
//! (a preset of `assets/scenarios/`), `spacing=MM`, `species=ID`, `start_at=H`, `cut`,
//! `speed=H_PER_S`, and `capture=N` (after N frames the page sends a picture of itself to
//! `POST /capture` on its own server: the browser test's screenshot).

pub mod files;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context, Result};
use wasm_bindgen::JsCast;

use secretome::problem::build::build;
use secretome::scenario::Scenario;

use crate::viewer::lessons::LESSONS;
use crate::viewer::{app, CaptureResult, DEFAULT_SCENARIO};

/// The page's options, from its address.
#[derive(Default)]
struct Params {
    lesson: Option<String>,
    spacing: Option<f64>,
    species: Option<String>,
    start_at: Option<f64>,
    cut: bool,
    speed: Option<f64>,
    capture: Option<u32>,
}

impl Params {
    fn of_page() -> Result<Params> {
        let search = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        let q = web_sys::UrlSearchParams::new_with_str(&search)
            .map_err(|_| anyhow!("the page's address {search:?} could not be read"))?;
        let number = |key: &str| -> Result<Option<f64>> {
            match q.get(key) {
                None => Ok(None),
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .map(Some)
                    .ok_or_else(|| anyhow!("?{key}={v}: expected a number ≥ 0")),
            }
        };
        Ok(Params {
            lesson: q.get("lesson"),
            spacing: number("spacing")?,
            species: q.get("species"),
            start_at: number("start_at")?,
            cut: q.has("cut"),
            speed: number("speed")?,
            capture: number("capture")?.map(|n| n as u32),
        })
    }
}

thread_local! {
    /// When the viewer's first frame was drawn, s after the page began loading.
    static FIRST_FRAME: std::cell::Cell<Option<f64>> = const { std::cell::Cell::new(None) };
}

/// Seconds since the page began loading.
fn page_s() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now() / 1000.0)
}

/// Called at every frame: the first one's time is kept.
pub fn frame_drawn() {
    FIRST_FRAME.with(|f| {
        if f.get().is_none() {
            f.set(Some(page_s()));
        }
    });
}

/// The page's load to its first frame, s (once drawn).
pub fn first_frame_s() -> Option<f64> {
    FIRST_FRAME.with(|f| f.get())
}

/// Writes one line under the canvas (an empty line hides it).
pub fn status(text: &str) {
    let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("status"))
    else {
        return;
    };
    el.set_text_content(Some(text));
    if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
        let _ = el
            .style()
            .set_property("display", if text.is_empty() { "none" } else { "block" });
    }
}

/// Starts the viewer in the page (called by `main` in the browser).
pub fn start() {
    let _ = eframe::WebLogger::init(log::LevelFilter::Warn);
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = run().await {
            let line = format!("{e:#}");
            log::error!("{line}");
            status(&line);
        }
    });
}

/// A lesson by its file name, with its text.
fn lesson(file: &str) -> Result<(Scenario, String)> {
    let (_, name, text) = LESSONS.iter().find(|(_, f, _)| *f == file).ok_or_else(|| {
        let names: Vec<&str> = LESSONS.iter().map(|(_, f, _)| *f).collect();
        anyhow!("?lesson={file}: expected one of {}", names.join(", "))
    })?;
    Ok((parse(text, name)?, text.to_string()))
}

/// A scenario's text as the desktop reads a preset (relative files from `assets/scenarios`,
/// which the page does not have: its presets name none).
pub fn parse(text: &str, name: &str) -> Result<Scenario> {
    Ok(Scenario::parse(
        text,
        name,
        Path::new("assets/scenarios"),
        &secretome::SpeciesTable::default_table()?,
    )?)
}

async fn run() -> Result<()> {
    let p = Params::of_page()?;
    status("building the heart…");
    // Let the page show the line before the build takes the thread.
    secretome::gpu::web::next_task().await;
    let (mut scenario, text) = match &p.lesson {
        Some(f) => lesson(f)?,
        None => (crate::viewer::load(None)?, DEFAULT_SCENARIO.to_string()),
    };
    if let Some(h) = p.spacing {
        if h <= 0.0 {
            return Err(anyhow!("?spacing={h}: expected a voxel edge > 0 mm"));
        }
        scenario.grid_spacing_mm = h;
    }
    let t0 = web_time::Instant::now();
    let built = build(&scenario).with_context(|| format!("building {}", scenario.name))?;
    log::info!(
        "built {} in {:.2} s",
        scenario.name,
        t0.elapsed().as_secs_f64()
    );
    let species =
        match &p.species {
            Some(id) => {
                Some(built.problem.species.index_of(id).ok_or_else(|| {
                    anyhow!("?species={id}: expected one of VEGF, HGF, SDF1a, TSG6")
                })?)
            }
            None => None,
        };
    let capture: Option<(PathBuf, u32, CaptureResult)> = p
        .capture
        .map(|n| (PathBuf::from("capture.png"), n, Arc::new(Mutex::new(None))));
    let start = app::Start {
        scenario,
        scenario_text: text,
        path: None,
        built,
        species,
        speed: p.speed.unwrap_or(0.5),
        start_at_h: p.start_at,
        cut: p.cut,
        capture,
    };
    status("opening WebGPU…");
    let canvas = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("secretome"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        .ok_or_else(|| anyhow!("the page has no <canvas id=\"secretome\">"))?;
    let options = eframe::WebOptions {
        wgpu_options: wgpu_options(),
        ..Default::default()
    };
    let (create, failed) = app::creator(start);
    let started = eframe::WebRunner::new()
        .start(canvas, options, create)
        .await;
    if let Some(e) = failed.lock().ok().and_then(|g| g.clone()) {
        return Err(anyhow!("{e}"));
    }
    started.map_err(|e| {
        anyhow!(
            "WebGPU: {} (this page needs a browser with WebGPU: Chrome/Edge 113+, Firefox 141+, Safari 26+)",
            e.as_string()
                .or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()))
                .unwrap_or_else(|| "the viewer could not start".into())
        )
    })?;
    status("");
    Ok(())
}

/// egui opens the device the solver asks for: WebGPU only, the adapter's own limits.
fn wgpu_options() -> eframe::egui_wgpu::WgpuConfiguration {
    use eframe::egui_wgpu::{WgpuSetup, WgpuSetupCreateNew};
    let mut setup = WgpuSetupCreateNew::without_display_handle();
    setup.instance_descriptor.backends = wgpu::Backends::BROWSER_WEBGPU;
    setup.power_preference = wgpu::PowerPreference::HighPerformance;
    setup.device_descriptor = Arc::new(secretome::gpu::device_descriptor);
    eframe::egui_wgpu::WgpuConfiguration {
        wgpu_setup: WgpuSetup::CreateNew(setup),
        ..Default::default()
    }
}
