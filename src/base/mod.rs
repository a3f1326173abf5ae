//! The leaf types every layer shares, and nothing else: the voxel grid, tissue labels and their
//! properties, the species table, units, atomic file writing and the colour map. Nothing here
//! uses another module of the crate but `error`.

pub mod atomic;
pub mod colormap;
pub mod grid;
pub mod species;
pub mod tissue;
pub mod units;

pub use grid::Grid;
pub use species::{Parameter, Species, SpeciesTable};
pub use tissue::{LabelKind, LabelProperties, LabelTable, TissueLabel};
