//! `secretome view [SCENARIO]`: the interactive viewer (eframe + wgpu). The window and the
//! solver share one wgpu device: eframe opens it with the solver's adapter choice and limits,
//! and the same `Simulation` the batch runs use advances in the frame loop.

pub(crate) mod app;
mod bullseye;
pub(crate) mod lessons;
mod panels;
mod parameters;
mod plots;
mod save;
mod view_spec;

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Result;

use secretome::scenario::Scenario;

#[cfg(not(target_arch = "wasm32"))]
mod desktop;
#[cfg(not(target_arch = "wasm32"))]
pub use desktop::{execute, ViewArgs};

/// The scenario the viewer opens when none is named: the intramyocardial preset.
pub(crate) const DEFAULT_SCENARIO: &str =
    include_str!("../../assets/scenarios/intramyocardial.toml");

/// Where the screenshot of a headless capture ends up: the status bar's figures when it was
/// taken (adapter, grid, frame time, steps/s, time), or the error if saving failed.
pub type CaptureResult = Arc<Mutex<Option<Result<String, String>>>>;

/// Loads a scenario file, or the default preset.
pub fn load(path: Option<&Path>) -> Result<Scenario> {
    Ok(match path {
        Some(p) => Scenario::load(p)?,
        None => Scenario::parse(
            DEFAULT_SCENARIO,
            "intramyocardial.toml",
            Path::new("assets/scenarios"),
            &secretome::SpeciesTable::default_table()?,
        )?,
    })
}
