//! The heart: procedural biventricular geometry, mesh import, voxelisation into the labelled
//! grid, AHA 17 segments, transmural depth and infarcts (MODEL.md §1).
//!
//! Lengths are in mm throughout.

// Voxel loops index several parallel per-voxel arrays at once; an index reads clearer there.
#![allow(clippy::needless_range_loop)]

pub mod anatomy;
mod base_plane;
pub mod distance;
pub mod frame;
pub mod heart;
pub mod infarct;
pub mod isosurface;
pub mod mesh;
pub mod sites;
pub mod stats;
pub mod voxelize;

pub use anatomy::{label_heart, AnatomyHints, BasePlane, HeartAnatomy};
pub use frame::HeartFrame;
pub use heart::HeartParams;
pub use infarct::{InfarctSpec, Territory};
pub use mesh::{MeshReport, NamedMesh, TriMesh};
pub use voxelize::{voxelize, GridSpec, Voxelized};
