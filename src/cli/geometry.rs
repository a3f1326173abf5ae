//! `secretome geometry`: build and label a heart, print its volumes, segments and walls, and
//! optionally write a `.vti` for ParaView or the default heart's surface mesh.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use secretome::geometry::{
    label_heart, stats::HeartStats, AnatomyHints, BasePlane, HeartAnatomy, HeartParams,
    InfarctSpec, NamedMesh, Territory,
};

#[derive(Args, Debug, Default)]
pub struct GeometryArgs {
    /// A closed surface mesh (OBJ or STL, mm) of the myocardium, optionally with `lv_cavity`
    /// and `rv_cavity` objects. Without it: the default procedural heart.
    pub mesh: Option<PathBuf>,
    /// Voxel edge, mm.
    #[arg(long, default_value_t = 1.0)]
    pub voxel: f64,
    /// Infarct: `default` (LAD occlusion, segments 7, 8, 13, 14, 17), `none`, a territory
    /// (`LAD`, `RCA`, `LCx`) or AHA segments (`7,8,13`). Repeat for several infarcts.
    #[arg(long, value_name = "WHERE")]
    pub infarct: Vec<String>,
    /// Transmural extent of the infarcts given by --infarct, fraction of the wall from the
    /// endocardium.
    #[arg(long, default_value_t = 0.7)]
    pub transmural: f64,
    /// Border-zone width around the infarct cores, mm.
    #[arg(long, default_value_t = 4.0)]
    pub border_zone: f64,
    /// A point on the base plane, mm (`x,y,z`); estimated from the mesh when absent.
    #[arg(long, value_delimiter = ',', value_name = "X,Y,Z")]
    pub base_point: Option<Vec<f64>>,
    /// The base plane's normal, pointing from apex to base (`x,y,z`).
    #[arg(long, value_delimiter = ',', value_name = "X,Y,Z")]
    pub base_normal: Option<Vec<f64>>,
    /// A point inside the LV cavity, mm (`x,y,z`), when LV and RV are told apart wrongly.
    #[arg(long, value_delimiter = ',', value_name = "X,Y,Z")]
    pub lv_point: Option<Vec<f64>>,
    /// The anterior RV insertion point, mm (`x,y,z`): where AHA sectors are counted from;
    /// estimated from the RV cavity when absent.
    #[arg(long, value_delimiter = ',', value_name = "X,Y,Z")]
    pub anterior_insertion: Option<Vec<f64>>,
    /// Write `heart.vti` (label, aha_segment, depth) into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write the default heart's surfaces (myocardium, lv_cavity, rv_cavity) to this OBJ or
    /// STL file; `assets/heart.obj` is made this way.
    #[arg(long, value_name = "FILE")]
    pub export_mesh: Option<PathBuf>,
    /// Lattice step of the default heart's surface mesh, mm.
    #[arg(long, default_value_t = HeartParams::MESH_STEP)]
    pub mesh_step: f64,
}

fn point(v: &Option<Vec<f64>>, what: &str) -> Result<Option<[f64; 3]>> {
    match v {
        None => Ok(None),
        Some(v) if v.len() == 3 && v.iter().all(|x| x.is_finite()) => Ok(Some([v[0], v[1], v[2]])),
        Some(v) => bail!("--{what} {v:?}: expected three finite numbers x,y,z in mm"),
    }
}

/// Infarcts from the command line (`default` when none is given).
pub fn parse_infarcts(list: &[String], transmural: f64, bz: f64) -> Result<Vec<InfarctSpec>> {
    let default = ["default".to_string()];
    let list = if list.is_empty() { &default[..] } else { list };
    let mut out = Vec::new();
    for item in list {
        let s = item.trim();
        if s.eq_ignore_ascii_case("none") {
            continue;
        }
        let spec = if s.eq_ignore_ascii_case("default") {
            InfarctSpec {
                transmural,
                border_zone_mm: bz,
                ..InfarctSpec::default_lad()
            }
        } else if let Some(t) = Territory::from_name(s) {
            InfarctSpec::territory(t, transmural, bz)
        } else {
            let segments = s
                .split(',')
                .map(|p| p.trim().parse::<u8>())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--infarct {s}: expected default, none, LAD, RCA, LCx or AHA segments like 7,8,13"
                    )
                })?;
            InfarctSpec {
                segments,
                transmural,
                border_zone_mm: bz,
            }
        };
        spec.validate().with_context(|| format!("--infarct {s}"))?;
        out.push(spec);
    }
    Ok(out)
}

/// Loads the meshes and labels the heart as the arguments say.
pub fn build(a: &GeometryArgs) -> Result<(HeartAnatomy, Vec<String>)> {
    let infarcts = parse_infarcts(&a.infarct, a.transmural, a.border_zone)?;
    let mut notes = Vec::new();
    let (meshes, mut hints): (Vec<NamedMesh>, AnatomyHints) = match &a.mesh {
        None => {
            let p = HeartParams::default();
            let meshes = p.meshes(a.mesh_step)?;
            let hints = p.hints();
            (meshes, hints)
        }
        Some(path) => {
            let (meshes, report) = secretome::geometry::mesh::load_meshes(path)?;
            notes.extend(report.warnings);
            (meshes, AnatomyHints::default())
        }
    };
    match (
        point(&a.base_point, "base-point")?,
        point(&a.base_normal, "base-normal")?,
    ) {
        (Some(p), Some(n)) => {
            hints.base_plane = Some(BasePlane {
                point: p,
                normal: n,
            })
        }
        (None, None) => {}
        _ => bail!("--base-point and --base-normal: expected both or neither"),
    }
    hints.lv_point = point(&a.lv_point, "lv-point")?;
    hints.anterior_insertion = point(&a.anterior_insertion, "anterior-insertion")?;
    let anatomy = label_heart(&meshes, a.voxel, &hints, &infarcts)?;
    Ok((anatomy, notes))
}

pub fn geometry(a: &GeometryArgs) -> Result<()> {
    if let Some(path) = &a.export_mesh {
        let meshes = HeartParams::default().meshes(a.mesh_step)?;
        let written = write_meshes(path, &meshes)?;
        let tris: usize = written.iter().map(|m| m.mesh.triangles.len()).sum();
        let names: Vec<&str> = written.iter().map(|m| m.name.as_str()).collect();
        println!(
            "wrote {} ({}; {tris} triangles, lattice step {} mm)",
            path.display(),
            names.join(", "),
            a.mesh_step
        );
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    let (anatomy, notes) = build(a)?;
    let elapsed = t0.elapsed().as_secs_f64();
    for w in notes.iter().chain(&anatomy.warnings) {
        println!("note: {w}");
    }
    print_report(&anatomy, elapsed);
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the output directory {}", dir.display()))?;
        let path = dir.join("heart.vti");
        write_vti(&path, &anatomy)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Writes the surfaces (all of them to OBJ; the myocardium alone to STL, which holds one
/// surface) and returns those written.
fn write_meshes<'a>(path: &std::path::Path, meshes: &'a [NamedMesh]) -> Result<Vec<&'a NamedMesh>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("obj") => {
            secretome::geometry::mesh::write_obj(path, meshes)?;
            Ok(meshes.iter().collect())
        }
        Some("stl") => {
            let myo = meshes
                .iter()
                .find(|m| m.name == "myocardium")
                .context("no myocardium surface")?;
            secretome::geometry::mesh::write_stl(path, myo, true)?;
            Ok(vec![myo])
        }
        _ => bail!(
            "--export-mesh {}: expected a file name ending in .obj or .stl",
            path.display()
        ),
    }
}

fn write_vti(path: &std::path::Path, a: &HeartAnatomy) -> Result<()> {
    use secretome::output::vti::{write_vti, VtiArray, VtiData};
    let labels: Vec<u8> = a.grid.labels.iter().map(|&l| l as u8).collect();
    write_vti(
        path,
        a.grid.dims,
        a.grid.origin,
        a.grid.spacing,
        &[
            VtiArray {
                name: "label",
                data: VtiData::U8(&labels),
            },
            VtiArray {
                name: "aha_segment",
                data: VtiData::U8(&a.aha_segment),
            },
            VtiArray {
                name: "depth",
                data: VtiData::F32(&a.depth),
            },
        ],
        true,
    )?;
    Ok(())
}

fn print_report(a: &HeartAnatomy, seconds: f64) {
    let s = HeartStats::of(a);
    let g = &a.grid;
    println!(
        "grid: {} × {} × {} voxels of {} mm, origin ({:.1}, {:.1}, {:.1}) mm; labelled in {:.2} s",
        g.dims[0], g.dims[1], g.dims[2], g.spacing, g.origin[0], g.origin[1], g.origin[2], seconds
    );
    let f = &a.frame;
    println!(
        "frame: base centre ({:.1}, {:.1}, {:.1}) mm, long axis ({:.3}, {:.3}, {:.3}), apex ({:.1}, {:.1}, {:.1}) mm, septum ({:.3}, {:.3}, {:.3})",
        f.base_centre[0], f.base_centre[1], f.base_centre[2],
        f.long_axis[0], f.long_axis[1], f.long_axis[2],
        f.apex[0], f.apex[1], f.apex[2],
        f.septum[0], f.septum[1], f.septum[2]
    );
    if let Some(p) = f.anterior_insertion {
        println!(
            "anterior RV insertion: ({:.1}, {:.1}, {:.1}) mm",
            p[0], p[1], p[2]
        );
    }
    println!();
    println!("{:<28} {:>10}", "volume", "mL");
    for (name, ml) in &s.label_ml {
        if name != "outside" {
            println!("{name:<28} {ml:>10.1}");
        }
    }
    println!(
        "{:<28} {:>10.1}   (target 120–180)",
        "LV cavity", s.lv_cavity_ml
    );
    println!(
        "{:<28} {:>10.1}   (target 100–160)",
        "LV myocardium", s.lv_myocardium_ml
    );
    println!(
        "{:<28} {:>10.1}   (target 130–200)",
        "RV cavity", s.rv_cavity_ml
    );
    println!("{:<28} {:>10.1}", "RV free wall", s.rv_wall_ml);
    println!();
    println!(
        "{:<28} {:>7} {:>7} {:>7}",
        "wall thickness, mm", "p10", "median", "p90"
    );
    let row = |name: &str, w: &secretome::geometry::stats::Spread, target: &str| {
        println!(
            "{name:<28} {:>7.1} {:>7.1} {:>7.1}   {target}",
            w.p10, w.median, w.p90
        )
    };
    row("LV, basal and mid", &s.lv_wall, "(target 8–11)");
    for (k, name) in ["LV basal", "LV mid", "LV apical"].iter().enumerate() {
        row(name, &s.lv_wall_by_level[k], "");
    }
    row("RV free wall", &s.rv_wall, "(target 3–5)");
    println!(
        "{:<28} {:>7.1}   (target 80–100)",
        "base–apex length, mm", s.base_apex_mm
    );
    println!();
    const NAMES: [&str; 17] = [
        "basal anterior",
        "basal anteroseptal",
        "basal inferoseptal",
        "basal inferior",
        "basal inferolateral",
        "basal anterolateral",
        "mid anterior",
        "mid anteroseptal",
        "mid inferoseptal",
        "mid inferior",
        "mid inferolateral",
        "mid anterolateral",
        "apical anterior",
        "apical septal",
        "apical inferior",
        "apical lateral",
        "apex",
    ];
    let total: f64 = s.segment_ml.iter().sum();
    println!(
        "{:<4} {:<22} {:>8} {:>9}",
        "AHA", "segment", "mL", "% of LV"
    );
    for (k, ml) in s.segment_ml.iter().enumerate() {
        println!(
            "{:<4} {:<22} {:>8.1} {:>8.1} %",
            k + 1,
            NAMES[k],
            ml,
            100.0 * ml / total.max(1e-30)
        );
    }
    for t in [Territory::Lad, Territory::Rca, Territory::Lcx] {
        println!(
            "{} territory: {:.1} % of LV myocardium",
            t.name(),
            100.0 * s.share_of_segments(t.segments())
        );
    }
    println!(
        "infarct: {:.1} % of LV myocardium, border zone {:.1} %",
        100.0 * s.infarct_share,
        100.0 * s.border_zone_share
    );
}
