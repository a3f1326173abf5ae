//! The solvers: `Simulation` on the GPU and `CpuReference`, its double-precision twin.

pub mod compartments;
pub mod cpu_reference;
pub mod ledger;
pub mod levels;
pub mod readouts;
pub mod schedule;
pub mod simulation;

pub use compartments::{Compartments, PlasmaSteps};
pub use cpu_reference::CpuReference;
pub use ledger::{body_closure, Ledger, PlasmaLedger, SpeciesLedger};
pub use readouts::{Exposure, Region, RegionStat, SpeciesStats};
pub use schedule::Schedule;
pub use simulation::{
    bytes_per_voxel, grid_bytes, grid_bytes_per_voxel, stored_bricks, within_budget, FieldSlab,
    LayoutOptions, PendingSnapshot, SimState, Simulation, Snapshot, BRICK_BYTES,
};
