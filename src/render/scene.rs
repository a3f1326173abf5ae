//! The tissue surface of a labelled grid (surface nets, coarsened to a triangle budget) and
//! picking on it: what the picture shows and where a click lands, without a GPU.

use super::*;

/// A plane that cuts the heart open: points with `normal · (p − point) > 0` are cut away.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipPlane {
    pub point: DVec3,
    /// Unit normal, pointing into the part cut away.
    pub normal: DVec3,
}

impl ClipPlane {
    pub fn cuts(&self, p: DVec3) -> bool {
        self.normal.dot(p - self.point) > 0.0
    }
}

/// The tissue surface of a labelled grid and what picking needs: the tissue labels.
pub struct Scene {
    pub mesh: TriMesh,
    pub normals: Vec<[f32; 3]>,
    /// Lattice spacing the surface was meshed at, mm (the grid's spacing unless coarsened).
    pub mesh_step: f64,
    pub(super) dims: [usize; 3],
    pub(super) origin: DVec3,
    pub(super) h: f64,
    pub(super) tissue: Vec<bool>,
}

/// Triangles the viewer asks [`Scene::with_triangle_budget`] for on a CPU adapter, where
/// vertex work runs on one thread: about a third of the 175 k of a 1 mm heart.
pub const CPU_TRIANGLE_BUDGET: usize = 60_000;

/// Faces between a tissue voxel and a non-tissue voxel or the grid's edge.
pub(super) fn boundary_faces(tissue: &[bool], dims: [usize; 3]) -> usize {
    let [nx, ny, nz] = dims;
    let mut faces = 0;
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                let v = (k * ny + j) * nx + i;
                if !tissue[v] {
                    continue;
                }
                let open = |c: usize, n: usize, stride: usize| {
                    usize::from(c == 0 || !tissue[v - stride])
                        + usize::from(c + 1 == n || !tissue[v + stride])
                };
                faces += open(i, nx, 1) + open(j, ny, nx) + open(k, nz, nx * ny);
            }
        }
    }
    faces
}

/// Area-weighted vertex normals.
pub fn vertex_normals(mesh: &TriMesh) -> Vec<[f32; 3]> {
    let mut n = vec![DVec3::ZERO; mesh.vertices.len()];
    for t in &mesh.triangles {
        let p = t.map(|i| DVec3::from_array(mesh.vertices[i as usize]));
        let face = (p[1] - p[0]).cross(p[2] - p[0]);
        for &i in t {
            n[i as usize] += face;
        }
    }
    n.iter()
        .map(|v| v.normalize_or(DVec3::Z).as_vec3().to_array())
        .collect()
}

impl Scene {
    /// The boundary of the grid's tissue voxels (myocardium, border zone, infarct), meshed by
    /// surface nets of the tissue indicator at the grid's own spacing.
    pub fn new(grid: &Grid) -> Scene {
        Self::with_triangle_budget(grid, None)
    }

    /// Like [`Scene::new`], but with the meshing lattice coarsened where the surface at the
    /// grid's spacing would have more than about `budget` triangles (a CPU adapter draws the
    /// 175 k triangles of a 1 mm heart in ~50 ms of vertex work; see
    /// [`CPU_TRIANGLE_BUDGET`]). The surface is the same smooth level set, sampled more
    /// coarsely; the field on it and the picking are unchanged.
    pub fn with_triangle_budget(grid: &Grid, budget: Option<usize>) -> Scene {
        let tissue: Vec<bool> = grid.labels.iter().map(|l| l.is_tissue()).collect();
        let [nx, ny, nz] = grid.dims;
        let h = grid.spacing;
        // Surface nets make about two triangles per tissue face that borders non-tissue.
        let step = match budget {
            Some(b) if b > 0 => {
                let faces = boundary_faces(&tissue, grid.dims) as f64;
                (2.0 * faces / b as f64).sqrt().max(1.0) * h
            }
            _ => h,
        };
        let origin = DVec3::from_array(grid.origin);
        // The tissue indicator, blurred twice by [1 2 1]/4 along each axis so that the
        // surface nets do not show the voxels' staircase.
        let mut ind: Vec<f64> = tissue.iter().map(|&t| if t { 1.0 } else { 0.0 }).collect();
        let strides = [1, nx, nx * ny];
        for (axis, &stride) in strides.iter().enumerate().cycle().take(6) {
            let n = grid.dims[axis];
            let src = ind.clone();
            for (i, v) in ind.iter_mut().enumerate() {
                let c = (i / stride) % n;
                let lo = if c > 0 { src[i - stride] } else { 0.0 };
                let hi = if c + 1 < n { src[i + stride] } else { 0.0 };
                *v = 0.25 * lo + 0.5 * src[i] + 0.25 * hi;
            }
        }
        let at = |i: isize, j: isize, k: isize| -> f64 {
            if i < 0 || j < 0 || k < 0 || i >= nx as isize || j >= ny as isize || k >= nz as isize {
                return 0.0;
            }
            ind[(k as usize * ny + j as usize) * nx + i as usize]
        };
        // Inside where the trilinear interpolant of the blurred indicator (at voxel centres)
        // is > ½.
        let f = |p: [f64; 3]| -> f64 {
            let g = [0, 1, 2].map(|a| (p[a] - grid.origin[a]) / h - 0.5);
            let b = g.map(|x| x.floor());
            let t = [0, 1, 2].map(|a| g[a] - b[a]);
            let (i, j, k) = (b[0] as isize, b[1] as isize, b[2] as isize);
            let mut v = 0.0;
            for c in 0..8 {
                let o = [c & 1, (c >> 1) & 1, (c >> 2) & 1];
                let w: f64 = (0..3)
                    .map(|a| if o[a] == 1 { t[a] } else { 1.0 - t[a] })
                    .product();
                if w > 0.0 {
                    v += w * at(i + o[0] as isize, j + o[1] as isize, k + o[2] as isize);
                }
            }
            0.5 - v
        };
        let lo = [0, 1, 2].map(|a| grid.origin[a] - 0.75 * h);
        let hi = [0, 1, 2].map(|a| grid.origin[a] + (grid.dims[a] as f64 + 0.75) * h);
        let mesh = surface_mesh(&f, lo, hi, step);
        let normals = vertex_normals(&mesh);
        Scene {
            mesh,
            normals,
            mesh_step: step,
            dims: grid.dims,
            origin,
            h,
            tissue,
        }
    }

    /// Whether p (mm) lies in a tissue voxel.
    pub fn is_tissue(&self, p: DVec3) -> bool {
        let g = (p - self.origin) / self.h;
        if g.min_element() < 0.0 {
            return false;
        }
        let [i, j, k] = [g.x as usize, g.y as usize, g.z as usize];
        if i >= self.dims[0] || j >= self.dims[1] || k >= self.dims[2] {
            return false;
        }
        self.tissue[(k * self.dims[1] + j) * self.dims[0] + i]
    }

    /// The grid's centre and the radius of its bounding sphere, mm.
    pub fn bounds(&self) -> (DVec3, f64) {
        let size = DVec3::new(
            self.dims[0] as f64,
            self.dims[1] as f64,
            self.dims[2] as f64,
        ) * self.h;
        match self.mesh.bounds() {
            Some((lo, hi)) => {
                let (lo, hi) = (DVec3::from_array(lo), DVec3::from_array(hi));
                (0.5 * (lo + hi), 0.5 * (hi - lo).length())
            }
            None => (self.origin + 0.5 * size, 0.5 * size.length()),
        }
    }

    /// The first point the ray meets on what is drawn: the surface where it is not cut away,
    /// or the slice on the clipping plane where the slice shows tissue.
    pub fn pick(&self, ray: &Ray, clip: Option<&ClipPlane>) -> Option<DVec3> {
        let v = |i: u32| DVec3::from_array(self.mesh.vertices[i as usize]);
        let surface = self
            .mesh
            .triangles
            .iter()
            .filter_map(|t| hit_triangle(ray, v(t[0]), v(t[1]), v(t[2])))
            .filter(|&t| clip.is_none_or(|c| !c.cuts(ray.origin + t * ray.dir)))
            .min_by(|a, b| a.total_cmp(b));
        let slice = clip.and_then(|c| {
            let denom = c.normal.dot(ray.dir);
            if denom.abs() < 1e-12 {
                return None;
            }
            let t = c.normal.dot(c.point - ray.origin) / denom;
            (t > 0.0 && self.is_tissue(ray.origin + t * ray.dir)).then_some(t)
        });
        let t = match (surface, slice) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(ray.origin + t * ray.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::TissueLabel;

    /// A spherical shell of myocardium (radii 12 and 20 mm) in a 1 mm grid.
    fn shell() -> Grid {
        let mut g = Grid::filled([48; 3], 1.0, TissueLabel::Outside);
        g.origin = [-24.0; 3];
        for i in 0..g.voxel_count() {
            let [x, y, z] = g.coords(i);
            let r = DVec3::from_array(g.centre(x, y, z)).length();
            if (12.0..20.0).contains(&r) {
                g.labels[i] = TissueLabel::Myocardium;
            }
        }
        g
    }

    /// A triangle budget coarsens the mesh to about that many triangles while the surface
    /// keeps its place: the enclosed volume stays within 1 % of the shell's
    /// (4/3 π (20³ − 12³) = 26 272 mm³) and of the full-resolution mesh's (measured: 20 376
    /// triangles at 1 mm, 0.2 % off; about 5 000 at the budget of 5 000).
    #[test]
    fn a_triangle_budget_coarsens_the_surface_but_keeps_its_shape() {
        let g = shell();
        let fine = Scene::new(&g);
        let coarse = Scene::with_triangle_budget(&g, Some(5_000));
        let exact = 4.0 / 3.0 * std::f64::consts::PI * (20f64.powi(3) - 12f64.powi(3));
        let (nf, nc) = (fine.mesh.triangles.len(), coarse.mesh.triangles.len());
        let (vf, vc) = (fine.mesh.signed_volume(), coarse.mesh.signed_volume());
        assert_eq!(fine.mesh_step, 1.0);
        assert!(coarse.mesh_step > 1.5, "step {}", coarse.mesh_step);
        assert!(nf > 15_000 && nc <= 6_250, "{nf} → {nc} triangles");
        assert!(
            (vf / exact - 1.0).abs() < 0.01,
            "fine volume {vf} vs {exact}"
        );
        assert!(
            (vc / exact - 1.0).abs() < 0.01,
            "coarse volume {vc} vs {exact}"
        );
        assert!((vc / vf - 1.0).abs() < 0.01, "coarse {vc} vs fine {vf}");
        // A budget the surface already meets changes nothing.
        let same = Scene::with_triangle_budget(&g, Some(10 * nf));
        assert_eq!(same.mesh, fine.mesh);
    }
}
