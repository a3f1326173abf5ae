//! From surfaces to a labelled heart: voxelisation, cavities, frame, AHA segments, transmural
//! depth and infarcts (MODEL.md §1).
//!
//! The myocardium surface is voxelised; the cavities are the regions it encloses once the base
//! plane is closed (a flood fill from the grid's edge that may not cross the base plane), or the
//! named cavity surfaces where given. LV and RV are told apart by a hint point, by the cavity
//! surfaces' names, or else by the wall around them (the LV's is thicker).

use super::base_plane::estimate_base_plane;
use super::distance::{bounding_box, distance_in_box, distance_to};
use super::frame::{add, cross, dot, normalize, reject, scale, sub, HeartFrame};
use super::infarct::{apply_infarcts, InfarctSpec};
use super::mesh::NamedMesh;
use super::voxelize::{voxelize, GridSpec};
use crate::base::Grid;
use crate::base::TissueLabel;
use crate::error::{Result, SimError};
pub use crate::scenario::heart::{AnatomyHints, BasePlane};

impl BasePlane {
    /// Signed height of `p` above the plane (positive on the base side), mm.
    pub fn height(&self, p: [f64; 3]) -> f64 {
        dot(sub(p, self.point), self.normal)
    }
}

/// Largest grid the labeller builds. In the browser, whose memory is 4 GiB at most, 8e7 (the
/// default heart at 0.25 mm, 6.3e7 voxels, still builds; the GPU's budget then decides).
pub const MAX_VOXELS: usize = if cfg!(target_arch = "wasm32") {
    80_000_000
} else {
    400_000_000
};

/// A labelled heart on a voxel grid.
#[derive(Clone, Debug)]
pub struct HeartAnatomy {
    /// Labels per voxel (infarcts applied), spacing and origin.
    pub grid: Grid,
    /// AHA segment (1–17) of every LV myocardial voxel, 0 elsewhere.
    pub aha_segment: Vec<u8>,
    /// Transmural depth (0 endocardium → 1 epicardium) of every LV myocardial voxel; NaN
    /// elsewhere.
    pub depth: Vec<f32>,
    /// Local LV wall thickness at every LV myocardial voxel, mm; NaN elsewhere.
    pub wall_thickness: Vec<f32>,
    /// Whether each voxel is LV myocardium (free wall and septum, any tissue label).
    pub lv_myocardium: Vec<bool>,
    /// Frame: base centre, long axis, apex, septum direction, anterior RV insertion.
    pub frame: HeartFrame,
    /// The base plane used to close the cavities.
    pub base_plane: BasePlane,
    /// What was estimated or repaired, one line each.
    pub warnings: Vec<String>,
}

impl HeartAnatomy {
    /// A grid with no heart anatomy (a block of tissue): no segments, no depth.
    pub fn empty(grid: Grid) -> HeartAnatomy {
        let n = grid.voxel_count();
        HeartAnatomy {
            aha_segment: vec![0; n],
            depth: vec![f32::NAN; n],
            wall_thickness: vec![f32::NAN; n],
            lv_myocardium: vec![false; n],
            frame: HeartFrame {
                base_centre: [0.0; 3],
                long_axis: [0.0, 0.0, 1.0],
                apex: [0.0; 3],
                septum: [1.0, 0.0, 0.0],
                anterior_insertion: None,
            },
            base_plane: BasePlane {
                point: [0.0; 3],
                normal: [0.0, 0.0, 1.0],
            },
            warnings: Vec::new(),
            grid,
        }
    }
}

fn find<'a>(meshes: &'a [NamedMesh], keys: &[&str]) -> Option<&'a NamedMesh> {
    meshes.iter().find(|m| {
        let n = m.name.to_ascii_lowercase();
        keys.iter().all(|k| n.contains(k))
    })
}

/// Labels the heart described by `meshes` on a grid of spacing `spacing` mm: the myocardium
/// surface (named `myocardium`, or the only mesh), and optionally `lv_cavity` / `rv_cavity`.
pub fn label_heart(
    meshes: &[NamedMesh],
    spacing: f64,
    hints: &AnatomyHints,
    infarcts: &[InfarctSpec],
) -> Result<HeartAnatomy> {
    if !(spacing > 0.0 && spacing.is_finite()) {
        return Err(SimError::Geometry(format!(
            "voxel size {spacing}: expected a positive length in mm"
        )));
    }
    let mut warnings = Vec::new();
    let myo_mesh = if meshes.len() == 1 {
        &meshes[0]
    } else {
        find(meshes, &["myo"]).ok_or_else(|| {
            SimError::Geometry(format!(
                "none of the objects {:?} is named like `myocardium`; expected one object holding the myocardium surface",
                meshes.iter().map(|m| m.name.as_str()).collect::<Vec<_>>()
            ))
        })?
    };
    let lv_mesh = find(meshes, &["lv"]).filter(|m| m.name != myo_mesh.name);
    let rv_mesh = find(meshes, &["rv"]).filter(|m| m.name != myo_mesh.name);
    for m in meshes {
        let used = m.name == myo_mesh.name
            || lv_mesh.is_some_and(|l| l.name == m.name)
            || rv_mesh.is_some_and(|r| r.name == m.name);
        if !used {
            warnings.push(format!(
                "object `{}` ignored (expected myocardium, lv_cavity, rv_cavity)",
                m.name
            ));
        }
    }
    let (lo, hi) = myo_mesh
        .mesh
        .bounds()
        .ok_or_else(|| SimError::Geometry(format!("object `{}` has no vertices", myo_mesh.name)))?;
    let spec = GridSpec::covering(lo, hi, spacing, 2.0 * spacing);
    let voxels = spec.dims.iter().map(|&d| d as f64).product::<f64>();
    if voxels > MAX_VOXELS as f64 {
        let size = [0, 1, 2].map(|k| hi[k] - lo[k]);
        let fit = (size[0] * size[1] * size[2] / MAX_VOXELS as f64).cbrt();
        return Err(SimError::Geometry(format!(
            "a {:.0} × {:.0} × {:.0} mm heart at {spacing} mm voxels needs {:.2e} voxels, more than {MAX_VOXELS}; use voxels of at least {:.2} mm (is the mesh in mm?)",
            size[0], size[1], size[2], voxels, fit
        )));
    }
    if spec.dims.iter().any(|&d| d < 8) {
        return Err(SimError::Geometry(format!(
            "the heart spans only {:?} voxels of {spacing} mm; expected at least 8 across (is the mesh in mm, not m?)",
            spec.dims
        )));
    }
    let n = spec.len();

    let myo = voxelize(&myo_mesh.mesh, &spec);
    if myo.leaky_columns > 0 {
        warnings.push(format!(
            "`{}` is not closed: {} voxel columns crossed a hole and were decided by the other two axes",
            myo_mesh.name, myo.leaky_columns
        ));
    }
    let is_myo = myo.inside;
    let myo_count = is_myo.iter().filter(|&&b| b).count();
    if myo_count == 0 {
        return Err(SimError::Geometry(format!(
            "`{}` encloses no voxel centre at {spacing} mm (is it inside out or flat?)",
            myo_mesh.name
        )));
    }
    let lv_in = lv_mesh.map(|m| voxelize(&m.mesh, &spec).inside);
    let rv_in = rv_mesh.map(|m| voxelize(&m.mesh, &spec).inside);
    // Cavity surfaces, where given, are cavity whatever the myocardium's surface does: a gap in
    // the wall then cannot let the outside in.
    let in_cavity_mesh =
        |i: usize| lv_in.as_ref().is_some_and(|v| v[i]) || rv_in.as_ref().is_some_and(|v| v[i]);

    let plane = match hints.base_plane {
        Some(p) => {
            let normal = normalize(p.normal).ok_or_else(|| {
                SimError::Geometry("base plane normal is zero; expected a direction".into())
            })?;
            BasePlane {
                point: p.point,
                normal,
            }
        }
        None => {
            let p = estimate_base_plane(myo_mesh, lv_mesh, spacing)?;
            warnings.push(format!(
                "base plane estimated: point ({:.1}, {:.1}, {:.1}) mm, normal ({:.3}, {:.3}, {:.3})",
                p.point[0], p.point[1], p.point[2], p.normal[0], p.normal[1], p.normal[2]
            ));
            p
        }
    };

    // Outside: reached from the grid edge without crossing myocardium or the base plane.
    let side: Vec<bool> = (0..n)
        .map(|i| plane.height(spec.centre_of(i)) > 0.0)
        .collect();
    let mut reached = vec![false; n];
    let mut stack = Vec::new();
    let [nx, ny, nz] = spec.dims;
    for i in 0..n {
        let (x, y, z) = (i % nx, (i / nx) % ny, i / (nx * ny));
        let edge = x == 0 || y == 0 || z == 0 || x + 1 == nx || y + 1 == ny || z + 1 == nz;
        if edge && !is_myo[i] && !in_cavity_mesh(i) {
            reached[i] = true;
            stack.push(i);
        }
    }
    let grid_tmp = Grid {
        dims: spec.dims,
        spacing,
        origin: spec.origin,
        labels: Vec::new(),
    };
    while let Some(i) = stack.pop() {
        for j in grid_tmp.face_neighbours(i).into_iter().flatten() {
            if !reached[j] && !is_myo[j] && side[j] == side[i] && !in_cavity_mesh(j) {
                reached[j] = true;
                stack.push(j);
            }
        }
    }

    // Enclosed components.
    let mut comp = vec![u32::MAX; n];
    let mut comps: Vec<Vec<usize>> = Vec::new();
    for s in 0..n {
        if is_myo[s] || reached[s] || comp[s] != u32::MAX {
            continue;
        }
        let id = comps.len() as u32;
        let mut members = vec![s];
        comp[s] = id;
        let mut k = 0;
        while k < members.len() {
            let i = members[k];
            k += 1;
            for j in grid_tmp.face_neighbours(i).into_iter().flatten() {
                if !is_myo[j] && !reached[j] && comp[j] == u32::MAX {
                    comp[j] = id;
                    members.push(j);
                }
            }
        }
        comps.push(members);
    }
    let voxel_ml = spacing.powi(3) * 1e-3;
    let mut labels = vec![TissueLabel::Outside; n];
    for i in 0..n {
        if is_myo[i] {
            labels[i] = TissueLabel::Myocardium;
        }
    }
    // Small enclosed voids are holes in the wall, not cavities.
    let min_cavity_ml = 1.0;
    let mut cavities: Vec<usize> = Vec::new();
    let mut filled_ml = 0.0;
    for (c, members) in comps.iter().enumerate() {
        if members.len() as f64 * voxel_ml < min_cavity_ml {
            filled_ml += members.len() as f64 * voxel_ml;
            for &i in members {
                labels[i] = TissueLabel::Myocardium;
            }
        } else {
            cavities.push(c);
        }
    }
    if filled_ml > 0.0 {
        warnings.push(format!(
            "{filled_ml:.2} mL of small enclosed voids in the wall filled as myocardium"
        ));
    }
    cavities.sort_by_key(|&c| std::cmp::Reverse(comps[c].len()));
    if cavities.is_empty() {
        return Err(SimError::Geometry(format!(
            "`{}` encloses no cavity once the base plane (point ({:.1}, {:.1}, {:.1}) mm, normal ({:.2}, {:.2}, {:.2})) is closed; expected a myocardium with LV (and RV) cavities open at the base, or give the base plane",
            myo_mesh.name,
            plane.point[0],
            plane.point[1],
            plane.point[2],
            plane.normal[0],
            plane.normal[1],
            plane.normal[2]
        )));
    }
    if cavities.len() > 2 {
        let extra: f64 = cavities[2..]
            .iter()
            .map(|&c| comps[c].len() as f64 * voxel_ml)
            .sum();
        warnings.push(format!(
            "{} enclosed regions beyond the two largest ({extra:.1} mL) labelled outside",
            cavities.len() - 2
        ));
        cavities.truncate(2);
    }

    // Which cavity is the LV. The wall around each cavity (distance to the outside) decides
    // only when nothing else does.
    let outside: Vec<bool> = (0..n)
        .map(|i| labels[i] == TissueLabel::Outside && comp[i] == u32::MAX)
        .collect();
    let by_walls =
        cavities.len() == 2 && hints.lv_point.is_none() && lv_in.is_none() && rv_in.is_none();
    let d_out = if by_walls {
        distance_to(&outside, spec.dims, spacing)
    } else {
        Vec::new()
    };
    let score = |c: usize| -> (usize, usize, f64) {
        let members = &comps[c];
        let lv = lv_in
            .as_ref()
            .map_or(0, |v| members.iter().filter(|&&i| v[i]).count());
        let rv = rv_in
            .as_ref()
            .map_or(0, |v| members.iter().filter(|&&i| v[i]).count());
        // Median distance from the cavity's wall voxels to the outside: the wall around it.
        let mut wall: Vec<f64> = members
            .iter()
            .filter(|&&i| grid_tmp.neighbours(i).any(|j| is_myo[j]))
            .filter_map(|&i| d_out.get(i).copied())
            .filter(|d| d.is_finite())
            .collect();
        wall.sort_by(f64::total_cmp);
        let med = wall.get(wall.len() / 2).copied().unwrap_or(0.0);
        (lv, rv, med)
    };
    let lv_first = if let Some(p) = hints.lv_point {
        let idx = voxel_at(&spec, p).ok_or_else(|| {
            SimError::Geometry(format!(
                "LV hint point ({:.1}, {:.1}, {:.1}) mm lies outside the heart's grid",
                p[0], p[1], p[2]
            ))
        })?;
        let c = comp[idx];
        if !cavities.iter().any(|&k| k as u32 == c) {
            return Err(SimError::Geometry(format!(
                "LV hint point ({:.1}, {:.1}, {:.1}) mm is not inside a cavity",
                p[0], p[1], p[2]
            )));
        }
        cavities[0] as u32 == c
    } else if cavities.len() == 2 {
        let (a, b) = (score(cavities[0]), score(cavities[1]));
        if lv_in.is_some() || rv_in.is_some() {
            (a.0 as i64 - a.1 as i64) >= (b.0 as i64 - b.1 as i64)
        } else {
            a.2 >= b.2
        }
    } else {
        true
    };
    let (lv_c, rv_c) = match (cavities.len(), lv_first) {
        (1, _) => (cavities[0], None),
        (_, true) => (cavities[0], Some(cavities[1])),
        (_, false) => (cavities[1], Some(cavities[0])),
    };
    if rv_c.is_none() {
        warnings.push("only one cavity found: taken as the LV; there is no RV".into());
    }
    for &i in &comps[lv_c] {
        labels[i] = TissueLabel::BloodLv;
    }
    if let Some(r) = rv_c {
        for &i in &comps[r] {
            labels[i] = TissueLabel::BloodRv;
        }
    }

    // Frame.
    let u = plane.normal;
    let centroid = |members: &[usize]| -> [f64; 3] {
        let mut s = [0.0; 3];
        for &i in members {
            s = add(s, spec.centre_of(i));
        }
        scale(s, 1.0 / members.len().max(1) as f64)
    };
    let lv_centroid = centroid(&comps[lv_c]);
    // The LV axis: through the centroid of the LV cavity's basal slab, along the plane normal.
    let basal: Vec<usize> = comps[lv_c]
        .iter()
        .copied()
        .filter(|&i| plane.height(spec.centre_of(i)) > -3.0 * spacing.max(1.0))
        .collect();
    let axis_point = if basal.is_empty() {
        lv_centroid
    } else {
        centroid(&basal)
    };
    let base_centre = sub(axis_point, scale(u, plane.height(axis_point)));
    let mut apex_h = 0.0f64;
    let mut apex = base_centre;
    let near_axis = 0.25 * (0..3).map(|k| hi[k] - lo[k]).fold(0.0, f64::max);
    for i in 0..n {
        if labels[i] == TissueLabel::Myocardium {
            let p = spec.centre_of(i);
            let hgt = plane.height(p);
            let r = crate::geometry::frame::norm(reject(sub(p, base_centre), u));
            // The apex: the most apical myocardium near the LV axis.
            if hgt < apex_h && r < near_axis {
                apex_h = hgt;
                apex = p;
            }
        }
    }
    let septum = match rv_c {
        Some(r) => normalize(reject(sub(centroid(&comps[r]), lv_centroid), u)),
        None => None,
    }
    .or_else(|| normalize(reject([1.0, 0.0, 0.0], u)))
    .or_else(|| normalize(reject([0.0, 1.0, 0.0], u)))
    .ok_or_else(|| SimError::Geometry("cannot find a septum direction".into()))?;
    let anterior = cross(u, septum);
    let t_of = |p: [f64; 3]| dot(sub(p, base_centre), u);
    let angle_of = |p: [f64; 3]| {
        let d = sub(p, base_centre);
        dot(d, anterior).atan2(dot(d, septum))
    };

    // LV cavity extent along the axis.
    let t_cav = comps[lv_c]
        .iter()
        .map(|&i| t_of(spec.centre_of(i)))
        .fold(f64::INFINITY, f64::min);

    // Anterior RV insertion: the RV cavity's extreme angle on the anterior side, at mid level.
    let insertion_angle = match (hints.anterior_insertion, rv_c) {
        (Some(p), _) => angle_of(p),
        (None, Some(r)) => {
            let (m_lo, m_hi) = (
                t_cav + (0.0 - t_cav) / 3.0,
                t_cav + 2.0 * (0.0 - t_cav) / 3.0,
            );
            let mut angles: Vec<f64> = comps[r]
                .iter()
                .map(|&i| spec.centre_of(i))
                .filter(|&p| (m_lo..m_hi).contains(&t_of(p)))
                .map(angle_of)
                .collect();
            angles.sort_by(f64::total_cmp);
            let a = angles
                .get((angles.len() as f64 * 0.99) as usize)
                .copied()
                .unwrap_or(60f64.to_radians());
            warnings.push(format!(
                "anterior RV insertion estimated {:.0}° from the septum direction",
                a.to_degrees()
            ));
            a
        }
        (None, None) => 60f64.to_radians(),
    };
    let mid_t = t_cav * 0.5;
    // Radius of the insertion point: the LV cavity's radius at mid level, plus the wall.
    let ins_r = 1.35
        * comps[lv_c]
            .iter()
            .map(|&i| spec.centre_of(i))
            .filter(|&p| (t_of(p) - mid_t).abs() < spacing)
            .map(|p| crate::geometry::frame::norm(reject(sub(p, base_centre), u)))
            .fold(0.0, f64::max);
    let insertion_point = add(
        add(base_centre, scale(u, mid_t)),
        add(
            scale(septum, ins_r * insertion_angle.cos()),
            scale(anterior, ins_r * insertion_angle.sin()),
        ),
    );
    let frame = HeartFrame {
        base_centre,
        long_axis: u,
        apex,
        septum,
        anterior_insertion: Some(hints.anterior_insertion.unwrap_or(insertion_point)),
    };

    // LV myocardium: myocardium not seen through the RV cavity from the LV axis. Per slice
    // across the axis and per angular bin, the RV cavity's nearest radius to the axis; a
    // myocardial voxel beyond it is RV free wall.
    let bins = ((std::f64::consts::TAU * 0.5 * (hi[0] - lo[0]).max(hi[1] - lo[1])) / spacing)
        .ceil()
        .clamp(36.0, 4096.0) as usize;
    let slice_of = |t: f64| (t / spacing).round() as i64;
    let slice_lo = slice_of(-((hi[0] - lo[0]) + (hi[1] - lo[1]) + (hi[2] - lo[2])));
    let slices = (-2 * slice_lo + 2) as usize;
    let bin_of = |a: f64| {
        (((a + std::f64::consts::PI) / std::f64::consts::TAU) * bins as f64) as usize % bins
    };
    let polar = |i: usize| {
        let p = spec.centre_of(i);
        let d = sub(p, base_centre);
        let t = dot(d, u);
        let r = crate::geometry::frame::norm(reject(d, u));
        let s = (slice_of(t) - slice_lo).clamp(0, slices as i64 - 1) as usize;
        (s, bin_of(angle_of(p)), r)
    };
    let mut rv_near = vec![f64::INFINITY; slices * bins];
    for i in 0..n {
        if labels[i] == TissueLabel::BloodRv {
            let (s, b, r) = polar(i);
            let slot = &mut rv_near[s * bins + b];
            *slot = slot.min(r);
        }
    }
    let mut lv_myo = vec![false; n];
    for i in 0..n {
        if labels[i] == TissueLabel::Myocardium {
            let (s, b, r) = polar(i);
            lv_myo[i] = r < rv_near[s * bins + b];
        }
    }

    // Transmural depth and wall thickness.
    let blood_lv: Vec<bool> = labels.iter().map(|&l| l == TissueLabel::BloodLv).collect();
    let not_lv: Vec<bool> = (0..n).map(|i| !lv_myo[i] && !blood_lv[i]).collect();
    // Depth needs distances only around the LV wall: compute them in its box, on two threads
    // (one after the other in the browser, which has none).
    let dims = spec.dims;
    let (d_endo, d_epi) = match bounding_box(&lv_myo, dims, 2) {
        #[cfg(target_arch = "wasm32")]
        Some((blo, bhi)) => (
            distance_in_box(&blood_lv, dims, spacing, blo, bhi),
            distance_in_box(&not_lv, dims, spacing, blo, bhi),
        ),
        #[cfg(not(target_arch = "wasm32"))]
        Some((blo, bhi)) => std::thread::scope(|sc| {
            let other = sc.spawn(|| distance_in_box(&blood_lv, dims, spacing, blo, bhi));
            let d_epi = distance_in_box(&not_lv, dims, spacing, blo, bhi);
            match other.join() {
                Ok(d_endo) => Ok((d_endo, d_epi)),
                Err(_) => Err(SimError::Geometry(
                    "distance transform thread failed".into(),
                )),
            }
        })?,
        None => (vec![f64::INFINITY; n], vec![f64::INFINITY; n]),
    };
    let half = 0.5 * spacing;
    let mut depth = vec![f32::NAN; n];
    let mut thickness = vec![f32::NAN; n];
    for i in 0..n {
        if labels[i] != TissueLabel::Myocardium {
            continue;
        }
        if lv_myo[i] {
            let a = (d_endo[i] - half).max(0.0);
            let b = (d_epi[i] - half).max(0.0);
            if a.is_finite() && b.is_finite() && a + b > 0.0 {
                depth[i] = (a / (a + b)) as f32;
                thickness[i] = (a + b) as f32;
            } else {
                depth[i] = 0.5;
            }
        }
    }

    // AHA segments.
    let mut aha = vec![0u8; n];
    let third = -t_cav / 3.0;
    for i in 0..n {
        if !lv_myo[i] {
            continue;
        }
        let p = spec.centre_of(i);
        let t = t_of(p);
        // Angle from the anterior insertion, increasing towards the septum.
        let theta = (insertion_angle - angle_of(p))
            .rem_euclid(std::f64::consts::TAU)
            .to_degrees();
        aha[i] = if t < t_cav {
            17
        } else if t < t_cav + third {
            let k = ((theta - 15.0).rem_euclid(360.0) / 90.0) as usize;
            [14, 15, 16, 13][k.min(3)]
        } else {
            let k = (theta / 60.0) as usize;
            let base = [2, 3, 4, 5, 6, 1][k.min(5)];
            if t < t_cav + 2.0 * third {
                base + 6
            } else {
                base
            }
        };
    }

    let mut grid = Grid {
        dims: spec.dims,
        spacing,
        origin: spec.origin,
        labels,
    };
    apply_infarcts(&mut grid, &aha, &depth, infarcts)?;

    Ok(HeartAnatomy {
        grid,
        aha_segment: aha,
        depth,
        wall_thickness: thickness,
        lv_myocardium: lv_myo,
        frame,
        base_plane: plane,
        warnings,
    })
}

/// Index of the voxel containing `p`, if inside the grid.
pub fn voxel_at(spec: &GridSpec, p: [f64; 3]) -> Option<usize> {
    let mut ijk = [0usize; 3];
    for k in 0..3 {
        let f = (p[k] - spec.origin[k]) / spec.spacing;
        if !(f >= 0.0 && f < spec.dims[k] as f64) {
            return None;
        }
        ijk[k] = f as usize;
    }
    Some(spec.index(ijk[0], ijk[1], ijk[2]))
}
