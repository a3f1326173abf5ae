//! `[geometry]`, `[grid]` and `[[infarct]]`: the heart (default, scaled or a mesh) and its infarcts.

use super::read::*;
use super::*;

impl Doc<'_> {
    pub(super) fn geometry(&self, g: &Tbl<'_>, base_dir: &Path) -> Result<(GeometrySpec, bool)> {
        let kinds = "default_heart, mesh, box";
        let kind = g
            .string("kind", &format!("a geometry kind: {kinds}"))?
            .unwrap_or("default_heart");
        let no_infarct = g.boolean("no_infarct")?.unwrap_or(false);
        let spec = match kind {
            "default_heart" => {
                g.allow(
                    &["kind", "no_infarct", "heart"],
                    "[geometry] with kind = \"default_heart\"",
                )?;
                let h = g.table("heart")?;
                h.allow(&HEART_FIELDS, "[geometry.heart]")?;
                let mut params = HeartParams::default();
                for f in HEART_FIELDS {
                    if let Some(v) = h.quantity(f, LENGTH)? {
                        h.ensure(
                            v >= 0.0,
                            f,
                            &format!("a length ≥ 0, got {}", shown(v, "mm")),
                        )?;
                        if let Some(slot) = heart_field(&mut params, f) {
                            *slot = v;
                        }
                    }
                }
                if let Err(e) = params.validate() {
                    let msg = e.to_string();
                    let msg = msg.strip_prefix("geometry: ").unwrap_or(&msg);
                    return Err(self.err(
                        h.span.clone(),
                        &h.path,
                        &format!("dimensions that make a heart ({msg})"),
                    ));
                }
                GeometrySpec::DefaultHeart { params }
            }
            "mesh" => {
                g.allow(
                    &[
                        "kind",
                        "no_infarct",
                        "path",
                        "base_point",
                        "base_normal",
                        "lv_point",
                        "anterior_insertion",
                    ],
                    "[geometry] with kind = \"mesh\"",
                )?;
                let expected =
                    "the path of a mesh file (.obj or .stl, mm), relative to the scenario file";
                let rel = g
                    .string("path", expected)?
                    .ok_or_else(|| g.err("path", expected))?;
                let path = base_dir.join(rel);
                let ext = path
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase())
                    .unwrap_or_default();
                g.ensure(
                    ext == "obj" || ext == "stl",
                    "path",
                    &format!("a .obj or .stl mesh file, got `{rel}`"),
                )?;
                g.ensure(
                    path.is_file(),
                    "path",
                    &format!("an existing mesh file; `{}` was not found", path.display()),
                )?;
                let hints = MeshHints {
                    base_point: g.point("base_point")?,
                    base_normal: g.point("base_normal")?,
                    lv_point: g.point("lv_point")?,
                    anterior_insertion: g.point("anterior_insertion")?,
                };
                match (hints.base_point.is_some(), hints.base_normal) {
                    (true, None) => {
                        return Err(g.err(
                            "base_point",
                            "base_point together with base_normal (the base plane needs both)",
                        ))
                    }
                    (false, Some(_)) => {
                        return Err(g.err(
                            "base_normal",
                            "base_normal together with base_point (the base plane needs both)",
                        ))
                    }
                    (_, Some(n)) => g.ensure(
                        n.iter().map(|c| c * c).sum::<f64>() > 0.0,
                        "base_normal",
                        "a non-zero normal",
                    )?,
                    _ => {}
                }
                GeometrySpec::Mesh { path, hints }
            }
            "box" => {
                g.allow(
                    &["kind", "no_infarct", "size", "blood_pool"],
                    "[geometry] with kind = \"box\"",
                )?;
                let size_mm = g.point("size")?.ok_or_else(|| {
                    g.err("size", "the box size [x, y, z] in mm, such as [20, 20, 20]")
                })?;
                g.ensure(
                    size_mm.iter().all(|&s| s > 0.0),
                    "size",
                    &format!("a box size with every side > 0 mm, got {size_mm:?}"),
                )?;
                let blood_pool = g.boolean("blood_pool")?.unwrap_or(false);
                GeometrySpec::Box {
                    size_mm,
                    blood_pool,
                }
            }
            other => {
                return Err(g.err(
                    "kind",
                    &format!("a geometry kind: {kinds}; got \"{other}\""),
                ))
            }
        };
        Ok((spec, no_infarct))
    }

    pub(super) fn infarct(&self, t: &Tbl<'_>) -> Result<InfarctSpec> {
        t.allow(
            &["segments", "territory", "transmural", "border_zone"],
            "[[infarct]]",
        )?;
        let segments = match (t.segments("segments")?, self.territory(t, "territory")?) {
            (Some(_), Some(_)) => {
                return Err(t.err("territory", "either segments or territory, not both"))
            }
            (Some(s), None) => s,
            (None, Some(terr)) => terr.segments().to_vec(),
            (None, None) => {
                return Err(t.err(
                    "segments",
                    "segments = [..] (AHA 1–17) or territory = \"LAD\" | \"RCA\" | \"LCx\"",
                ))
            }
        };
        let transmural = t.fraction("transmural", true)?.unwrap_or(0.7);
        let border_zone_mm = t.quantity("border_zone", LENGTH)?.unwrap_or(4.0);
        t.ensure(
            border_zone_mm >= 0.0,
            "border_zone",
            &format!(
                "a border-zone width ≥ 0 mm, got {}",
                shown(border_zone_mm, "mm")
            ),
        )?;
        Ok(InfarctSpec {
            segments,
            transmural,
            border_zone_mm,
        })
    }

    pub(super) fn territory(&self, t: &Tbl<'_>, k: &str) -> Result<Option<Territory>> {
        let expected = "a coronary territory: LAD, RCA, LCx";
        match t.string(k, expected)? {
            None => Ok(None),
            Some(s) => Territory::from_name(s)
                .map(Some)
                .ok_or_else(|| t.err(k, &format!("{expected}; got \"{s}\""))),
        }
    }
}
