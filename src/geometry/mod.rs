//! The heart: procedural biventricular geometry, mesh import, voxelisation into the labelled
//! grid, AHA 17 segments, transmural depth and infarcts (MODEL.md §1).
//!
//! Lengths are in mm throughout.

pub mod mesh;

pub use mesh::{MeshReport, NamedMesh, TriMesh};
