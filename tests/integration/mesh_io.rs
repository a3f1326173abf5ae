//! Mesh import and export: round trips through OBJ and STL keep the surfaces, and every bad
//! file gives a one-line error or warning that names the file and the problem, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use secretome::geometry::mesh::{
    boundary_loops, check_size, load_meshes, write_obj, write_stl, MeshReport,
};
use secretome::geometry::{NamedMesh, TriMesh};

/// A fresh, empty folder for one test.
fn dir(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("mesh_io-{test}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Axis-aligned cube of edge `a` mm with corner `o`, outward-oriented.
fn cube(o: [f64; 3], a: f64) -> TriMesh {
    let vertices = (0..8)
        .map(|i| {
            [
                o[0] + a * f64::from(i & 1),
                o[1] + a * f64::from((i >> 1) & 1),
                o[2] + a * f64::from((i >> 2) & 1),
            ]
        })
        .collect();
    let quads = [
        [0, 2, 3, 1],
        [4, 5, 7, 6],
        [0, 1, 5, 4],
        [2, 6, 7, 3],
        [0, 4, 6, 2],
        [1, 3, 7, 5],
    ];
    let triangles = quads
        .iter()
        .flat_map(|q| [[q[0], q[1], q[2]], [q[0], q[2], q[3]]])
        .collect();
    TriMesh {
        vertices,
        triangles,
    }
}

/// Icosahedron subdivided `levels` times onto a sphere of radius `r` mm about `c`.
fn icosphere(c: [f64; 3], r: f64, levels: usize) -> TriMesh {
    let p = (1.0 + 5f64.sqrt()) / 2.0;
    let mut v: Vec<[f64; 3]> = vec![
        [-1.0, p, 0.0],
        [1.0, p, 0.0],
        [-1.0, -p, 0.0],
        [1.0, -p, 0.0],
        [0.0, -1.0, p],
        [0.0, 1.0, p],
        [0.0, -1.0, -p],
        [0.0, 1.0, -p],
        [p, 0.0, -1.0],
        [p, 0.0, 1.0],
        [-p, 0.0, -1.0],
        [-p, 0.0, 1.0],
    ];
    let mut t: Vec<[u32; 3]> = vec![
        [0, 11, 5],
        [0, 5, 1],
        [0, 1, 7],
        [0, 7, 10],
        [0, 10, 11],
        [1, 5, 9],
        [5, 11, 4],
        [11, 10, 2],
        [10, 7, 6],
        [7, 1, 8],
        [3, 9, 4],
        [3, 4, 2],
        [3, 2, 6],
        [3, 6, 8],
        [3, 8, 9],
        [4, 9, 5],
        [2, 4, 11],
        [6, 2, 10],
        [8, 6, 7],
        [9, 8, 1],
    ];
    let unit = |a: [f64; 3]| {
        let n = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
        a.map(|x| x / n)
    };
    v.iter_mut().for_each(|a| *a = unit(*a));
    for _ in 0..levels {
        let mut mid: HashMap<(u32, u32), u32> = HashMap::new();
        let mut next = Vec::new();
        for tri in &t {
            let mut m = [0u32; 3];
            for k in 0..3 {
                let (a, b) = (tri[k], tri[(k + 1) % 3]);
                m[k] = *mid.entry((a.min(b), a.max(b))).or_insert_with(|| {
                    let (pa, pb) = (v[a as usize], v[b as usize]);
                    v.push(unit([pa[0] + pb[0], pa[1] + pb[1], pa[2] + pb[2]]));
                    (v.len() - 1) as u32
                });
            }
            next.extend([
                [tri[0], m[0], m[2]],
                [tri[1], m[1], m[0]],
                [tri[2], m[2], m[1]],
                [m[0], m[1], m[2]],
            ]);
        }
        t = next;
    }
    TriMesh {
        vertices: v
            .iter()
            .map(|a| [c[0] + r * a[0], c[1] + r * a[1], c[2] + r * a[2]])
            .collect(),
        triangles: t,
    }
}

fn named(name: &str, mesh: TriMesh) -> NamedMesh {
    NamedMesh {
        name: name.to_string(),
        mesh,
    }
}

/// The error of loading `path`, checked to be one line naming the file.
fn load_error(path: &Path) -> String {
    let e = load_meshes(path)
        .expect_err("expected an error")
        .to_string();
    assert!(!e.contains('\n'), "not one line: {e}");
    assert!(
        e.contains(&path.display().to_string()),
        "does not name the file: {e}"
    );
    e
}

/// Loads a file that must load, with its warnings checked to be one line each.
fn load_ok(path: &Path) -> (Vec<NamedMesh>, MeshReport) {
    let (meshes, report) = load_meshes(path).unwrap();
    for w in &report.warnings {
        assert!(!w.contains('\n'), "not one line: {w}");
        assert!(
            w.contains(&path.display().to_string()),
            "does not name the file: {w}"
        );
    }
    (meshes, report)
}

fn write(path: PathBuf, bytes: impl AsRef<[u8]>) -> PathBuf {
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn test_shapes_are_closed_and_outward() {
    let c = cube([0.0; 3], 2.0);
    assert_eq!(c.signed_volume(), 8.0);
    let s = icosphere([0.0; 3], 1.0, 3);
    let v = s.signed_volume();
    assert!(v > 0.95 * 4.0 / 3.0 * std::f64::consts::PI && v < 4.0 / 3.0 * std::f64::consts::PI);
    assert!(boundary_loops(&s).is_empty());
}

#[test]
fn round_trips_keep_volume() {
    let d = dir("round_trips");
    let shapes = [
        named("cube", cube([0.1, -2.3, 7.7], 10.3)),
        named("sphere", icosphere([1.0 / 3.0, 0.7, -5.1], 25.0, 3)),
    ];
    for s in &shapes {
        let v0 = s.mesh.signed_volume();

        let obj = d.join(format!("{}.obj", s.name));
        write_obj(&obj, std::slice::from_ref(s)).unwrap();
        let (m, report) = load_ok(&obj);
        assert_eq!(report.warnings, Vec::<String>::new());
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].name, s.name);
        assert_eq!(m[0].mesh.triangles.len(), s.mesh.triangles.len());
        assert_eq!(m[0].mesh.vertices.len(), s.mesh.vertices.len());
        assert_eq!(m[0].mesh.signed_volume(), v0, "OBJ keeps f64 exactly");

        for binary in [true, false] {
            let stl = d.join(format!("{}-{binary}.STL", s.name));
            write_stl(&stl, s, binary).unwrap();
            let (m, report) = load_ok(&stl);
            assert_eq!(report.warnings, Vec::<String>::new());
            assert_eq!(m.len(), 1);
            let want = if binary {
                format!("{}-{binary}", s.name)
            } else {
                s.name.clone()
            };
            assert_eq!(
                m[0].name, want,
                "ASCII keeps the solid name, binary the stem"
            );
            assert_eq!(m[0].mesh.triangles.len(), s.mesh.triangles.len());
            assert_eq!(m[0].mesh.vertices.len(), s.mesh.vertices.len());
            let v = m[0].mesh.signed_volume();
            assert!(
                ((v - v0) / v0).abs() < 1e-6,
                "STL (binary {binary}) volume {v} vs {v0}"
            );
        }
    }
    // Nothing but the written files: the temporary files were renamed.
    let mut names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cube-false.STL",
            "cube-true.STL",
            "cube.obj",
            "sphere-false.STL",
            "sphere-true.STL",
            "sphere.obj"
        ]
    );
}

#[test]
fn obj_keeps_object_names() {
    let d = dir("names");
    let path = d.join("heart.obj");
    let lv = named("lv_cavity", cube([0.0; 3], 1.0));
    let myo = named("myocardium", icosphere([0.0; 3], 3.0, 1));
    write_obj(&path, &[myo.clone(), lv.clone()]).unwrap();
    let (m, report) = load_ok(&path);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["myocardium", "lv_cavity"]);
    assert_eq!(m[0].mesh.signed_volume(), myo.mesh.signed_volume());
    assert_eq!(m[1].mesh.signed_volume(), lv.mesh.signed_volume());
}

#[test]
fn obj_quads_with_normals_become_one_closed_surface() {
    let d = dir("quads");
    // Per-face normals split each corner three ways; merging must join them again. Faces
    // before any `o` take the file stem; `g` starts an object too.
    let text = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nv 0 0 1\nv 1 0 1\nv 0 1 1\nv 1 1 1\n\
                vn 0 0 -1\nvn 0 0 1\nvn 0 -1 0\nvn 0 1 0\nvn -1 0 0\nvn 1 0 0\n\
                f 1//1 3//1 4//1 2//1\nf 5//2 6//2 8//2 7//2\nf 1//3 2//3 6//3 5//3\n\
                f 3//4 7//4 8//4 4//4\nf 1//5 5//5 7//5 3//5\nf 2//6 4//6 8//6 6//6\n\
                g tri\nf 1 2 3\n";
    let path = write(d.join("box.obj"), text);
    let (m, report) = load_ok(&path);
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].name, "box");
    assert_eq!(m[0].mesh.vertices.len(), 8);
    assert_eq!(m[0].mesh.triangles.len(), 12);
    assert_eq!(m[0].mesh.signed_volume(), 1.0);
    assert_eq!(m[1].name, "tri");
    // Only the lone triangle is open.
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("object 'tri': open: 3 boundary edges in 1 loop"));
}

#[test]
fn ascii_stl_names_and_several_solids() {
    let d = dir("ascii");
    let facet = |a: &str, b: &str, c: &str| {
        format!("facet normal 0 0 1\n outer loop\n  vertex {a}\n  vertex {b}\n  vertex {c}\n endloop\nendfacet\n")
    };
    let f = facet("0 0 0", "1 0 0", "0 1 0");
    let text = format!("solid first part\n{f}endsolid first part\nsolid\n{f}{f}endsolid\n");
    let path = write(d.join("parts.stl"), text);
    let (m, report) = load_ok(&path);
    let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["first part", "parts"]);
    // The repeated facet of the second solid shares all its edges twice in one direction.
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("object 'parts'") && w.contains("inconsistent orientation")));
}

#[test]
fn empty_files_are_errors() {
    let d = dir("empty");
    for name in ["empty.obj", "empty.stl"] {
        let e = load_error(&write(d.join(name), ""));
        assert!(e.contains("empty file"), "{e}");
    }
    // Text without faces.
    let e = load_error(&write(d.join("nofaces.obj"), "# nothing\nv 0 0 0\n"));
    assert!(e.contains("no faces"), "{e}");
    let e = load_error(&write(d.join("nofacets.stl"), "solid x\nendsolid x\n"));
    assert!(e.contains("no triangles"), "{e}");
}

#[test]
fn non_finite_coordinates_are_errors() {
    let d = dir("nan");
    let e = load_error(&write(
        d.join("nan.obj"),
        "v 0 0 0\nv 1 0 0\nv 0 nan 0\nf 1 2 3\n",
    ));
    assert!(
        e.contains("line 3") && e.contains("vertex 3") && e.contains("non-finite"),
        "{e}"
    );

    // Binary STL with an infinite coordinate.
    let path = d.join("inf.stl");
    write_stl(&path, &named("c", cube([0.0; 3], 1.0)), true).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let o = 84 + 50 * 5 + 12 + 12 + 4;
    bytes[o..o + 4].copy_from_slice(&f32::INFINITY.to_le_bytes());
    let e = load_error(&write(path.clone(), bytes));
    assert!(
        e.contains("triangle 5") && e.contains("corner 1") && e.contains("non-finite"),
        "{e}"
    );

    // ASCII STL: stl_io refuses it while parsing.
    let e = load_error(&write(
        d.join("nan.stl"),
        "solid s\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex NaN 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid s\n",
    ));
    assert!(
        e.contains("invalid ASCII STL") && e.contains("finite"),
        "{e}"
    );
}

#[test]
fn degenerate_triangles_are_removed_or_an_error() {
    let d = dir("degenerate");
    let e = load_error(&write(
        d.join("flat.obj"),
        "o line\nv 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\nf 1 1 2\n",
    ));
    assert!(
        e.contains("object 'line'") && e.contains("all 2 triangles are degenerate"),
        "{e}"
    );

    // A cube plus one zero-area sliver and one triangle with a repeated vertex.
    let mut c = cube([0.0; 3], 1.0);
    c.vertices.push([0.5, 0.0, 0.0]);
    c.triangles.push([0, 1, 8]);
    c.triangles.push([2, 2, 3]);
    let path = d.join("slivers.obj");
    write_obj(&path, &[named("cube", c)]).unwrap();
    let (m, report) = load_ok(&path);
    assert_eq!(m[0].mesh.triangles.len(), 12);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("removed 2 degenerate triangles of 14"),
        "{:?}",
        report.warnings
    );
}

#[test]
fn open_cube_is_a_warning_with_its_boundary_loop() {
    let d = dir("open");
    let mut c = cube([0.0; 3], 1.0);
    c.triangles.drain(0..2); // the z = 0 face: vertices 0, 1, 2, 3
    let path = d.join("open.stl");
    write_stl(&path, &named("cup", c), false).unwrap();
    let (m, report) = load_ok(&path);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("object 'cup': open: 4 boundary edges in 1 loop"),
        "{:?}",
        report.warnings
    );
    let loops = boundary_loops(&m[0].mesh);
    assert_eq!(loops.len(), 1);
    assert_eq!(loops[0].len(), 4);
    let mut zs: Vec<f64> = loops[0]
        .iter()
        .map(|&v| m[0].mesh.vertices[v as usize][2])
        .collect();
    zs.dedup();
    assert_eq!(zs, [0.0], "the loop runs round the missing bottom face");
    // Capping the loop as documented closes the cube with positive volume.
    let mut closed = m[0].mesh.clone();
    let l = &loops[0];
    for i in 1..l.len() - 1 {
        closed.triangles.push([l[0], l[i + 1], l[i]]);
    }
    assert!(boundary_loops(&closed).is_empty());
    assert_eq!(closed.signed_volume(), 1.0);
}

#[test]
fn inside_out_cube_is_flipped() {
    let d = dir("inside_out");
    let mut c = cube([0.0; 3], 2.0);
    c.triangles.iter_mut().for_each(|t| t.swap(0, 1));
    assert_eq!(c.signed_volume(), -8.0);
    let path = d.join("inv.obj");
    write_obj(&path, &[named("inv", c)]).unwrap();
    let (m, report) = load_ok(&path);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("object 'inv': inside-out: flipped"),
        "{:?}",
        report.warnings
    );
    assert_eq!(m[0].mesh.signed_volume(), 8.0);
}

#[test]
fn inconsistent_winding_is_a_warning_and_not_flipped() {
    let d = dir("winding");
    let mut c = cube([0.0; 3], 1.0);
    c.triangles[3].swap(0, 1);
    let path = d.join("w.obj");
    write_obj(&path, &[named("w", c.clone())]).unwrap();
    let (m, report) = load_ok(&path);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("inconsistent orientation: 3 edges"),
        "{:?}",
        report.warnings
    );
    // Left as it was (indices are renumbered on import, positions are not).
    assert_eq!(corners(&m[0].mesh), corners(&c));
}

/// Each triangle's corner positions.
fn corners(m: &TriMesh) -> Vec<[[f64; 3]; 3]> {
    m.triangles
        .iter()
        .map(|t| t.map(|v| m.vertices[v as usize]))
        .collect()
}

#[test]
fn wrong_extension_missing_file_and_garbage() {
    let d = dir("bad_files");
    let e = load_error(&write(d.join("heart.ply"), "ply\n"));
    assert!(
        e.contains("'.ply'") && e.contains("expected .obj or .stl"),
        "{e}"
    );
    let e = load_error(&write(d.join("heart"), "v 0 0 0\n"));
    assert!(e.contains("no file extension"), "{e}");

    let e = load_error(&d.join("missing.obj"));
    assert!(e.contains("cannot read"), "{e}");

    // Pseudo-random bytes (with NUL bytes, not starting with "solid").
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let garbage: Vec<u8> = (0..1000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect();
    let e = load_error(&write(d.join("garbage.stl"), &garbage));
    assert!(e.contains("not a valid binary STL"), "{e}");
    let e = load_error(&write(d.join("short.stl"), &garbage[..50]));
    assert!(e.contains("too short"), "{e}");
    // Text that starts like ASCII STL but is not.
    let e = load_error(&write(d.join("text.stl"), "solid x\nhello\n"));
    assert!(e.contains("invalid ASCII STL"), "{e}");
    // Garbage with an .obj extension: an OBJ parser skips unknown lines, so no faces.
    let e = load_error(&write(d.join("garbage.obj"), "hello world\nf 1 2 x\n"));
    assert!(e.contains("invalid OBJ") && e.contains("line 2"), "{e}");
    let e = load_error(&write(d.join("range.obj"), "v 0 0 0\nv 1 0 0\nf 1 2 3\n"));
    assert!(
        e.contains("out of bounds") && e.contains("line 3 'f 1 2 3'"),
        "{e}"
    );
    let e = load_error(&write(d.join("binary.obj"), &garbage));
    assert!(e.contains("not UTF-8"), "{e}");
}

#[test]
fn size_checks() {
    let big = cube([0.0; 3], 200.0);
    let e = check_size("big.stl", &big, 0.1, 100_000_000)
        .unwrap_err()
        .to_string();
    assert!(!e.contains('\n'));
    assert!(e.starts_with("big.stl: "), "{e}");
    assert!(e.contains("200 × 200 × 200 mm"), "{e}");
    assert!(e.contains("2000 × 2000 × 2000 = 8000000000 voxels"), "{e}");
    assert!(e.contains("at least 0.44 mm"), "{e}");
    check_size("big.stl", &big, 0.44, 100_000_000).unwrap();
    assert!(check_size("big.stl", &big, 0.43, 100_000_000).is_err());

    // A heart in metres read as mm.
    let tiny = cube([0.0; 3], 0.08);
    let e = check_size("m.obj", &tiny, 0.5, 100_000_000)
        .unwrap_err()
        .to_string();
    assert!(e.contains("smaller than one 0.5 mm voxel"), "{e}");
    assert!(!e.contains('\n'));

    // Flat meshes count one voxel across.
    let mut flat = cube([0.0; 3], 100.0);
    flat.vertices.iter_mut().for_each(|v| v[2] = 0.0);
    check_size("flat.obj", &flat, 0.1, 1_000_000).unwrap();
    assert!(check_size("flat.obj", &flat, 0.1, 999_999).is_err());
    assert!(check_size("x.obj", &flat, 0.0, 10).is_err());
}

#[test]
fn write_errors_name_the_file() {
    let d = dir("write_errors");
    let c = named("c", cube([0.0; 3], 1.0));
    let path = d.join("no_such_folder").join("c.obj");
    let e = write_obj(&path, std::slice::from_ref(&c))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&path.display().to_string()) && !e.contains('\n'),
        "{e}"
    );
    let mut nan = c.clone();
    nan.mesh.vertices[2][1] = f64::NAN;
    let e = write_stl(&d.join("nan.stl"), &nan, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("vertex 2"), "{e}");
    let mut huge = c;
    huge.mesh.vertices[0][0] = 1e300;
    assert!(write_stl(&d.join("huge.stl"), &huge, false).is_err());
    write_obj(&d.join("huge.obj"), &[huge]).unwrap();
}
