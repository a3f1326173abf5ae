//! The whole file resolved, section by section, into a `Scenario`; the sections with more to
//! say have their own files (`geometry`, `species`, `depots`).

use super::read::*;
use super::*;

pub(super) const TOP_KEYS: [&str; 13] = [
    "scenario",
    "grid",
    "geometry",
    "infarct",
    "time",
    "species",
    "tissue",
    "depot",
    "plasma",
    "autocrine",
    "terms",
    "readouts",
    "view",
];

pub(super) const HEART_FIELDS: [&str; 10] = [
    "lv_cavity_radius",
    "lv_cavity_half_length",
    "lv_wall",
    "lv_apex_wall",
    "base_above_equator",
    "rv_offset",
    "rv_radius_septal",
    "rv_radius_wrap",
    "rv_half_length",
    "rv_wall",
];

pub(super) fn heart_field<'p>(p: &'p mut HeartParams, name: &str) -> Option<&'p mut f64> {
    Some(match name {
        "lv_cavity_radius" => &mut p.lv_cavity_radius,
        "lv_cavity_half_length" => &mut p.lv_cavity_half_length,
        "lv_wall" => &mut p.lv_wall,
        "lv_apex_wall" => &mut p.lv_apex_wall,
        "base_above_equator" => &mut p.base_above_equator,
        "rv_offset" => &mut p.rv_offset,
        "rv_radius_septal" => &mut p.rv_radius_septal,
        "rv_radius_wrap" => &mut p.rv_radius_wrap,
        "rv_half_length" => &mut p.rv_half_length,
        "rv_wall" => &mut p.rv_wall,
        _ => return None,
    })
}

/// `[grid] finest` may lie at most this many times below the spacing (5 levels).
pub const MAX_LEVEL_RATIO: f64 = 32.0;

/// Relative slack of the comparisons of `[grid] finest` with the spacing (`"1000 um"` is 1 mm).
pub const FINEST_SLACK: f64 = 1e-9;

/// The common keys of every `[[depot]]`.
pub(super) const DEPOT_KEYS: [&str; 8] = [
    "name",
    "route",
    "cells",
    "retained",
    "shape",
    "radius",
    "start",
    "secretion_scale",
];

/// Route-specific keys of a `[[depot]]`.
pub(super) fn route_keys(route: &str) -> &'static [&'static str] {
    match route {
        "intramyocardial" => &["site", "track_to", "track_depots"],
        "transendocardial" => &["injections", "segments", "depth"],
        "intracoronary" => &["territory"],
        "intravenous" => &[
            "lung_fraction",
            "heart_fraction",
            "lung_death_half_life",
            "lung_k_death",
            "lung_absorption_half_life",
            "lung_k_abs",
            "lung_bioavailability",
        ],
        "intramuscular" | "subcutaneous" => &["absorption_half_life", "k_abs", "bioavailability"],
        "bolus" => &["site", "amounts", "into_plasma"],
        _ => &[],
    }
}

impl Doc<'_> {
    pub(super) fn resolve(&self, root: &Tbl<'_>, base_dir: &Path) -> Result<Scenario> {
        root.allow(&TOP_KEYS, "a scenario file")?;

        // [scenario]
        let sc = root.table("scenario")?;
        sc.allow(&["name", "description"], "[scenario]")?;
        let name = match sc.string("name", "a name string")? {
            Some(n) => {
                sc.ensure(!n.trim().is_empty(), "name", "a non-empty name")?;
                n.to_string()
            }
            None => Path::new(self.file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "scenario".into()),
        };
        let description = sc
            .string("description", "a description string")?
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();

        // [grid]
        let grid = root.table("grid")?;
        grid.allow(&["spacing", "finest"], "[grid]")?;
        let grid_spacing_mm = grid.quantity("spacing", LENGTH)?.unwrap_or(1.0);
        grid.ensure(
            grid_spacing_mm > 0.0 && grid_spacing_mm <= 10.0,
            "spacing",
            &format!(
                "a voxel spacing 0 < h ≤ 10 mm, got {}",
                shown(grid_spacing_mm, "mm")
            ),
        )?;
        let grid_finest_mm = grid.quantity("finest", LENGTH)?;
        if let Some(f) = grid_finest_mm {
            grid.ensure(
                f > 0.0 && f <= grid_spacing_mm * (1.0 + FINEST_SLACK),
                "finest",
                &format!(
                    "a finest voxel edge 0 < finest ≤ the spacing ({}), got {}",
                    shown(grid_spacing_mm, "mm"),
                    shown(f, "mm")
                ),
            )?;
            grid.ensure(
                grid_spacing_mm / f <= MAX_LEVEL_RATIO * (1.0 + FINEST_SLACK),
                "finest",
                &format!(
                    "a finest voxel edge at most 5 levels below the spacing (≥ {} / 32 = {}), got {}",
                    shown(grid_spacing_mm, "mm"),
                    shown(grid_spacing_mm / MAX_LEVEL_RATIO, "mm"),
                    shown(f, "mm")
                ),
            )?;
        }
        let grid_finest_at = grid_finest_mm.and(grid.at("finest"));

        // [time]
        let time = root.table("time")?;
        time.allow(&["duration", "output_interval", "dt"], "[time]")?;
        let duration_s = time.quantity("duration", HOURS)?.unwrap_or(24.0 * HOUR);
        time.ensure(
            duration_s > 0.0,
            "duration",
            &format!("a positive duration, got {}", shown(duration_s, "s")),
        )?;
        let output_interval_s = time.quantity("output_interval", HOURS)?.unwrap_or(HOUR);
        time.ensure(
            output_interval_s > 0.0,
            "output_interval",
            &format!(
                "a positive output interval, got {}",
                shown(output_interval_s, "s")
            ),
        )?;
        time.ensure(
            output_interval_s <= duration_s,
            if time.has("output_interval") {
                "output_interval"
            } else {
                "duration"
            },
            &format!(
                "an output interval no longer than the duration ({} > {})",
                shown(output_interval_s, "s"),
                shown(duration_s, "s")
            ),
        )?;
        let dt_s = time.quantity("dt", SECONDS)?.unwrap_or(60.0);
        time.ensure(
            dt_s > 0.0,
            "dt",
            &format!("a positive time step, got {}", shown(dt_s, "s")),
        )?;
        time.ensure(
            dt_s <= output_interval_s,
            "dt",
            &format!(
                "a time step no longer than the output interval ({} > {})",
                shown(dt_s, "s"),
                shown(output_interval_s, "s")
            ),
        )?;

        // [geometry]
        let geo = root.table("geometry")?;
        let (geometry, no_infarct) = self.geometry(&geo, base_dir)?;
        let is_box = matches!(geometry, GeometrySpec::Box { .. });

        // [[infarct]]
        let infarcts = match root.tables("infarct")? {
            Some(list) => {
                if no_infarct {
                    return Err(root.err(
                        "infarct",
                        "no [[infarct]] tables when [geometry] no_infarct = true",
                    ));
                }
                if is_box {
                    return Err(root.err(
                        "infarct",
                        "no [[infarct]] on a box geometry (it has no AHA segments)",
                    ));
                }
                if list.is_empty() {
                    return Err(root.err(
                        "infarct",
                        "at least one [[infarct]] table (for none, write no_infarct = true under [geometry])",
                    ));
                }
                list.iter()
                    .map(|t| self.infarct(t))
                    .collect::<Result<Vec<_>>>()?
            }
            None if no_infarct || is_box => Vec::new(),
            None => vec![InfarctSpec::default_lad()],
        };

        // [species.<id>]
        let mut species_overrides = self.species_overrides(&root.table("species")?, &name)?;

        // [tissue.<label>]
        let tissue_overrides = self.tissue_overrides(&root.table("tissue")?, &name)?;

        // [plasma]
        let pl = root.table("plasma")?;
        pl.allow(&["volume", "initial", "remote_depot_volume"], "[plasma]")?;
        let volume_ml = pl.quantity("volume", VOLUME)?.unwrap_or(3000.0);
        pl.ensure(
            volume_ml > 0.0,
            "volume",
            &format!("a positive plasma volume, got {}", shown(volume_ml, "mL")),
        )?;
        let remote_depot_volume_ml = pl.quantity("remote_depot_volume", VOLUME)?.unwrap_or(10.0);
        pl.ensure(
            remote_depot_volume_ml > 0.0,
            "remote_depot_volume",
            &format!(
                "a positive volume, got {}",
                shown(remote_depot_volume_ml, "mL")
            ),
        )?;
        let initial_ng_ml = pl
            .per_species("initial", CONCENTRATION, |_| 0.0)?
            .unwrap_or_else(|| self.zeros());
        self.non_negative(&pl, "initial", &initial_ng_ml, "ng/mL")?;
        let plasma = PlasmaSpec {
            volume_ml,
            initial_ng_ml,
            remote_depot_volume_ml,
        };

        // [autocrine]
        let autocrine = self.autocrine(&root.table("autocrine")?)?;

        // [terms]
        let t = root.table("terms")?;
        let names = ["diffusion", "decay", "uptake", "exchange", "secretion"];
        t.allow(&names, "[terms]")?;
        let mut sw = [true; 5];
        for (i, n) in names.iter().enumerate() {
            sw[i] = t.boolean(n)?.unwrap_or(true);
        }
        let terms = TermSwitches {
            diffusion: sw[0],
            decay: sw[1],
            uptake: sw[2],
            exchange: sw[3],
            secretion: sw[4],
        };

        // [readouts]
        let readouts = self.readouts(&root.table("readouts")?, &mut species_overrides, &name)?;

        // [[depot]]
        let mut depots = Vec::new();
        for (i, t) in root.tables("depot")?.unwrap_or_default().iter().enumerate() {
            let d = self.depot(t, i, &infarcts, is_box, duration_s)?;
            if let Some(other) = depots.iter().find(|o: &&DepotSpec| o.name == d.name) {
                return Err(t.err(
                    "name",
                    &format!("a unique depot name (`{}` is also {})", d.name, other.key),
                ));
            }
            depots.push(d);
        }

        // [view]
        let view = self.view(
            &root.table("view")?,
            &depots,
            !infarcts.is_empty(),
            &readouts,
        )?;

        Ok(Scenario {
            source: self.file.to_string(),
            name,
            description,
            grid_spacing_mm,
            grid_finest_mm,
            grid_finest_at,
            geometry,
            infarcts,
            duration_s,
            output_interval_s,
            dt_s,
            species_overrides,
            tissue_overrides,
            depots,
            plasma,
            autocrine,
            terms,
            readouts,
            view,
        })
    }

    pub(super) fn zeros(&self) -> Vec<(String, f64)> {
        self.species
            .species
            .iter()
            .map(|s| (s.id.clone(), 0.0))
            .collect()
    }

    pub(super) fn non_negative(
        &self,
        t: &Tbl<'_>,
        k: &str,
        list: &[(String, f64)],
        unit: &str,
    ) -> Result<()> {
        if let Some((id, v)) = list.iter().find(|(_, v)| *v < 0.0) {
            let sub = t.table(k)?;
            return Err(sub.err(id, &format!("a value ≥ 0, got {}", shown(*v, unit))));
        }
        Ok(())
    }
}
