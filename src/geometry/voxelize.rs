//! Voxelisation of closed triangle surfaces: which voxel centres lie inside.
//!
//! For each axis, rays through the voxel centres of every grid column cross the surface; the
//! winding number (crossings counted +1 entering, −1 leaving) says whether a centre is inside.
//! Points on edges and vertices are resolved by a consistent symbolic perturbation, with edge
//! functions computed from canonically ordered endpoints, so a watertight mesh is crossed
//! exactly once where two triangles meet. A column whose crossings do not balance passed
//! through a hole: it abstains, and each voxel takes the majority of the axes that did not
//! abstain. Small holes therefore do not leak, and a mesh may cross the grid edge. A
//! watertight mesh is decided by the rays along z alone; the other two axes are cast only when
//! some z column leaked.

use super::mesh::TriMesh;

/// Where a voxel grid sits: voxel `(x, y, z)` has centre `origin + (i + ½) h`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridSpec {
    /// Voxels along x, y, z.
    pub dims: [usize; 3],
    /// Corner of voxel (0, 0, 0), mm.
    pub origin: [f64; 3],
    /// Voxel edge, mm.
    pub spacing: f64,
}

impl GridSpec {
    /// The grid covering the box `lo..hi` (mm) plus `margin` mm on every side.
    pub fn covering(lo: [f64; 3], hi: [f64; 3], spacing: f64, margin: f64) -> GridSpec {
        let dims = [0, 1, 2]
            .map(|k| (((hi[k] - lo[k]) + 2.0 * margin) / spacing).ceil().max(1.0) as usize);
        // Centre the box in the grid.
        let origin = [0, 1, 2].map(|k| {
            let extra = dims[k] as f64 * spacing - (hi[k] - lo[k]);
            lo[k] - 0.5 * extra
        });
        GridSpec {
            dims,
            origin,
            spacing,
        }
    }

    pub fn len(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn index(&self, x: usize, y: usize, z: usize) -> usize {
        (z * self.dims[1] + y) * self.dims[0] + x
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

    /// Centre of voxel `i`, mm.
    pub fn centre_of(&self, i: usize) -> [f64; 3] {
        let [nx, ny, _] = self.dims;
        self.centre(i % nx, (i / nx) % ny, i / (nx * ny))
    }
}

/// Result of voxelising one surface.
#[derive(Clone, Debug, PartialEq)]
pub struct Voxelized {
    /// Whether each voxel centre is inside, in grid order.
    pub inside: Vec<bool>,
    /// Grid columns (over the three axes) whose crossings did not balance: rays that went
    /// through a hole in the surface.
    pub leaky_columns: usize,
}

/// Edge function of `p` against the directed edge `a → b` in 2D, with the symbolic
/// perturbation `p + (ε, ε²)` breaking ties: returns a sign (+1 left, −1 right), never 0 for a
/// non-degenerate edge. Bit-for-bit antisymmetric in (a, b).
fn edge_sign(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> i32 {
    let (lo, hi, flip) = if (a[0], a[1]) <= (b[0], b[1]) {
        (a, b, 1)
    } else {
        (b, a, -1)
    };
    let e = [hi[0] - lo[0], hi[1] - lo[1]];
    let v = e[0] * (p[1] - lo[1]) - e[1] * (p[0] - lo[0]);
    let s = if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else if e[1] != 0.0 {
        // d/dε of e × (p + (ε, ε²) − lo) = −e_y
        if e[1] > 0.0 {
            -1
        } else {
            1
        }
    } else if e[0] > 0.0 {
        1
    } else {
        -1
    };
    s * flip
}

/// Marks the voxel centres inside `mesh` (nonzero winding, majority over three axes).
pub fn voxelize(mesh: &TriMesh, spec: &GridSpec) -> Voxelized {
    let n = spec.len();
    let mut votes_in = vec![0u8; n];
    let mut votes = vec![0u8; n];
    let mut leaky_columns = cast(mesh, spec, 2, &mut votes, &mut votes_in);
    if leaky_columns > 0 {
        for axis in 0..2 {
            leaky_columns += cast(mesh, spec, axis, &mut votes, &mut votes_in);
        }
    }
    let inside = votes
        .iter()
        .zip(&votes_in)
        .map(|(&v, &i)| v > 0 && 2 * i >= v && i > 0)
        .collect();
    Voxelized {
        inside,
        leaky_columns,
    }
}

/// Casts the rays along `axis` through every column, adding each voxel's vote; returns the
/// number of columns that leaked (and abstained).
fn cast(
    mesh: &TriMesh,
    spec: &GridSpec,
    axis: usize,
    votes: &mut [u8],
    votes_in: &mut [u8],
) -> usize {
    let mut leaky_columns = 0;
    {
        let (ua, va) = ((axis + 1) % 3, (axis + 2) % 3);
        let (nu, nv, nd) = (spec.dims[ua], spec.dims[va], spec.dims[axis]);
        let h = spec.spacing;
        let u0 = spec.origin[ua] + 0.5 * h;
        let v0 = spec.origin[va] + 0.5 * h;
        // (column, depth, sign) of every crossing.
        let mut hits: Vec<(u32, f64, i8)> = Vec::new();
        for t in &mesh.triangles {
            let p = t.map(|i| mesh.vertices[i as usize]);
            let q = p.map(|v| [v[ua], v[va]]);
            let area = (q[1][0] - q[0][0]) * (q[2][1] - q[0][1])
                - (q[1][1] - q[0][1]) * (q[2][0] - q[0][0]);
            if area == 0.0 || !area.is_finite() {
                continue; // edge-on to this axis: no crossing.
            }
            let orient = if area > 0.0 { 1 } else { -1 };
            let umin = q.iter().map(|c| c[0]).fold(f64::INFINITY, f64::min);
            let umax = q.iter().map(|c| c[0]).fold(f64::NEG_INFINITY, f64::max);
            let vmin = q.iter().map(|c| c[1]).fold(f64::INFINITY, f64::min);
            let vmax = q.iter().map(|c| c[1]).fold(f64::NEG_INFINITY, f64::max);
            let i0 = (((umin - u0) / h).ceil().max(0.0)) as usize;
            let i1 = (((umax - u0) / h).floor().min(nu as f64 - 1.0)).max(-1.0);
            let j0 = (((vmin - v0) / h).ceil().max(0.0)) as usize;
            let j1 = (((vmax - v0) / h).floor().min(nv as f64 - 1.0)).max(-1.0);
            if i1 < 0.0 || j1 < 0.0 {
                continue;
            }
            let (i1, j1) = (i1 as usize, j1 as usize);
            // Include columns just outside the rounded box: ties on the box edge are decided
            // by the perturbation.
            let i0 = i0.saturating_sub(1);
            let j0 = j0.saturating_sub(1);
            let i1 = (i1 + 1).min(nu - 1);
            let j1 = (j1 + 1).min(nv - 1);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    let c = [u0 + i as f64 * h, v0 + j as f64 * h];
                    let s0 = edge_sign(q[1], q[2], c);
                    let s1 = edge_sign(q[2], q[0], c);
                    let s2 = edge_sign(q[0], q[1], c);
                    if s0 != orient || s1 != orient || s2 != orient {
                        continue;
                    }
                    // Barycentric depth along the axis.
                    let w0 = cross2(q[1], q[2], c);
                    let w1 = cross2(q[2], q[0], c);
                    let w2 = cross2(q[0], q[1], c);
                    let sum = w0 + w1 + w2;
                    let depth = if sum != 0.0 {
                        (w0 * p[0][axis] + w1 * p[1][axis] + w2 * p[2][axis]) / sum
                    } else {
                        (p[0][axis] + p[1][axis] + p[2][axis]) / 3.0
                    };
                    // The normal's component along the axis has the sign of the projected
                    // area; a positive one means the ray leaves the solid here.
                    hits.push(((j * nu + i) as u32, depth, -orient as i8));
                }
            }
        }
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let d0 = spec.origin[axis] + 0.5 * h;
        let mut k = 0;
        for col in 0..nu * nv {
            let start = k;
            while k < hits.len() && hits[k].0 as usize == col {
                k += 1;
            }
            let cross = &hits[start..k];
            let total: i32 = cross.iter().map(|c| c.2 as i32).sum();
            if total != 0 {
                leaky_columns += 1;
                continue;
            }
            let (i, j) = (col % nu, col / nu);
            let mut winding = 0i32;
            let mut m = 0;
            for d in 0..nd {
                let centre = d0 + d as f64 * h;
                while m < cross.len() && cross[m].1 < centre {
                    winding += cross[m].2 as i32;
                    m += 1;
                }
                let mut ijk = [0usize; 3];
                ijk[axis] = d;
                ijk[ua] = i;
                ijk[va] = j;
                let idx = spec.index(ijk[0], ijk[1], ijk[2]);
                votes[idx] += 1;
                if winding != 0 {
                    votes_in[idx] += 1;
                }
            }
        }
    }
    leaky_columns
}

fn cross2(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_sign_is_antisymmetric_and_never_zero() {
        let a = [0.0, 0.0];
        let b = [1.0, 1.0];
        for p in [[0.5, 0.5], [0.0, 0.0], [1.0, 1.0], [0.3, 0.7], [2.0, 2.0]] {
            let s = edge_sign(a, b, p);
            assert_ne!(s, 0);
            assert_eq!(s, -edge_sign(b, a, p));
        }
    }
}
