//! `[[depot]]`: each injection's route, site, cells, shape and start.

use super::read::*;
use super::*;

impl Doc<'_> {
    pub(super) fn site(&self, t: &Tbl<'_>, k: &str) -> Result<Option<Site>> {
        let Some(v) = t.get(k) else {
            return Ok(None);
        };
        let key = t.key(k);
        let expected = "a site: [x, y, z] in mm, { segment = 1–17, depth = 0–1 }, \"border_zone\" or \"remote\"";
        match v.get_ref() {
            DeValue::Array(_) => Ok(Some(Site::Point(read_point(self, v, &key)?))),
            DeValue::String(s) => match s.as_ref() {
                "border_zone" => Ok(Some(Site::BorderZone)),
                "remote" => Ok(Some(Site::Remote)),
                other => Err(t.err(k, &format!("{expected}; got \"{other}\""))),
            },
            DeValue::Table(inner) => {
                let st = Tbl {
                    doc: self,
                    path: key,
                    span: Some(v.span()),
                    map: Some(inner),
                };
                st.allow(&["segment", "depth"], "a segment site")?;
                let Some(sv) = st.get("segment") else {
                    return Err(st.err("segment", "segment = an AHA segment 1–17"));
                };
                let segment = read_segment(self, sv, &st.key("segment"))?;
                let depth = st.quantity("depth", FRACTION)?.unwrap_or(0.5);
                st.ensure(
                    (0.0..=1.0).contains(&depth),
                    "depth",
                    &format!(
                        "a transmural depth 0 (endocardium) ≤ d ≤ 1 (epicardium), got {depth}"
                    ),
                )?;
                Ok(Some(Site::Segment { segment, depth }))
            }
            other => Err(t.err(k, &format!("{expected}, got {}", article(other)))),
        }
    }

    /// Checks that a site exists in this geometry (the point itself is checked by the caller).
    pub(super) fn check_site(
        &self,
        t: &Tbl<'_>,
        site: &Site,
        infarcts: &[InfarctSpec],
        is_box: bool,
    ) -> Result<()> {
        if is_box && !matches!(site, Site::Point(_)) {
            return Err(t.err(
                "site",
                "a point [x, y, z] in mm: a box geometry has no segments, border zone or remote myocardium",
            ));
        }
        if matches!(site, Site::BorderZone) && infarcts.is_empty() {
            return Err(t.err(
                "site",
                "a site that exists: with no infarct there is no border zone",
            ));
        }
        Ok(())
    }

    pub(super) fn depot(
        &self,
        t: &Tbl<'_>,
        index: usize,
        infarcts: &[InfarctSpec],
        is_box: bool,
        duration_s: f64,
    ) -> Result<DepotSpec> {
        let routes = ROUTE_NAMES.join(", ");
        let route_name = t
            .string("route", &format!("a route: {routes}"))?
            .ok_or_else(|| t.err("route", &format!("route = one of {routes}")))?;
        if !ROUTE_NAMES.contains(&route_name) {
            return Err(t.err("route", &format!("a route: {routes}; got \"{route_name}\"")));
        }
        let mut keys: Vec<&str> = DEPOT_KEYS.to_vec();
        keys.extend_from_slice(route_keys(route_name));
        match route_name {
            "intravenous" => keys.retain(|k| *k != "retained"),
            "bolus" => keys.retain(|k| *k != "cells"),
            _ => {}
        }
        t.allow(&keys, &format!("[[depot]] with route = \"{route_name}\""))?;

        let name = match t.string("name", "a name string")? {
            Some(n) => {
                t.ensure(!n.trim().is_empty(), "name", "a non-empty name")?;
                n.to_string()
            }
            None => format!("depot {}", index + 1),
        };

        let cells = if route_name == "bolus" {
            0.0
        } else {
            let c = t.quantity("cells", CELLS)?.ok_or_else(|| {
                t.err("cells", "cells = the delivered cell count, such as \"2e7\"")
            })?;
            t.ensure(
                c > 0.0 && c <= 1e12,
                "cells",
                &format!(
                    "a positive cell count such as \"2e7\" (at most 1e12), got {}",
                    shown(c, "cells")
                ),
            )?;
            c
        };
        let shape = match t.string("shape", "a shape: sphere, gaussian")? {
            None | Some("sphere") => DepotShape::Sphere,
            Some("gaussian") => DepotShape::Gaussian,
            Some(other) => {
                return Err(t.err(
                    "shape",
                    &format!("a shape: sphere, gaussian; got \"{other}\""),
                ))
            }
        };
        let radius_mm = t.quantity("radius", LENGTH)?.unwrap_or(2.0);
        t.ensure(
            radius_mm > 0.0,
            "radius",
            &format!("a positive radius, got {}", shown(radius_mm, "mm")),
        )?;
        let start_s = t.quantity("start", HOURS)?.unwrap_or(0.0);
        t.ensure(
            start_s >= 0.0 && start_s < duration_s,
            "start",
            &format!(
                "a start time 0 ≤ t < the duration ({}), got {}",
                shown(duration_s, "s"),
                shown(start_s, "s")
            ),
        )?;
        let secretion_scale = t.quantity("secretion_scale", NUMBER)?.unwrap_or(1.0);
        t.ensure(
            secretion_scale >= 0.0,
            "secretion_scale",
            &format!("a factor ≥ 0, got {secretion_scale}"),
        )?;

        let mut site_key = "site";
        let (route, default_retained) = match route_name {
            "intramyocardial" => {
                let site = self.site(t, "site")?.unwrap_or(Site::BorderZone);
                self.check_site(t, &site, infarcts, is_box)?;
                let track_to = t.point("track_to")?;
                let n = t.integer("track_depots", "a number of depots 1–100")?;
                let track_depots = match (track_to, n) {
                    (None, None) => 1,
                    (Some(_), None) => 5,
                    (None, Some(n)) => {
                        t.ensure(
                            n == 1,
                            "track_depots",
                            "track_to = [x, y, z] as well (a track needs an end point), or track_depots = 1",
                        )?;
                        1
                    }
                    (Some(_), Some(n)) => {
                        t.ensure(
                            (2..=100).contains(&n),
                            "track_depots",
                            &format!("2–100 depots along the track, got {n}"),
                        )?;
                        n as u32
                    }
                };
                (
                    Route::Intramyocardial {
                        site,
                        track_to,
                        track_depots,
                    },
                    0.15,
                )
            }
            "transendocardial" => {
                site_key = "segments";
                if is_box {
                    return Err(t.err(
                        "route",
                        "a route that works on a box (intramyocardial or bolus at a point, intravenous, intramuscular, subcutaneous): transendocardial needs the LV endocardium",
                    ));
                }
                let injections = t
                    .integer("injections", "a number of injections 1–100")?
                    .unwrap_or(10);
                t.ensure(
                    (1..=100).contains(&injections),
                    "injections",
                    &format!("a number of injections 1–100, got {injections}"),
                )?;
                let segments = match t.segments("segments")? {
                    Some(s) => s,
                    None => {
                        let mut s: Vec<u8> = infarcts
                            .iter()
                            .flat_map(|i| i.segments.iter().copied())
                            .filter(|&s| s != 17)
                            .collect();
                        s.sort_unstable();
                        s.dedup();
                        if s.is_empty() {
                            vec![7, 8, 13, 14]
                        } else {
                            s
                        }
                    }
                };
                let depth_mm = t.quantity("depth", LENGTH)?.unwrap_or(3.0);
                t.ensure(
                    depth_mm > 0.0 && depth_mm <= 20.0,
                    "depth",
                    &format!(
                        "an injection depth 0 < d ≤ 20 mm, got {}",
                        shown(depth_mm, "mm")
                    ),
                )?;
                (
                    Route::Transendocardial {
                        injections: injections as u32,
                        segments,
                        depth_mm,
                    },
                    0.15,
                )
            }
            "intracoronary" => {
                site_key = "territory";
                if is_box {
                    return Err(t.err(
                        "route",
                        "a route that works on a box (intramyocardial or bolus at a point, intravenous, intramuscular, subcutaneous): intracoronary needs coronary territories",
                    ));
                }
                let territory = self.territory(t, "territory")?.unwrap_or(Territory::Lad);
                (Route::Intracoronary { territory }, 0.08)
            }
            "intravenous" => {
                site_key = "heart_fraction";
                let lung_fraction = t
                    .fraction("lung_fraction", false)?
                    .unwrap_or(super::route_defaults::IV_LUNG_FRACTION);
                let heart_fraction = t
                    .fraction("heart_fraction", false)?
                    .unwrap_or(super::route_defaults::IV_HEART_FRACTION);
                t.ensure(
                    lung_fraction + heart_fraction <= 1.0,
                    "heart_fraction",
                    &format!(
                        "lung_fraction + heart_fraction ≤ 1, got {lung_fraction} + {heart_fraction}"
                    ),
                )?;
                let lung_k_death_per_s = t
                    .rate_or_half_life("lung_k_death", "lung_death_half_life")?
                    .unwrap_or(LN2 / (24.0 * HOUR));
                let lung_k_abs_per_s = t
                    .rate_or_half_life("lung_k_abs", "lung_absorption_half_life")?
                    .unwrap_or(super::route_defaults::K_ABS_LUNG);
                let lung_bioavailability = t
                    .fraction("lung_bioavailability", false)?
                    .unwrap_or(super::route_defaults::F_LUNG);
                (
                    Route::Intravenous {
                        lung_fraction,
                        heart_fraction,
                        lung_k_death_per_s,
                        lung_k_abs_per_s,
                        lung_bioavailability,
                    },
                    heart_fraction,
                )
            }
            "intramuscular" | "subcutaneous" => {
                site_key = "route";
                let default_half_life = if route_name == "intramuscular" {
                    6.0
                } else {
                    3.0
                };
                let k_abs_per_s = t
                    .rate_or_half_life("k_abs", "absorption_half_life")?
                    .unwrap_or(LN2 / (default_half_life * HOUR));
                let bioavailability = t.fraction("bioavailability", false)?.unwrap_or(0.5);
                let route = if route_name == "intramuscular" {
                    Route::Intramuscular {
                        k_abs_per_s,
                        bioavailability,
                    }
                } else {
                    Route::Subcutaneous {
                        k_abs_per_s,
                        bioavailability,
                    }
                };
                (route, 1.0)
            }
            _ => {
                // bolus
                let into_plasma = t.boolean("into_plasma")?.unwrap_or(false);
                let site = if into_plasma {
                    if t.has("site") {
                        return Err(t.err(
                            "site",
                            "no site when into_plasma = true (the bolus goes into the blood)",
                        ));
                    }
                    site_key = "into_plasma";
                    None
                } else {
                    if is_box && !t.has("site") {
                        return Err(
                            t.err("site", "site = [x, y, z] in mm (a box has no border zone)")
                        );
                    }
                    let site = self.site(t, "site")?.unwrap_or(Site::BorderZone);
                    self.check_site(t, &site, infarcts, is_box)?;
                    Some(site)
                };
                let expected = "amounts of at least one species, such as amounts = { VEGF = \"50 ng\", HGF = \"500 ng\" }";
                let amounts_ng = t
                    .per_species("amounts", MASS, |_| 0.0)?
                    .ok_or_else(|| t.err("amounts", expected))?;
                self.non_negative(t, "amounts", &amounts_ng, "ng")?;
                t.ensure(amounts_ng.iter().any(|a| a.1 > 0.0), "amounts", expected)?;
                (
                    Route::Bolus {
                        site,
                        amounts_ng,
                        into_plasma,
                    },
                    1.0,
                )
            }
        };
        let retained = t.fraction("retained", false)?.unwrap_or(default_retained);
        Ok(DepotSpec {
            key: t.path.clone(),
            site_key: t.key(site_key),
            site_at: t.at(site_key),
            name,
            route,
            cells,
            retained,
            shape,
            radius_mm,
            start_s,
            secretion_scale,
        })
    }
}
