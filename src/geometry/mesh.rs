//! Triangle surface meshes (mm): the in-memory form every geometry source is turned into,
//! their import from OBJ and STL files with checks and repairs, and their export.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::output::atomic::{io_error, write_atomic};
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

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

/// One-line `SimError::Mesh` for `file`.
fn mesh_error(file: &str, message: impl Into<String>) -> SimError {
    let message: String = message.into();
    SimError::Mesh {
        file: file.to_string(),
        message: message.replace(['\n', '\r'], " "),
    }
}

/// Loads every surface of a mesh file (lengths taken as mm), chosen by extension, `.obj` or
/// `.stl` (either case), and checks and repairs each one with [`check_mesh`].
///
/// * OBJ: each `o`/`g` object becomes one [`NamedMesh`] with the name as written (objects of
///   the same name are joined); faces before any `o`/`g`, or under an unnamed one, take the
///   file stem. Polygons are triangulated as fans, points and lines are ignored, materials
///   are not read.
/// * STL, ASCII or binary: one [`NamedMesh`] per `solid` (an ASCII file may hold several),
///   named as the solid, or by the file stem where the solid has no name or the file is binary.
///
/// Vertices with bit-identical coordinates (`-0.0` counting as `0.0`) are merged, so that the
/// triangles of one surface share them. Warnings about repairs and open surfaces are collected
/// in the returned [`MeshReport`]; anything that makes a surface unusable is an error.
pub fn load_meshes(path: &Path) -> Result<(Vec<NamedMesh>, MeshReport)> {
    let file = path.display().to_string();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let is_obj = match ext.as_deref() {
        Some("obj") => true,
        Some("stl") => false,
        Some(other) => {
            return Err(mesh_error(
                &file,
                format!("unsupported mesh extension '.{other}'; expected .obj or .stl"),
            ))
        }
        None => {
            return Err(mesh_error(
                &file,
                "no file extension; expected a mesh file ending in .obj or .stl",
            ))
        }
    };
    let bytes = std::fs::read(path).map_err(|e| io_error(path, "read the mesh file", &e))?;
    if bytes.is_empty() {
        return Err(mesh_error(
            &file,
            format!(
                "empty file (0 bytes); expected an {} mesh",
                if is_obj { "OBJ" } else { "STL" }
            ),
        ));
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "mesh".to_string());
    let mut report = MeshReport::default();
    let mut meshes = if is_obj {
        parse_obj(&file, &stem, &bytes)?
    } else {
        parse_stl(&file, &stem, &bytes, &mut report)?
    };
    if meshes.is_empty() {
        return Err(mesh_error(
            &file,
            if is_obj {
                "no faces found; expected at least one 'f' line with 3 or more vertices"
            } else {
                "no solid found; expected an ASCII or binary STL"
            },
        ));
    }
    for m in &mut meshes {
        merge_identical_vertices(&mut m.mesh);
        check_mesh(&file, m, &mut report)?;
    }
    Ok((meshes, report))
}

/// Adds `mesh` under `name`, joining it to an earlier surface of the same name.
fn push_named(out: &mut Vec<NamedMesh>, name: String, mesh: TriMesh) {
    match out.iter_mut().find(|m| m.name == name) {
        Some(m) => m.mesh.append(&mesh),
        None => out.push(NamedMesh { name, mesh }),
    }
}

fn parse_obj(file: &str, stem: &str, bytes: &[u8]) -> Result<Vec<NamedMesh>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        mesh_error(
            file,
            format!(
                "not UTF-8 text (bad byte at offset {}); expected a text OBJ file",
                e.valid_up_to()
            ),
        )
    })?;
    // tobj accepts `nan` and `inf`; name the line here, before indices are renumbered.
    let mut nv = 0usize;
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        if words.next() == Some("v") {
            nv += 1;
            for w in words.take(3) {
                if w.parse::<f64>().is_ok_and(|x| !x.is_finite()) {
                    return Err(mesh_error(
                        file,
                        format!(
                            "line {}: vertex {nv} has a non-finite coordinate '{w}'; expected finite numbers (mm)",
                            i + 1
                        ),
                    ));
                }
            }
        }
    }
    // Other fields exist when tobj's `merging`/`reordering` features are on.
    #[allow(clippy::needless_update)]
    let options = tobj::LoadOptions {
        single_index: true,
        triangulate: true,
        ignore_points: true,
        ignore_lines: true,
        ..Default::default()
    };
    let mut reader = std::io::Cursor::new(bytes);
    let (models, _materials) = tobj::load_obj_buf(&mut reader, &options, |_| {
        Err(tobj::LoadError::OpenFileFailed)
    })
    .map_err(|e| {
        let at = locate_obj_error(text, e)
            .map(|(n, l)| format!(" at line {n} '{}'", l.trim()))
            .unwrap_or_default();
        mesh_error(file, format!("invalid OBJ: {e}{at}"))
    })?;
    let mut out = Vec::new();
    for model in models {
        let m = model.mesh;
        if m.indices.len() < 3 {
            continue;
        }
        let name = match model.name.trim() {
            "" | "unnamed_object" => stem.to_string(),
            n => n.to_string(),
        };
        let mesh = TriMesh {
            vertices: m
                .positions
                .chunks_exact(3)
                .map(|p| [p[0], p[1], p[2]])
                .collect(),
            triangles: m
                .indices
                .chunks_exact(3)
                .map(|t| [t[0], t[1], t[2]])
                .collect(),
        };
        push_named(&mut out, name, mesh);
    }
    Ok(out)
}

/// The line tobj most likely stopped at (1-based), for the kinds of error it can be found for.
fn locate_obj_error(text: &str, e: tobj::LoadError) -> Option<(usize, &str)> {
    let total_v = text
        .lines()
        .filter(|l| l.split_whitespace().next() == Some("v"))
        .count() as i64;
    let mut seen_v = 0i64;
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        let key = words.next();
        let bad = match (key, e) {
            (Some("v"), tobj::LoadError::PositionParseError) => {
                let c: Vec<&str> = words.take(3).collect();
                c.len() < 3 || c.iter().any(|w| w.parse::<f64>().is_err())
            }
            (Some("f" | "l"), tobj::LoadError::FaceParseError) => words.any(|w| {
                w.split('/')
                    .any(|p| !p.is_empty() && p.parse::<i64>().is_err())
            }),
            (Some("f" | "l"), tobj::LoadError::FaceVertexOutOfBounds) => {
                words.any(|w| match w.split('/').next().map(str::parse::<i64>) {
                    Some(Ok(k)) => k == 0 || k > total_v || (k < 0 && -k > seen_v),
                    _ => false,
                })
            }
            _ => false,
        };
        if key == Some("v") {
            seen_v += 1;
        }
        if bad {
            return Some((i + 1, line));
        }
    }
    None
}

fn parse_stl(
    file: &str,
    stem: &str,
    bytes: &[u8],
    report: &mut MeshReport,
) -> Result<Vec<NamedMesh>> {
    let declared = (bytes.len() >= 84)
        .then(|| u32::from_le_bytes([bytes[80], bytes[81], bytes[82], bytes[83]]) as u64);
    let binary_size = declared.map(|n| 84 + 50 * n);
    let starts_solid = bytes.starts_with(b"solid");
    // A text file has no NUL byte; a binary STL nearly always has some (attribute counts).
    if starts_solid && !bytes.contains(&0) {
        return parse_ascii_stl(file, stem, bytes);
    }
    let (Some(n), Some(size)) = (declared, binary_size) else {
        return Err(mesh_error(
            file,
            format!(
                "not an STL: {} bytes is too short for a binary STL (84-byte header) and the file does not start with 'solid' as an ASCII STL does",
                bytes.len()
            ),
        ));
    };
    let len = bytes.len() as u64;
    if len < size {
        return Err(mesh_error(
            file,
            format!(
                "not a valid binary STL: the header declares {n} triangles (84 + 50 × {n} = {size} bytes) but the file has {len} bytes{}",
                if starts_solid { " (and it is not ASCII STL either: it holds NUL bytes)" } else { "" }
            ),
        ));
    }
    if len > size {
        report.warnings.push(format!(
            "{file}: {} bytes after the {n} triangles that the binary STL header declares were ignored",
            len - size
        ));
    }
    for i in 0..n as usize {
        for j in 0..3 {
            for k in 0..3 {
                let o = 84 + 50 * i + 12 + 12 * j + 4 * k;
                let c = f32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
                if !c.is_finite() {
                    return Err(mesh_error(
                        file,
                        format!("triangle {i} (0-based), corner {j}: non-finite coordinate {c}; expected finite numbers (mm)"),
                    ));
                }
            }
        }
    }
    // A binary header may itself begin with "solid"; stl_io would then try ASCII.
    let mut data = bytes[..size as usize].to_vec();
    if starts_solid {
        data[0] = b' ';
    }
    let indexed = stl_io::read_stl(&mut std::io::Cursor::new(data))
        .map_err(|e| mesh_error(file, format!("invalid binary STL: {e}")))?;
    let mut out = Vec::new();
    push_named(&mut out, stem.to_string(), stl_to_trimesh(file, &indexed)?);
    Ok(out)
}

fn parse_ascii_stl(file: &str, stem: &str, bytes: &[u8]) -> Result<Vec<NamedMesh>> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let Some(name) = t.strip_prefix("solid") else {
            return Err(mesh_error(
                file,
                format!("ASCII STL line {}: '{t}'; expected 'solid <name>'", i + 1),
            ));
        };
        let name = name.trim();
        // stl_io wants "solid " with a space, which an unnamed solid lacks.
        let mut block = String::from("solid x\n");
        for (_, l) in lines.by_ref() {
            block.push_str(l);
            block.push('\n');
            if l.trim_start().starts_with("endsolid") {
                break;
            }
        }
        let label = if name.is_empty() {
            String::new()
        } else {
            format!(" '{name}'")
        };
        let indexed =
            stl_io::read_stl(&mut std::io::Cursor::new(block.into_bytes())).map_err(|e| {
                mesh_error(
                    file,
                    format!(
                        "invalid ASCII STL in solid{label} starting at line {}: {e}",
                        i + 1
                    ),
                )
            })?;
        let name = if name.is_empty() { stem } else { name };
        push_named(&mut out, name.to_string(), stl_to_trimesh(file, &indexed)?);
    }
    Ok(out)
}

fn stl_to_trimesh(file: &str, m: &stl_io::IndexedMesh) -> Result<TriMesh> {
    let too_many = || {
        mesh_error(
            file,
            format!(
                "{} vertices; expected at most {}",
                m.vertices.len(),
                u32::MAX
            ),
        )
    };
    let mut triangles = Vec::with_capacity(m.faces.len());
    for f in &m.faces {
        let mut t = [0u32; 3];
        for (k, &v) in f.vertices.iter().enumerate() {
            t[k] = u32::try_from(v).map_err(|_| too_many())?;
        }
        triangles.push(t);
    }
    Ok(TriMesh {
        vertices: m.vertices.iter().map(|v| v.0.map(f64::from)).collect(),
        triangles,
    })
}

/// Merges vertices whose coordinates are bit-identical (`-0.0` counting as `0.0`), keeping the
/// first occurrence's position in the list; unused vertices stay.
pub fn merge_identical_vertices(m: &mut TriMesh) {
    let key = |p: &[f64; 3]| p.map(|c| if c == 0.0 { 0u64 } else { c.to_bits() });
    let mut index: HashMap<[u64; 3], u32> = HashMap::with_capacity(m.vertices.len());
    let mut remap = Vec::with_capacity(m.vertices.len());
    let mut vertices = Vec::with_capacity(m.vertices.len());
    for p in &m.vertices {
        let next = vertices.len() as u32;
        let i = *index.entry(key(p)).or_insert(next);
        if i == next {
            vertices.push(*p);
        }
        remap.push(i);
    }
    if vertices.len() == m.vertices.len() {
        return;
    }
    for t in &mut m.triangles {
        for v in t.iter_mut() {
            if let Some(&r) = remap.get(*v as usize) {
                *v = r;
            }
        }
    }
    m.vertices = vertices;
}

// ---------------------------------------------------------------------------------------------
// Checks and repairs
// ---------------------------------------------------------------------------------------------

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
fn edge_uses(m: &TriMesh) -> HashMap<(u32, u32), (u32, i32)> {
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A number with at most 4 significant digits, for messages.
fn num(x: f64) -> String {
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

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

/// Checks a mesh before writing: indices in range, coordinates finite (and, for STL, within
/// the range of f32).
fn check_writable(file: &str, m: &NamedMesh, f32_range: bool) -> Result<()> {
    let nv = m.mesh.vertices.len();
    if let Some((i, t)) = m
        .mesh
        .triangles
        .iter()
        .enumerate()
        .find(|(_, t)| t.iter().any(|&v| v as usize >= nv))
    {
        return Err(mesh_error(
            file,
            format!(
                "object '{}': triangle {i} uses vertices {t:?} but there are only {nv} vertices",
                m.name
            ),
        ));
    }
    let ok = |c: f64| {
        if f32_range {
            (c as f32).is_finite()
        } else {
            c.is_finite()
        }
    };
    if let Some((i, p)) = m
        .mesh
        .vertices
        .iter()
        .enumerate()
        .find(|(_, p)| !p.iter().all(|&c| ok(c)))
    {
        return Err(mesh_error(
            file,
            format!(
                "object '{}': vertex {i} is ({}, {}, {}); expected finite coordinates{}",
                m.name,
                p[0],
                p[1],
                p[2],
                if f32_range { " within f32 range" } else { "" }
            ),
        ));
    }
    Ok(())
}

/// A name that fits on one line of a file (`fallback` when empty).
fn one_line_name(name: &str, fallback: &str) -> String {
    let n: String = name
        .chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .collect();
    let n = n.trim();
    if n.is_empty() {
        fallback.to_string()
    } else {
        n.to_string()
    }
}

/// Writes meshes to a Wavefront OBJ file (mm): one `o <name>` per mesh, its `v` lines with
/// shortest round-trip decimals (f64 read back exactly) and its triangles as `f` lines with
/// file-global 1-based indices. The file is written atomically (temporary file, then rename).
pub fn write_obj(path: &Path, meshes: &[NamedMesh]) -> Result<()> {
    let file = path.display().to_string();
    for m in meshes {
        check_writable(&file, m, false)?;
    }
    write_atomic(path, |w| {
        writeln!(w, "# written by secretome; lengths in mm")?;
        let mut base = 1u64;
        for m in meshes {
            writeln!(w, "o {}", one_line_name(&m.name, "unnamed"))?;
            for v in &m.mesh.vertices {
                writeln!(w, "v {} {} {}", v[0], v[1], v[2])?;
            }
            for t in &m.mesh.triangles {
                writeln!(
                    w,
                    "f {} {} {}",
                    base + t[0] as u64,
                    base + t[1] as u64,
                    base + t[2] as u64
                )?;
            }
            base += m.mesh.vertices.len() as u64;
        }
        Ok(())
    })
}

/// Unit normal of a triangle of f32 corners (zero for a degenerate one).
fn facet_normal(p: &[[f32; 3]; 3]) -> [f32; 3] {
    let d = |i: usize, k: usize| f64::from(p[i][k]) - f64::from(p[0][k]);
    let u = [d(1, 0), d(1, 1), d(1, 2)];
    let w = [d(2, 0), d(2, 1), d(2, 2)];
    let n = [
        u[1] * w[2] - u[2] * w[1],
        u[2] * w[0] - u[0] * w[2],
        u[0] * w[1] - u[1] * w[0],
    ];
    let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
    if len > 0.0 {
        n.map(|c| (c / len) as f32)
    } else {
        [0.0; 3]
    }
}

/// Writes one mesh to an STL file (mm, f32 coordinates), binary or ASCII (`solid <name>`,
/// with facet normals), atomically (temporary file, then rename). A binary header never
/// starts with `solid`, so readers do not mistake it for ASCII.
pub fn write_stl(path: &Path, mesh: &NamedMesh, binary: bool) -> Result<()> {
    let file = path.display().to_string();
    check_writable(&file, mesh, true)?;
    let count = u32::try_from(mesh.mesh.triangles.len()).map_err(|_| {
        mesh_error(
            &file,
            format!(
                "{} triangles; an STL holds at most {}",
                mesh.mesh.triangles.len(),
                u32::MAX
            ),
        )
    })?;
    let name = one_line_name(&mesh.name, "mesh");
    let corners = |t: &[u32; 3]| {
        t.map(|v| {
            let p = mesh.mesh.vertices[v as usize];
            p.map(|c| c as f32)
        })
    };
    write_atomic(path, |w| {
        if binary {
            let mut header = [0u8; 80];
            let text = format!("binary STL from secretome, mm: {name}");
            let n = text.len().min(80);
            header[..n].copy_from_slice(&text.as_bytes()[..n]);
            w.write_all(&header)?;
            w.write_all(&count.to_le_bytes())?;
            for t in &mesh.mesh.triangles {
                let p = corners(t);
                for c in facet_normal(&p).iter().chain(p.iter().flatten()) {
                    w.write_all(&c.to_le_bytes())?;
                }
                w.write_all(&0u16.to_le_bytes())?;
            }
        } else {
            writeln!(w, "solid {name}")?;
            for t in &mesh.mesh.triangles {
                let p = corners(t);
                let n = facet_normal(&p);
                writeln!(w, "  facet normal {} {} {}", n[0], n[1], n[2])?;
                writeln!(w, "    outer loop")?;
                for q in &p {
                    writeln!(w, "      vertex {} {} {}", q[0], q[1], q[2])?;
                }
                writeln!(w, "    endloop")?;
                writeln!(w, "  endfacet")?;
            }
            writeln!(w, "endsolid {name}")?;
        }
        Ok(())
    })
}
