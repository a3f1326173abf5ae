//! Import from OBJ and STL (ASCII and binary), with one-line errors that name the file and line.

use super::*;

/// One-line `SimError::Mesh` for `file`.
pub(super) fn mesh_error(file: &str, message: impl Into<String>) -> SimError {
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
pub(super) fn push_named(out: &mut Vec<NamedMesh>, name: String, mesh: TriMesh) {
    match out.iter_mut().find(|m| m.name == name) {
        Some(m) => m.mesh.append(&mesh),
        None => out.push(NamedMesh { name, mesh }),
    }
}

pub(super) fn parse_obj(file: &str, stem: &str, bytes: &[u8]) -> Result<Vec<NamedMesh>> {
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
pub(super) fn locate_obj_error(text: &str, e: tobj::LoadError) -> Option<(usize, &str)> {
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

pub(super) fn parse_stl(
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

pub(super) fn parse_ascii_stl(file: &str, stem: &str, bytes: &[u8]) -> Result<Vec<NamedMesh>> {
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

pub(super) fn stl_to_trimesh(file: &str, m: &stl_io::IndexedMesh) -> Result<TriMesh> {
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
