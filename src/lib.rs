//! Secretome: reaction–diffusion of MSC-secreted growth factors in the infarcted heart,
//! on any GPU through wgpu (WGSL compute shaders), with a double-precision CPU twin.
//!
//! The modules follow the data path, each using only those before it (a test,
//! `architecture::layers`, checks every `use`):
//!
//! 1. `base`: the leaf types (grid, tissue labels, species table, units, files, colour map);
//! 2. `scenario`: a scenario file read into resolved values;
//! 3. `geometry`: the heart built and labelled from a scenario's geometry;
//! 4. `problem`: cells placed by their routes, sources and terms: what the solvers advance;
//! 5. `gpu`: the device, the shaders and the Rust twins of their structs;
//! 6. `sim`: the solvers (`Simulation` on the GPU, `CpuReference` its f64 twin) and readouts;
//! 7. `output`: the files a run writes (`.vti`, report pictures);
//! 8. `batch` (runs and sweeps), `session` (a live run steered by the viewer), `render` (the
//!    3D picture), `bench`: the engines the command line and the viewer drive.
//!
//! The library knows nothing of windows; the binary holds the command line (`cli`) and the
//! egui viewer (`viewer`).

pub mod error;

pub mod base;

pub mod scenario;

pub mod geometry;

pub mod problem;

pub mod gpu;

pub mod sim;

pub mod output;

pub mod batch;

pub mod bench;

pub mod render;

pub mod session;

pub use base::{Grid, LabelTable, Species, SpeciesTable, TissueLabel};
pub use error::{InputError, Result, SimError};
pub use gpu::GpuContext;
pub use problem::{Problem, SourceMap, Terms};
pub use sim::{CpuReference, Ledger, Simulation};
