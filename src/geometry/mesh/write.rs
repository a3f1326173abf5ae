//! Export to OBJ and STL, written atomically.

use super::*;

/// Checks a mesh before writing: indices in range, coordinates finite (and, for STL, within
/// the range of f32).
pub(super) fn check_writable(file: &str, m: &NamedMesh, f32_range: bool) -> Result<()> {
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
pub(super) fn one_line_name(name: &str, fallback: &str) -> String {
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
pub(super) fn facet_normal(p: &[[f32; 3]; 3]) -> [f32; 3] {
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
