//! Triangle surface meshes (mm): the in-memory form every geometry source is turned into,
//! their import from OBJ and STL files with checks and repairs, and their export.

mod check;
mod read;
mod write;

pub use check::{boundary_loops, check_mesh, check_size, edge_counts, EdgeCounts};
pub use read::{load_meshes, merge_identical_vertices};
pub use write::{write_obj, write_stl};

use read::mesh_error;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::base::atomic::{io_error, write_atomic};
use crate::{Result, SimError};

/// A triangle mesh. Triangles index `vertices`; a closed, outward-oriented surface has
/// counter-clockwise triangles seen from outside (positive signed volume).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TriMesh {
    /// Vertex positions, mm.
    pub vertices: Vec<[f64; 3]>,
    /// Vertex indices of each triangle.
    pub triangles: Vec<[u32; 3]>,
}

/// A mesh with the object name it had in its file (`myocardium`, `lv_cavity`, `rv_cavity`, …).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NamedMesh {
    pub name: String,
    pub mesh: TriMesh,
}

/// What import found and repaired: one line per warning, meant for the user.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MeshReport {
    pub warnings: Vec<String>,
}

impl TriMesh {
    /// Volume enclosed, mm³ (positive for an outward-oriented closed surface).
    pub fn signed_volume(&self) -> f64 {
        let mut v = 0.0;
        for t in &self.triangles {
            let a = self.vertices[t[0] as usize];
            let b = self.vertices[t[1] as usize];
            let c = self.vertices[t[2] as usize];
            v += a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
                + a[2] * (b[0] * c[1] - b[1] * c[0]);
        }
        v / 6.0
    }

    /// Axis-aligned bounding box (min, max), mm; `None` for a mesh without vertices.
    pub fn bounds(&self) -> Option<([f64; 3], [f64; 3])> {
        let first = *self.vertices.first()?;
        let mut lo = first;
        let mut hi = first;
        for v in &self.vertices {
            for k in 0..3 {
                lo[k] = lo[k].min(v[k]);
                hi[k] = hi[k].max(v[k]);
            }
        }
        Some((lo, hi))
    }

    /// Appends another mesh's triangles (vertex indices shifted).
    pub fn append(&mut self, other: &TriMesh) {
        let base = self.vertices.len() as u32;
        self.vertices.extend_from_slice(&other.vertices);
        self.triangles.extend(
            other
                .triangles
                .iter()
                .map(|t| [t[0] + base, t[1] + base, t[2] + base]),
        );
    }
}
