//! Fields on levels of refinement as VTK overlapping AMR (`.vthb`), which ParaView opens
//! directly: one block of images per level, each image a `.vti` in a folder beside the `.vthb`.
//! ParaView hides the coarse cells that a finer level covers.
//!
//! Level 0 is one image of the whole box holding the cell averages of the leaves (the uniform
//! `.vti` of a run). Level l > 0 is cut into images of 8³ cells at its spacing. One image
//! is written for each tile holding a leaf of that level. It carries every cell: a leaf's own
//! value, the average of the leaves a cell is refined into, or, where a cell lies in a coarser
//! leaf, that leaf's value.

use std::io::Write as _;
use std::path::Path;

use crate::base::atomic::write_atomic;
use crate::base::TissueLabel;
use crate::output::vti::{write_vti, VtiArray, VtiData};
use crate::problem::composite::{Cell, Composite};
use crate::problem::Problem;
use crate::{Result, SimError};

/// Edge of the images of the levels below the coarsest, in that level's cells.
pub const TILE: u32 = 8;

/// Writes `arrays` (name, one value per leaf of `grid` in its order) as `path` (`.vthb`) and
/// its images in the folder `path` without the extension. `origin`: the box's corner, mm.
pub fn write_vthb(
    path: &Path,
    grid: &Composite,
    origin: [f64; 3],
    arrays: &[(&str, &[f64])],
    compress: bool,
) -> Result<()> {
    let bad = |m: String| SimError::Io {
        path: path.display().to_string(),
        message: m,
    };
    if let Some((name, a)) = arrays.iter().find(|a| a.1.len() != grid.cells.len()) {
        return Err(bad(format!(
            "array '{name}' holds {} values for {} cells",
            a.len(),
            grid.cells.len()
        )));
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .ok_or_else(|| bad("expected a file name".into()))?;
    let dir = path.with_extension("");
    std::fs::create_dir_all(&dir).map_err(|e| bad(e.to_string()))?;
    let levels = grid.per_level().len();
    let mut xml = format!(
        "<?xml version=\"1.0\"?>\n<VTKFile type=\"vtkOverlappingAMR\" version=\"1.1\" byte_order=\"LittleEndian\" header_type=\"UInt64\">\n  <vtkOverlappingAMR origin=\"{} {} {}\" grid_description=\"XYZ\">\n",
        origin[0], origin[1], origin[2]
    );
    for level in 0..levels as u8 {
        let h = grid.spacing / f64::from(1u32 << level);
        let extent = grid.dims.map(|d| (d as u32) << level);
        // Tiles holding a leaf of this level (the whole box for level 0).
        let tiles: Vec<[u32; 3]> = if level == 0 {
            vec![[0; 3]]
        } else {
            let mut t: Vec<[u32; 3]> = grid
                .cells
                .iter()
                .filter(|c| c.level == level)
                .map(|c| c.ijk.map(|v| v / TILE))
                .collect();
            t.sort_unstable();
            t.dedup();
            t
        };
        xml.push_str(&format!(
            "    <Block level=\"{level}\" spacing=\"{h} {h} {h}\">\n"
        ));
        for (b, tile) in tiles.iter().enumerate() {
            let (lo, size) = if level == 0 {
                ([0u32; 3], extent)
            } else {
                let lo = tile.map(|t| t * TILE);
                (lo, [0, 1, 2].map(|k| TILE.min(extent[k] - lo[k])))
            };
            let n = (size[0] * size[1] * size[2]) as usize;
            let mut values = vec![vec![0.0f64; n]; arrays.len()];
            for z in 0..size[2] {
                for y in 0..size[1] {
                    for x in 0..size[0] {
                        let cell = Cell {
                            level,
                            ijk: [lo[0] + x, lo[1] + y, lo[2] + z],
                        };
                        let at = (x + size[0] * (y + size[1] * z)) as usize;
                        for (a, (_, field)) in arrays.iter().enumerate() {
                            values[a][at] = grid.value_at(field, cell);
                        }
                    }
                }
            }
            let file = format!("{stem}_{level}_{b}.vti");
            let corner = [0, 1, 2].map(|k| origin[k] + f64::from(lo[k]) * h);
            let named: Vec<VtiArray> = arrays
                .iter()
                .zip(&values)
                .map(|((name, _), v)| VtiArray {
                    name,
                    data: VtiData::F64(v),
                })
                .collect();
            write_vti(
                &dir.join(&file),
                size.map(|s| s as usize),
                corner,
                h,
                &named,
                compress,
            )?;
            let hi = [0, 1, 2].map(|k| lo[k] + size[k] - 1);
            xml.push_str(&dataset(
                b,
                lo.map(i64::from),
                hi.map(i64::from),
                &stem,
                &file,
            ));
        }
        xml.push_str("    </Block>\n");
    }
    xml.push_str("  </vtkOverlappingAMR>\n</VTKFile>\n");
    write_atomic(path, |w| w.write_all(xml.as_bytes()))
}

/// Writes `arrays` (name, one value per voxel of every level of `problem`, in its numbering) as
/// an overlapping AMR `path` (`.vthb`), with its images in the folder `path` without the
/// extension, and a `label` array in each image. Level 0 is the problem's grid holding the cell
/// averages of the leaves (the run's uniform `.vti`); each finer level is one image per patch
/// (a box around a group of its leaves), `STEM_LEVEL_PATCH.vti`. A cell of that box that is
/// not a leaf of its level shows the leaf at its centre: a coarser leaf, or a finer one that
/// ParaView shows instead.
pub fn write_levels_vthb(
    path: &Path,
    problem: &Problem,
    arrays: &[(&str, &[f32])],
    compress: bool,
) -> Result<()> {
    let bad = |m: String| SimError::Io {
        path: path.display().to_string(),
        message: m,
    };
    let n = problem.voxel_count();
    if let Some((name, a)) = arrays.iter().find(|a| a.1.len() != n) {
        return Err(bad(format!(
            "array '{name}' holds {} values for {n} voxels",
            a.len()
        )));
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .ok_or_else(|| bad("expected a file name".into()))?;
    let dir = path.with_extension("");
    std::fs::create_dir_all(&dir).map_err(|e| bad(e.to_string()))?;
    let g0 = &problem.grid;
    let o = g0.origin;
    let mut xml = format!(
        "<?xml version=\"1.0\"?>\n<VTKFile type=\"vtkOverlappingAMR\" version=\"1.1\" byte_order=\"LittleEndian\" header_type=\"UInt64\">\n  <vtkOverlappingAMR origin=\"{} {} {}\" grid_description=\"XYZ\">\n",
        o[0], o[1], o[2]
    );
    let offsets = problem.level_offsets();
    let grids = problem.level_grids();
    for level in 0..=problem.finest_level() {
        let patches: Vec<usize> = (0..grids.len())
            .filter(|&k| problem.grid_level(k) == level && grids[k].voxel_count() > 0)
            .collect();
        let Some(&first) = patches.first() else {
            continue;
        };
        let h = grids[first].spacing;
        xml.push_str(&format!(
            "    <Block level=\"{level}\" spacing=\"{h} {h} {h}\">\n"
        ));
        for (index, &k) in patches.iter().enumerate() {
            let file = format!("{stem}_{level}_{index}.vti");
            let (lo, hi) = write_patch(problem, k, &offsets, arrays, &dir.join(&file), compress)?;
            xml.push_str(&dataset(index, lo, hi, &stem, &file));
        }
        xml.push_str("    </Block>\n");
    }
    xml.push_str("  </vtkOverlappingAMR>\n</VTKFile>\n");
    write_atomic(path, |w| w.write_all(xml.as_bytes()))
}

/// Writes grid `k` of `problem`'s [`Problem::level_grids`] as the image `file` (see
/// [`write_levels_vthb`]) and returns its box in its level's index space.
fn write_patch(
    problem: &Problem,
    k: usize,
    offsets: &[usize],
    arrays: &[(&str, &[f32])],
    file: &Path,
    compress: bool,
) -> Result<([i64; 3], [i64; 3])> {
    let g = problem.level_grids()[k];
    let o = problem.grid.origin;
    let h = g.spacing;
    let (labels, values): (Vec<u8>, Vec<Vec<f32>>) = if k == 0 {
        (
            problem.coarse_labels().iter().map(|&l| l as u8).collect(),
            arrays
                .iter()
                .map(|(_, a)| problem.on_coarse_grid(a))
                .collect(),
        )
    } else {
        // The voxel each cell shows.
        let shown: Vec<usize> = (0..g.voxel_count())
            .map(|i| {
                if g.labels[i] != TissueLabel::Outside {
                    return offsets[k] + i;
                }
                let [x, y, z] = g.coords(i);
                problem
                    .voxel_at(g.centre(x, y, z))
                    .unwrap_or(offsets[k] + i)
            })
            .collect();
        (
            shown.iter().map(|&v| problem.label_at(v) as u8).collect(),
            arrays
                .iter()
                .map(|(_, a)| shown.iter().map(|&v| a[v]).collect())
                .collect(),
        )
    };
    let mut named: Vec<VtiArray> = arrays
        .iter()
        .zip(&values)
        .map(|((name, _), v)| VtiArray {
            name,
            data: VtiData::F32(v),
        })
        .collect();
    named.push(VtiArray {
        name: "label",
        data: VtiData::U8(&labels),
    });
    write_vti(file, g.dims, g.origin, h, &named, compress)?;
    let lo = [0, 1, 2].map(|a| ((g.origin[a] - o[a]) / h).round() as i64);
    let hi = [0, 1, 2].map(|a| lo[a] + g.dims[a] as i64 - 1);
    Ok((lo, hi))
}

/// One image of a level in the `.vthb`: its box in the level's index space and its file, in
/// the folder `folder`.
fn dataset(index: usize, lo: [i64; 3], hi: [i64; 3], folder: &str, file: &str) -> String {
    format!(
        "      <DataSet index=\"{index}\" amr_box=\"{} {} {} {} {} {}\" file=\"{}/{file}\"/>\n",
        lo[0],
        hi[0],
        lo[1],
        hi[1],
        lo[2],
        hi[2],
        xml_name(folder)
    )
}

fn xml_name(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
