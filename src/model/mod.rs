//! The science as data: species table, tissue labels, units, depot placement and routes, scenario files.

pub mod build;
pub mod depot;
pub mod route;
pub mod scenario;
pub mod species;
pub mod tissue;
pub mod units;

pub use species::{Parameter, Species, SpeciesTable};
pub use tissue::{LabelKind, LabelProperties, LabelTable, TissueLabel};
