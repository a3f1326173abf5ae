//! The integration tests, one module per subject, in one test binary: the crate links once and
//! the GPU device is opened once (`common::gpu`) for every test. Run one subject with
//! `cargo test --test integration verification::`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

mod common;

mod architecture;
mod cli;
mod converge;
mod depots;
mod errors;
mod gpu_levels;
mod gpu_matches_cpu;
mod heart_geometry;
mod large_grid;
mod levels;
mod mesh_io;
mod plasma;
mod presets_run;
mod readouts;
mod routes;
mod run_outputs;
mod scenario_files;
mod scenario_levels;
mod scenario_malformed;
mod shader_layout;
mod shader_validation;
mod species_table;
mod steering;
mod sweep;
mod verification;
#[cfg(feature = "viewer")]
mod viewer_window;
mod voxelize_shapes;
mod vti_io;
#[cfg(feature = "viewer")]
mod web_page;
