//! `secretome view` on a desktop: its options, the window (eframe's native runner on the
//! solver's adapter choice) and `view --bench`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;

use secretome::problem::build::build;

use super::{app, load, CaptureResult, DEFAULT_SCENARIO};

#[derive(Args, Clone, Debug)]
#[command(allow_negative_numbers = true)]
pub struct ViewArgs {
    /// Scenario file (TOML; see assets/scenarios/). Default: the intramyocardial preset.
    pub scenario: Option<PathBuf>,
    /// Render --frames frames (simulating as it goes), save the window as this PNG and exit.
    #[arg(long)]
    pub screenshot: Option<PathBuf>,
    /// Frames rendered before the screenshot.
    #[arg(long, default_value_t = 30)]
    pub frames: u32,
    /// Simulate this many hours before the first frame (for pictures of a later state).
    #[arg(long)]
    pub start_at: Option<f64>,
    /// Species shown first (VEGF, HGF, SDF1a, TSG6, ...); default: the scenario's [view].
    #[arg(long)]
    pub species: Option<String>,
    /// Simulated hours per second of wall time.
    #[arg(long, default_value_t = 0.5)]
    pub speed: f64,
    /// Window size in points, WIDTHxHEIGHT.
    #[arg(long, default_value = "1440x900")]
    pub size: String,
    /// Open with the heart cut open on its short axis through the first depot (the slice
    /// shows the field inside the wall), whatever the scenario's [view] says.
    #[arg(long)]
    pub cut: bool,
    /// Replace the scenario's voxel edge, mm (coarser runs faster; the window can also
    /// re-voxelise).
    #[arg(long)]
    pub spacing: Option<f64>,
    /// Time the window's frame loop without opening a window: --frames frames of stepping
    /// and drawing the 3D picture (the size it has in a --size window), then print frames/s
    /// and steps/s. Needs no display.
    #[arg(long)]
    pub bench: bool,
}

fn parse_size(s: &str) -> Result<[f32; 2]> {
    let bad = || anyhow!("--size {s}: expected WIDTHxHEIGHT in points, e.g. 1440x900");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: f32 = w.trim().parse().map_err(|_| bad())?;
    let h: f32 = h.trim().parse().map_err(|_| bad())?;
    if !(320.0..=8192.0).contains(&w) || !(240.0..=8192.0).contains(&h) {
        bail!("--size {s}: expected 320–8192 × 240–8192 points");
    }
    Ok([w, h])
}

pub fn execute(a: ViewArgs) -> Result<()> {
    let size = parse_size(&a.size)?;
    if a.frames == 0 {
        bail!("--frames 0: expected at least one frame");
    }
    if !(a.speed > 0.0 && a.speed.is_finite()) {
        bail!(
            "--speed {}: expected simulated hours per second > 0",
            a.speed
        );
    }
    if let Some(h) = a.start_at {
        if !(h >= 0.0 && h.is_finite()) {
            bail!("--start-at {h}: expected hours ≥ 0");
        }
    }
    if a.bench && a.screenshot.is_some() {
        bail!("--bench and --screenshot: expected one of them (--bench opens no window)");
    }
    if let Some(p) = &a.screenshot {
        if p.extension().and_then(|e| e.to_str()) != Some("png") {
            bail!("--screenshot {}: expected a .png file name", p.display());
        }
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                bail!(
                    "--screenshot {}: the directory {} does not exist",
                    p.display(),
                    dir.display()
                );
            }
        }
    }
    // Everything that can fail without a GPU fails before a window opens.
    let mut scenario = load(a.scenario.as_deref())?;
    if let Some(h) = a.spacing {
        if !(h > 0.0 && h.is_finite()) {
            bail!("--spacing {h}: expected a positive voxel edge in mm");
        }
        scenario.grid_spacing_mm = h;
    }
    let scenario_text = match &a.scenario {
        Some(p) => std::fs::read_to_string(p).with_context(|| p.display().to_string())?,
        None => DEFAULT_SCENARIO.to_string(),
    };
    let built = build(&scenario)?;
    let table = &built.problem.species;
    let species = match &a.species {
        Some(id) => Some(table.index_of(id).ok_or_else(|| {
            anyhow!(
                "--species {id}: expected one of {}",
                table
                    .species
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?),
        None => None,
    };
    let capture: CaptureResult = Arc::new(Mutex::new(None));
    let start = app::Start {
        scenario,
        scenario_text,
        path: a.scenario.clone(),
        built,
        species,
        speed: a.speed,
        start_at_h: a.start_at,
        cut: a.cut,
        capture: a.screenshot.clone().map(|p| (p, a.frames, capture.clone())),
    };
    if a.bench {
        return bench(start, a.frames, size);
    }
    if cfg!(target_os = "linux")
        && a.screenshot.is_none()
        && ["DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET"]
            .iter()
            .all(|v| std::env::var_os(v).is_none_or(|x| x.is_empty()))
    {
        bail!(
            "no display: neither DISPLAY nor WAYLAND_DISPLAY is set (for pictures without \
             one: xvfb-run secretome view --screenshot FILE.png)"
        );
    }

    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_inner_size(size)
            .with_min_inner_size([640.0, 480.0])
            .with_title(format!("Secretome — {}", start.scenario.name)),
        renderer: eframe::Renderer::Wgpu,
        wgpu_options: wgpu_options(),
        ..Default::default()
    };
    let (create, init_error) = app::creator(start);
    let result = eframe::run_native("secretome", options, create);
    if let Some(e) = init_error.lock().ok().and_then(|g| g.clone()) {
        bail!("{e}");
    }
    result
        .map_err(|e| anyhow!("{}", one_line(&e.to_string())))
        .context("the viewer window (is a display available? DISPLAY / WAYLAND_DISPLAY)")?;
    if let Some(p) = &a.screenshot {
        match capture.lock().ok().and_then(|g| g.clone()) {
            Some(Ok(figures)) => eprintln!("saved {}: {figures}", p.display()),
            Some(Err(e)) => bail!("{e}"),
            None => bail!(
                "--screenshot {}: the window closed before the picture was taken",
                p.display()
            ),
        }
    }
    Ok(())
}

/// `view --bench`: the window's state on the solver's own device, driven frame by frame.
fn bench(start: app::Start, frames: u32, size: [f32; 2]) -> Result<()> {
    let ctx = secretome::GpuContext::new().context("opening the GPU")?;
    let mut app = app::ViewerApp::create(ctx, start)?;
    // The 3D view's share of a window of this size in the default layout (side panels of
    // 300 and 280 points, plots of 220, menu and status bars).
    let picture = [
        (size[0] - 600.0).max(160.0) as u32,
        (size[1] - 275.0).max(120.0) as u32,
    ];
    println!("{}", app.bench_frames(frames, picture)?);
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// eframe opens the device the solver would: its adapter ranking and the adapter's limits.
fn wgpu_options() -> eframe::egui_wgpu::WgpuConfiguration {
    use eframe::egui_wgpu::{WgpuSetup, WgpuSetupCreateNew};
    let mut setup = WgpuSetupCreateNew::without_display_handle();
    setup.native_adapter_selector = Some(Arc::new(|adapters, surface| {
        let mut usable: Vec<&wgpu::Adapter> = adapters
            .iter()
            .filter(|a| surface.is_none_or(|s| a.is_surface_supported(s)))
            .collect();
        if let Ok(wanted) = std::env::var("WGPU_ADAPTER_NAME") {
            let w = wanted.to_lowercase();
            usable.retain(|a| a.get_info().name.to_lowercase().contains(&w));
        }
        usable.sort_by_key(|a| secretome::gpu::adapter_rank(a));
        usable
            .first()
            .map(|a| (*a).clone())
            .ok_or_else(|| "no GPU adapter can draw to this window".to_string())
    }));
    setup.device_descriptor = Arc::new(secretome::gpu::device_descriptor);
    eframe::egui_wgpu::WgpuConfiguration {
        wgpu_setup: WgpuSetup::CreateNew(setup),
        ..Default::default()
    }
}
