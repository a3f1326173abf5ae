//! The labelled voxel grid.

use crate::base::{LabelKind, LabelTable, TissueLabel};

/// A uniform voxel grid: dimensions, spacing and one tissue label per voxel.
/// Voxel `(x, y, z)` has index `(z * ny + y) * nx + x` and centre `origin + (i + ½) h`.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// Voxels along x, y, z.
    pub dims: [usize; 3],
    /// Voxel edge `h`, mm.
    pub spacing: f64,
    /// Corner of voxel (0, 0, 0), mm.
    pub origin: [f64; 3],
    /// Tissue label per voxel.
    pub labels: Vec<TissueLabel>,
}

impl Grid {
    /// A grid filled with one label.
    pub fn filled(dims: [usize; 3], spacing: f64, label: TissueLabel) -> Self {
        Grid {
            dims,
            spacing,
            origin: [0.0; 3],
            labels: vec![label; dims[0] * dims[1] * dims[2]],
        }
    }

    pub fn voxel_count(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    pub fn index(&self, x: usize, y: usize, z: usize) -> usize {
        (z * self.dims[1] + y) * self.dims[0] + x
    }

    pub fn coords(&self, i: usize) -> [usize; 3] {
        let nx = self.dims[0];
        let ny = self.dims[1];
        [i % nx, (i / nx) % ny, i / (nx * ny)]
    }

    /// Voxel volume, mL (h³ in mm³ / 1000).
    pub fn voxel_ml(&self) -> f64 {
        self.spacing.powi(3) * 1e-3
    }

    /// Centre of voxel `(x, y, z)`, mm.
    pub fn centre(&self, x: usize, y: usize, z: usize) -> [f64; 3] {
        let h = self.spacing;
        [
            self.origin[0] + (x as f64 + 0.5) * h,
            self.origin[1] + (y as f64 + 0.5) * h,
            self.origin[2] + (z as f64 + 0.5) * h,
        ]
    }

    /// The six face neighbours of voxel `i` in the order x−, x+, y−, y+, z−, z+ (the order of
    /// the closed-face bits in the GPU voxel word); `None` past the grid edge.
    pub fn face_neighbours(&self, i: usize) -> [Option<usize>; 6] {
        let [x, y, z] = self.coords(i);
        let [nx, ny, nz] = self.dims;
        let plane = nx * ny;
        [
            (x > 0).then(|| i - 1),
            (x + 1 < nx).then(|| i + 1),
            (y > 0).then(|| i - nx),
            (y + 1 < ny).then(|| i + nx),
            (z > 0).then(|| i - plane),
            (z + 1 < nz).then(|| i + plane),
        ]
    }

    /// Indices of the up to six face neighbours of voxel `i` inside the grid.
    pub fn neighbours(&self, i: usize) -> impl Iterator<Item = usize> {
        self.face_neighbours(i).into_iter().flatten()
    }

    /// Largest sum over a tissue voxel's faces of the face conductance `hm(ε m_D, ε' m_D')`
    /// divided by the voxel's own `ε`: the explicit stability limit of diffusion with
    /// coefficient D is `h² / (D · this)`.
    pub fn max_face_sum(&self, table: &LabelTable) -> f64 {
        let mut best: f64 = 0.0;
        for (i, &l) in self.labels.iter().enumerate() {
            if l.kind() != LabelKind::Tissue {
                continue;
            }
            let sum = self
                .neighbours(i)
                .map(|n| table.face(l, self.labels[n]))
                .sum::<f64>()
                / table.get(l).volume_fraction;
            best = best.max(sum);
        }
        best
    }

    /// Number of voxels with each label.
    pub fn label_counts(&self) -> [usize; TissueLabel::COUNT] {
        let mut counts = [0; TissueLabel::COUNT];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }
}
