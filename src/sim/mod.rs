//! The solvers: `Simulation` on the GPU and `CpuReference`, its double-precision twin.

pub mod compartments;
pub mod cpu_reference;
pub mod grid;
pub mod ledger;
pub mod problem;
pub mod readouts;
pub mod scheme;
pub mod simulation;

pub use compartments::{Compartments, PlasmaSteps};
pub use cpu_reference::CpuReference;
pub use grid::Grid;
pub use ledger::{body_closure, Ledger, PlasmaLedger, SpeciesLedger};
pub use problem::{
    Autocrine, DepotSource, PlasmaCompartment, Problem, RemoteDepot, SourceEntry, SourceMap, Terms,
};
pub use readouts::{Exposure, Region, RegionStat, SpeciesStats};
pub use scheme::StagePlan;
pub use simulation::{
    bytes_per_voxel, FieldSlab, LayoutOptions, PendingSnapshot, SimState, Simulation, Snapshot,
};
