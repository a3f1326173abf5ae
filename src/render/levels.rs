//! The finer levels of a refined problem in the viewer (issue 17): one 3D texture at the finest
//! voxel edge over the box of every finer level, which the slice and the surface sample where
//! it holds a leaf's value (`view_render.wgsl`), and the coarse texture's covered voxels filled
//! with a leaf of theirs (`view_extract.wgsl`), so that the coarse picture has no holes.

use crate::problem::Problem;

/// What a texel of the fine texture holds where no leaf of a finer level lies: the coarse
/// texture is sampled there (`NO_LEAF` in `view_render.wgsl`).
pub const NO_LEAF: f32 = -1.0e30;

/// Texels the fine texture may have (R32Float: 4 bytes each); a larger box of finer levels is
/// shown through the coarse texture only.
pub const MAX_FINE_TEXELS: u64 = 1 << 25;

/// The fine texture's box and how each level's voxels map into it and into the coarse grid.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FineBox {
    /// Texels along x, y, z (0: no fine texture).
    pub dims: [u32; 3],
    /// Its corner, mm, and its texel edge (the finest voxel edge), mm.
    pub origin: [f64; 3],
    pub h: f64,
    /// Per grid (level 0's first, then the finer levels' patches): the corner of the grid in
    /// its level's voxels from the problem's corner with its level, and the texel of the fine
    /// texture where its first voxel starts with the texels per voxel edge
    /// (2^(finest − level)); zeros for level 0.
    pub levels: Vec<([u32; 4], [i32; 4])>,
}

impl FineBox {
    /// The box of `problem`'s finer levels at its finest edge: empty (`dims` zero, no texels
    /// per voxel) without levels, or where it would take more than [`MAX_FINE_TEXELS`] or
    /// exceed `max3d` texels along an axis; the levels' corners are there in any case.
    pub fn of(problem: &Problem, max3d: u32) -> FineBox {
        let grids = problem.level_grids();
        let finest = problem.finest_level();
        let level = |k: usize| problem.grid_level(k);
        // Every level's corner (in its own voxels): the coarse texture's covered voxels are
        // filled from it even without a fine texture.
        let corners: Vec<[i64; 3]> = (0..grids.len()).map(|l| problem.level_corner(l)).collect();
        let coarse_map = |fine: [i32; 4]| -> Vec<([u32; 4], [i32; 4])> {
            corners
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    if k == 0 {
                        ([0; 4], [0; 4])
                    } else {
                        (
                            [c[0] as u32, c[1] as u32, c[2] as u32, level(k) as u32],
                            fine,
                        )
                    }
                })
                .collect()
        };
        let empty = || FineBox {
            levels: coarse_map([0; 4]),
            ..FineBox::default()
        };
        if finest == 0 {
            return empty();
        }
        let scale = |k: usize| 1i64 << (finest - level(k));
        let mut lo = [i64::MAX; 3];
        let mut hi = [i64::MIN; 3];
        for (k, g) in grids.iter().enumerate().skip(1) {
            if g.voxel_count() == 0 {
                continue;
            }
            for a in 0..3 {
                lo[a] = lo[a].min(corners[k][a] * scale(k));
                hi[a] = hi[a].max((corners[k][a] + g.dims[a] as i64) * scale(k));
            }
        }
        let dims = [0, 1, 2].map(|a| (hi[a] - lo[a]).max(0));
        let texels = dims.iter().map(|&d| d as u64).product::<u64>();
        if texels == 0 || texels > MAX_FINE_TEXELS || dims.iter().any(|&d| d > i64::from(max3d)) {
            return empty();
        }
        let h = problem.grid.spacing / f64::from(1u32 << finest);
        let levels = corners
            .iter()
            .enumerate()
            .map(|(l, c)| {
                if l == 0 {
                    return ([0; 4], [0; 4]);
                }
                let s = scale(l);
                (
                    [c[0] as u32, c[1] as u32, c[2] as u32, level(l) as u32],
                    [
                        (c[0] * s - lo[0]) as i32,
                        (c[1] * s - lo[1]) as i32,
                        (c[2] * s - lo[2]) as i32,
                        s as i32,
                    ],
                )
            })
            .collect::<Vec<_>>();
        let o = problem.grid.origin;
        FineBox {
            dims: dims.map(|d| d as u32),
            origin: [0, 1, 2].map(|a| o[a] + lo[a] as f64 * h),
            h,
            levels,
        }
    }

    /// Whether there is a fine texture.
    pub fn present(&self) -> bool {
        self.dims.iter().all(|&d| d > 0)
    }

    /// The fine texture's corner and texel edge as `ViewUniform::fine_origin` (edge 0: none).
    pub fn uniform_origin(&self) -> [f32; 4] {
        if !self.present() {
            return [0.0; 4];
        }
        [
            self.origin[0] as f32,
            self.origin[1] as f32,
            self.origin[2] as f32,
            self.h as f32,
        ]
    }
}

/// The fine texture of `fine` (a 1-texel stand-in without one), holding [`NO_LEAF`] until the
/// first field update writes the leaves.
pub(super) fn fine_texture(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    fine: &FineBox,
) -> wgpu::TextureView {
    let fine_size = if fine.present() {
        wgpu::Extent3d {
            width: fine.dims[0],
            height: fine.dims[1],
            depth_or_array_layers: fine.dims[2],
        }
    } else {
        wgpu::Extent3d {
            width: 1,
            height: 1,
            depth_or_array_layers: 1,
        }
    };
    let fine_texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("render::fine"),
        size: fine_size,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D3,
        format: wgpu::TextureFormat::R32Float,
        usage: wgpu::TextureUsages::STORAGE_BINDING
            | wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    });
    {
        // No leaf anywhere until the first field update writes them.
        let texels =
            (fine_size.width * fine_size.height * fine_size.depth_or_array_layers) as usize;
        queue.write_texture(
            fine_texture.as_image_copy(),
            bytemuck::cast_slice(&vec![NO_LEAF; texels]),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(4 * fine_size.width),
                rows_per_image: Some(fine_size.height),
            },
            fine_size,
        );
    }
    fine_texture.create_view(&Default::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::{Grid, Species, SpeciesTable, TissueLabel};
    use crate::problem::composite::Composite;

    /// Every coarse voxel that finer levels cover gets exactly one leaf written into it by
    /// `view_extract.wgsl` (the leaf at its low corner), and each patch's leaves land in the
    /// fine texture where their centres are: two refined zones far apart, each level in two
    /// patches.
    #[test]
    fn every_covered_voxel_gets_one_leaf_and_leaves_land_in_place() {
        let species = SpeciesTable {
            species: vec![Species::simple("s", 1e-4, 1e-4)],
        };
        let grid = Grid::filled([20, 9, 8], 0.5, TissueLabel::Myocardium);
        let p = Problem::new(grid, species, 60.0);
        let comp = Composite::new([20, 9, 8], 0.5, 2, |l, c| {
            let r = if l == 0 { 1.2 } else { 0.6 };
            [2.2, 7.8]
                .iter()
                .any(|&x| (c[0] - x).abs() < r && (1..3).all(|a| (c[a] - 2.2).abs() < r))
        })
        .unwrap();
        let r = p.refine(&comp).unwrap();
        assert_eq!(r.levels.as_ref().unwrap().level, vec![1, 1, 2, 2]);
        let fine = FineBox::of(&r, 2048);
        assert!(fine.present());
        assert_eq!(fine.h, 0.125);
        let g0 = &r.grid;
        let mut written = vec![0; g0.voxel_count()];
        for (k, g) in r.level_grids().into_iter().enumerate().skip(1) {
            let l = r.grid_level(k);
            let (level, off) = fine.levels[k];
            assert_eq!(level[3] as usize, l);
            assert_eq!(off[3], 1 << (2 - l));
            for (i, lab) in g.labels.iter().enumerate() {
                if !lab.is_tissue() {
                    continue;
                }
                let local = g.coords(i);
                let gl: Vec<u32> = (0..3).map(|a| local[a] as u32 + level[a]).collect();
                let m = (1u32 << l) - 1;
                if gl.iter().all(|&x| x & m == 0) {
                    written[g0.index(
                        (gl[0] >> l) as usize,
                        (gl[1] >> l) as usize,
                        (gl[2] >> l) as usize,
                    )] += 1;
                }
                // The fine texel block of this leaf holds its centre.
                let centre = g.centre(local[0], local[1], local[2]);
                for a in 0..3 {
                    let t = (centre[a] - fine.origin[a]) / fine.h;
                    let lo = local[a] as i64 * off[3] as i64 + off[a] as i64;
                    assert!(t > lo as f64 && t < (lo + off[3] as i64) as f64);
                    assert!(lo >= 0 && lo + i64::from(off[3]) <= i64::from(fine.dims[a]));
                }
            }
        }
        let coarse = r.coarse_labels();
        for v in 0..g0.voxel_count() {
            let covered = !g0.labels[v].is_tissue() && coarse[v].is_tissue();
            assert_eq!(written[v], usize::from(covered), "voxel {v}");
        }
        // Without levels: no fine texture.
        assert!(!FineBox::of(&p, 2048).present());
    }
}
