//! The science as data: species table, tissue labels, units.

pub mod scenario;
pub mod species;
pub mod tissue;
pub mod units;

pub use species::{Parameter, Species, SpeciesTable};
pub use tissue::{LabelKind, LabelMultipliers, LabelTable, TissueLabel};
