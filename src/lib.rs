//! Secretome: reaction–diffusion of MSC-secreted growth factors in the infarcted heart,
//! on any GPU through wgpu (WGSL compute shaders), with a double-precision CPU twin.
//!
//! The library knows nothing of windows: `model` holds the science as data, `sim` the solvers,
//! `gpu` the device, `bench` the benchmark problems.

pub mod bench;
pub mod error;
pub mod geometry;
pub mod gpu;
pub mod model;
pub mod output;
pub mod runner;
pub mod sim;
pub mod sweep;
pub mod view;

pub use error::{InputError, Result, SimError};
pub use gpu::GpuContext;
pub use model::{LabelTable, Species, SpeciesTable, TissueLabel};
pub use sim::{CpuReference, Grid, Ledger, Problem, Simulation, SourceMap, Terms};
