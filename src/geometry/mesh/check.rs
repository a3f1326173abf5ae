//! Checks and repairs: edges shared by two triangles, open boundaries, orientation, size.

use super::*;

/// How the edges of a mesh are shared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EdgeCounts {
    /// Edges used by exactly one triangle (a hole or an opening).
    pub boundary: usize,
    /// Edges used by more than two triangles.
    pub non_manifold: usize,
    /// Edges of two triangles that traverse them in the same direction (inconsistent winding).
    pub misoriented: usize,
}

/// Undirected edge (low, high) → (number of triangles using it, +1 per low→high use, −1 per
/// high→low use).
pub(super) fn edge_uses(m: &TriMesh) -> HashMap<(u32, u32), (u32, i32)> {
    let mut edges: HashMap<(u32, u32), (u32, i32)> = HashMap::with_capacity(m.triangles.len() * 2);
    for t in &m.triangles {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            let e = edges.entry((a.min(b), a.max(b))).or_insert((0, 0));
            e.0 += 1;
            e.1 += if a < b { 1 } else { -1 };
        }
    }
    edges
}

/// Counts boundary, non-manifold and inconsistently oriented edges.
pub fn edge_counts(m: &TriMesh) -> EdgeCounts {
    let mut c = EdgeCounts::default();
    for &(n, dir) in edge_uses(m).values() {
        match n {
            1 => c.boundary += 1,
            2 if dir != 0 => c.misoriented += 1,
            2 => {}
            _ => c.non_manifold += 1,
        }
    }
    c
}

/// The boundary edges (used by one triangle only) chained into vertex loops, each loop in the
/// direction its triangles traverse those edges and without repeating its first vertex. For an
/// outward-oriented surface with an opening, a cap that closes the loop `[v0, v1, …]` is the fan
/// `(v0, v[i+1], v[i])`. Where edges do not chain (inconsistent winding, pinched vertices) the
/// open chain found is returned as it is. Loops come in the order of their first triangle.
pub fn boundary_loops(m: &TriMesh) -> Vec<Vec<u32>> {
    let uses = edge_uses(m);
    let mut edges: Vec<(u32, u32)> = Vec::new();
    for t in &m.triangles {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            if uses.get(&(a.min(b), a.max(b))).is_some_and(|u| u.0 == 1) {
                edges.push((a, b));
            }
        }
    }
    let mut at: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, &(a, b)) in edges.iter().enumerate() {
        at.entry(a).or_default().push(i);
        at.entry(b).or_default().push(i);
    }
    let mut used = vec![false; edges.len()];
    let mut loops = Vec::new();
    for start in 0..edges.len() {
        if used[start] {
            continue;
        }
        used[start] = true;
        let (first, mut cur) = edges[start];
        let mut chain = vec![first];
        while cur != first {
            chain.push(cur);
            let candidates = at.get(&cur).map(Vec::as_slice).unwrap_or_default();
            // Prefer an edge leaving `cur` in the triangles' direction.
            let next = candidates
                .iter()
                .copied()
                .filter(|&e| !used[e])
                .min_by_key(|&e| edges[e].0 != cur);
            let Some(e) = next else { break };
            used[e] = true;
            cur = if edges[e].0 == cur {
                edges[e].1
            } else {
                edges[e].0
            };
        }
        loops.push(chain);
    }
    loops
}

/// Checks one surface and repairs what can be repaired, adding one warning line per repair or
/// doubt (naming `file` and the surface) to `report`:
///
/// * no triangles, a triangle index past the vertex list, or a non-finite coordinate: error;
/// * degenerate triangles (a repeated vertex, or an area below 1e-12 of the squared bounding-box
///   diagonal): removed, with a warning; all of them degenerate: error;
/// * boundary edges (an open surface): warning `open: N boundary edges in K loops` (see
///   [`boundary_loops`] to close an opening); non-manifold edges and inconsistent winding:
///   warnings;
/// * a closed, consistently wound surface with negative signed volume: turned outside-out
///   (each triangle reversed), warning `inside-out: flipped`.
///
/// Unused vertices are left alone.
pub fn check_mesh(file: &str, m: &mut NamedMesh, report: &mut MeshReport) -> Result<()> {
    let what = format!("object '{}'", m.name);
    let mesh = &mut m.mesh;
    if mesh.triangles.is_empty() {
        return Err(mesh_error(
            file,
            format!("{what}: no triangles; expected a closed surface"),
        ));
    }
    let nv = mesh.vertices.len();
    if let Some((i, t)) = mesh
        .triangles
        .iter()
        .enumerate()
        .find(|(_, t)| t.iter().any(|&v| v as usize >= nv))
    {
        return Err(mesh_error(
            file,
            format!("{what}: triangle {i} uses vertices {t:?} but there are only {nv} vertices"),
        ));
    }
    if let Some((i, p)) = mesh
        .vertices
        .iter()
        .enumerate()
        .find(|(_, p)| p.iter().any(|c| !c.is_finite()))
    {
        return Err(mesh_error(
            file,
            format!(
                "{what}: vertex {i} (0-based) has a non-finite coordinate ({}, {}, {}); expected finite numbers (mm)",
                p[0], p[1], p[2]
            ),
        ));
    }

    // Degenerate triangles.
    let diag2 = mesh.bounds().map_or(0.0, |(lo, hi)| {
        (0..3).map(|k| (hi[k] - lo[k]).powi(2)).sum::<f64>()
    });
    let min_twice_area = 1e-12 * diag2;
    let before = mesh.triangles.len();
    let vertices = &mesh.vertices;
    mesh.triangles.retain(|t| {
        if t[0] == t[1] || t[1] == t[2] || t[2] == t[0] {
            return false;
        }
        let [a, b, c] = t.map(|v| vertices[v as usize]);
        let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        let w = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
        let n = [
            u[1] * w[2] - u[2] * w[1],
            u[2] * w[0] - u[0] * w[2],
            u[0] * w[1] - u[1] * w[0],
        ];
        (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt() > min_twice_area
    });
    let removed = before - mesh.triangles.len();
    if mesh.triangles.is_empty() {
        return Err(mesh_error(
            file,
            format!("{what}: all {before} triangles are degenerate (repeated vertex or zero area); expected a surface"),
        ));
    }
    if removed > 0 {
        report.warnings.push(format!(
            "{file}: {what}: removed {removed} degenerate triangle{} of {before} (repeated vertex or zero area)",
            plural(removed)
        ));
    }

    // Closedness and winding.
    let edges = edge_counts(mesh);
    if edges.boundary > 0 {
        let loops = boundary_loops(mesh).len();
        report.warnings.push(format!(
            "{file}: {what}: open: {} boundary edge{} in {loops} loop{}",
            edges.boundary,
            plural(edges.boundary),
            plural(loops)
        ));
    }
    if edges.non_manifold > 0 {
        report.warnings.push(format!(
            "{file}: {what}: {} non-manifold edge{} (shared by more than two triangles)",
            edges.non_manifold,
            plural(edges.non_manifold)
        ));
    }
    if edges.misoriented > 0 {
        report.warnings.push(format!(
            "{file}: {what}: inconsistent orientation: {} edge{} traversed twice in the same direction",
            edges.misoriented,
            plural(edges.misoriented)
        ));
    }
    if edges.boundary == 0 && edges.misoriented == 0 {
        let v = mesh.signed_volume();
        if v < 0.0 {
            for t in &mut mesh.triangles {
                t.swap(1, 2);
            }
            report.warnings.push(format!(
                "{file}: {what}: inside-out: flipped (signed volume was {} mm³)",
                num(v)
            ));
        }
    }
    Ok(())
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A number with at most 4 significant digits, for messages.
pub(super) fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let decimals = (3 - x.abs().log10().floor() as i32).clamp(0, 15) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Checks that the mesh's bounding box (no margin added) voxelises at `voxel_mm` into at most
/// `max_voxels` voxels, and that it spans at least one voxel (a mesh in metres read as mm does
/// not). The error names the box in mm, the voxel count and the smallest voxel size (2
/// significant digits, rounded up) that would fit.
pub fn check_size(file: &str, m: &TriMesh, voxel_mm: f64, max_voxels: u64) -> Result<()> {
    if !(voxel_mm.is_finite() && voxel_mm > 0.0) {
        return Err(mesh_error(
            file,
            format!("voxel size {voxel_mm} mm; expected a positive number of mm"),
        ));
    }
    if max_voxels == 0 {
        return Err(mesh_error(
            file,
            "voxel limit 0; expected at least one voxel",
        ));
    }
    let Some((lo, hi)) = m.bounds() else {
        return Err(mesh_error(file, "no vertices; expected a surface"));
    };
    let size = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
    if size.iter().any(|s| !s.is_finite()) {
        return Err(mesh_error(
            file,
            "non-finite vertex coordinates; expected finite numbers (mm)",
        ));
    }
    let boxed = format!("{} × {} × {} mm", num(size[0]), num(size[1]), num(size[2]));
    if size.iter().all(|&s| s < voxel_mm) {
        return Err(mesh_error(
            file,
            format!(
                "bounding box {boxed} is smaller than one {} mm voxel; expected a mesh in mm (one in metres needs scaling by 1000)",
                num(voxel_mm)
            ),
        ));
    }
    let counts = |h: f64| size.map(|s| (s / h).ceil().max(1.0));
    let total = |h: f64| counts(h).iter().product::<f64>();
    let limit = max_voxels as f64;
    if total(voxel_mm) <= limit {
        return Ok(());
    }
    // Smallest voxel size that fits: double, then bisect, then round up to 2 digits.
    let (mut bad, mut good) = (voxel_mm, voxel_mm);
    for _ in 0..2100 {
        if total(good) <= limit {
            break;
        }
        bad = good;
        good *= 2.0;
    }
    for _ in 0..100 {
        let mid = 0.5 * (bad + good);
        if total(mid) <= limit {
            good = mid;
        } else {
            bad = mid;
        }
    }
    let step = 10f64.powi(good.log10().floor() as i32 - 1);
    let mut suggested = (good / step).ceil() * step;
    while total(suggested) > limit {
        suggested += step;
    }
    let n = counts(voxel_mm);
    Err(mesh_error(
        file,
        format!(
            "bounding box {boxed} at {} mm voxels needs {:.0} × {:.0} × {:.0} = {:.0} voxels, more than the limit of {max_voxels}; use a voxel size of at least {} mm",
            num(voxel_mm),
            n[0],
            n[1],
            n[2],
            total(voxel_mm),
            num(suggested)
        ),
    ))
}
