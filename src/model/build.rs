//! From a scenario file to a problem the solvers run: the labelled geometry, the species with
//! their overrides, the depots placed by their routes, plasma and the autocrine feedback.

use crate::error::{Result, SimError};
use crate::geometry::sites::{label_centre, segment_voxels};
use crate::geometry::{label_heart, HeartAnatomy};
use crate::model::route::{deliver, Delivery};
use crate::model::scenario::{DepotSpec, GeometrySpec, Route, Scenario, Site};
use crate::model::{SpeciesTable, TissueLabel};
use crate::sim::{Autocrine, Grid, PlasmaCompartment, Problem, Terms};

/// A scenario made ready to run.
#[derive(Clone, Debug)]
pub struct Built {
    pub problem: Problem,
    /// The labelled heart (absent for a box).
    pub anatomy: Option<HeartAnatomy>,
}

fn heart_of(sc: &Scenario) -> Result<Option<HeartAnatomy>> {
    match &sc.geometry {
        GeometrySpec::DefaultHeart { params } => {
            let meshes = params.meshes(crate::geometry::HeartParams::MESH_STEP)?;
            let hints = params.hints();
            Ok(Some(label_heart(
                &meshes,
                sc.grid_spacing_mm,
                &hints,
                &sc.infarcts,
            )?))
        }
        GeometrySpec::Mesh { path, hints } => {
            let (meshes, _) = crate::geometry::mesh::load_meshes(path)?;
            Ok(Some(label_heart(
                &meshes,
                sc.grid_spacing_mm,
                &hints.anatomy_hints(),
                &sc.infarcts,
            )?))
        }
        GeometrySpec::Box { .. } => Ok(None),
    }
}

fn box_grid(size: [f64; 3], h: f64, blood_pool: bool) -> Grid {
    let dims = size.map(|s| ((s / h).round() as usize).max(1));
    let mut g = Grid::filled(dims, h, TissueLabel::Myocardium);
    if blood_pool {
        for z in 0..dims[2] {
            for y in 0..dims[1] {
                let i = g.index(0, y, z);
                g.labels[i] = TissueLabel::BloodLv;
            }
        }
    }
    g
}

/// The point a `Site` names on this heart, mm.
fn site_point(
    sc: &Scenario,
    d: &DepotSpec,
    site: &Site,
    a: Option<&HeartAnatomy>,
) -> Result<[f64; 3]> {
    match (site, a) {
        (Site::Point(p), _) => Ok(*p),
        (Site::BorderZone, Some(a)) => label_centre(a, TissueLabel::BorderZone)
            .map_err(|_| sc.site_error(d, "a border zone: this heart has no infarct")),
        (Site::Remote, Some(a)) => label_centre(a, TissueLabel::Myocardium)
            .map_err(|_| sc.site_error(d, "remote myocardium")),
        (Site::Segment { segment, depth }, Some(a)) => {
            // The voxel of the segment whose depth is nearest the one asked, nearest the
            // segment's centroid among those.
            let vox = segment_voxels(a, &[*segment]);
            let best = vox
                .iter()
                .map(|&i| (a.depth[i] as f64 - depth).abs())
                .fold(f64::INFINITY, f64::min);
            let ring: Vec<usize> = vox
                .into_iter()
                .filter(|&i| (a.depth[i] as f64 - depth).abs() <= best + 0.05)
                .collect();
            let centre = |i: usize| {
                let [x, y, z] = a.grid.coords(i);
                a.grid.centre(x, y, z)
            };
            let mut c = [0.0; 3];
            for &i in &ring {
                let p = centre(i);
                for k in 0..3 {
                    c[k] += p[k] / ring.len() as f64;
                }
            }
            ring.iter()
                .map(|&i| centre(i))
                .min_by(|p, q| {
                    let d = |v: &[f64; 3]| (0..3).map(|k| (v[k] - c[k]).powi(2)).sum::<f64>();
                    d(p).total_cmp(&d(q))
                })
                .ok_or_else(|| sc.site_error(d, "a segment holding LV myocardium"))
        }
        (_, None) => Err(sc.site_error(
            d,
            "a point [x, y, z] in mm (a box has no segments or border zone)",
        )),
    }
}

/// Builds the problem of a scenario.
pub fn build(sc: &Scenario) -> Result<Built> {
    let mut table = SpeciesTable::default_table()?;
    sc.apply_species_overrides(&mut table)?;
    let anatomy = heart_of(sc)?;
    let grid = match (&anatomy, &sc.geometry) {
        (Some(a), _) => a.grid.clone(),
        (
            None,
            GeometrySpec::Box {
                size_mm,
                blood_pool,
            },
        ) => box_grid(*size_mm, sc.grid_spacing_mm, *blood_pool),
        (None, _) => {
            return Err(SimError::Geometry(format!(
                "{}: no geometry could be built",
                sc.source
            )))
        }
    };
    let ns = table.len();
    let mut p = Problem::new(grid, table, sc.dt_s);
    let t = &sc.terms;
    p.terms = Terms {
        diffusion: t.diffusion,
        decay: t.decay,
        uptake: t.uptake,
        exchange: t.exchange,
        sources: t.secretion,
    };
    p.plasma = sc.plasma.initial_ng_ml.iter().map(|v| v.1).collect();
    p.exposure = sc.readouts.exposure;
    if let Some(a) = &anatomy {
        p.segments = a.aha_segment.clone();
    }
    p.compartment = PlasmaCompartment {
        dynamic: true,
        volume_ml: sc.plasma.volume_ml,
        remote: Vec::new(),
    };
    let a = &sc.autocrine;
    p.autocrine = Autocrine {
        enabled: a.enabled,
        a_max: a.a_max,
        k_half: a.k_auto_ng_ml,
        hill: a.hill,
        weights: a.weights.iter().map(|w| w.1).collect(),
    };
    // A box has no anatomy; the routes that need one were refused by the parser.
    let empty;
    let anat: &HeartAnatomy = match &anatomy {
        Some(a) => a,
        None => {
            empty = HeartAnatomy::empty(p.grid.clone());
            &empty
        }
    };
    for d in &sc.depots {
        if d.start_s > 0.0 {
            return Err(SimError::Input(crate::error::InputError::new(
                &sc.source,
                d.site_at,
                &format!("{}.start", d.key),
                "0: delayed injections are not supported yet",
            )));
        }
        let (first_depot, first_remote) = (p.depots.len(), p.compartment.remote.len());
        let deliveries: Vec<(Delivery, f64)> = match &d.route {
            Route::Intramyocardial {
                site,
                track_to,
                track_depots,
            } => {
                let start = site_point(sc, d, site, anatomy.as_ref())?;
                match track_to {
                    None => vec![(
                        Delivery::Intramyocardial {
                            at: start,
                            radius_mm: d.radius_mm,
                            spread: d.shape,
                        },
                        d.cells,
                    )],
                    Some(end) => {
                        let n = (*track_depots).max(1) as usize;
                        (0..n)
                            .map(|k| {
                                let f = if n == 1 {
                                    0.0
                                } else {
                                    k as f64 / (n - 1) as f64
                                };
                                let at = [0, 1, 2].map(|i| start[i] + f * (end[i] - start[i]));
                                (
                                    Delivery::Intramyocardial {
                                        at,
                                        radius_mm: d.radius_mm,
                                        spread: d.shape,
                                    },
                                    d.cells / n as f64,
                                )
                            })
                            .collect()
                    }
                }
            }
            Route::Transendocardial {
                injections,
                segments,
                depth_mm,
            } => vec![(
                Delivery::Transendocardial {
                    segments: segments.clone(),
                    injections: *injections as usize,
                    depth_mm: *depth_mm,
                    radius_mm: d.radius_mm,
                },
                d.cells,
            )],
            Route::Intracoronary { territory } => vec![(
                Delivery::Intracoronary {
                    segments: territory.segments().to_vec(),
                },
                d.cells,
            )],
            Route::Intravenous {
                lung_fraction,
                heart_fraction,
                ..
            } => vec![(
                Delivery::Intravenous {
                    heart_fraction: *heart_fraction,
                    lung_fraction: *lung_fraction,
                },
                d.cells,
            )],
            Route::Intramuscular {
                k_abs_per_s,
                bioavailability,
            } => vec![(
                Delivery::Intramuscular {
                    k_abs: *k_abs_per_s,
                    bioavailability: *bioavailability,
                },
                d.cells,
            )],
            Route::Subcutaneous {
                k_abs_per_s,
                bioavailability,
            } => vec![(
                Delivery::Subcutaneous {
                    k_abs: *k_abs_per_s,
                    bioavailability: *bioavailability,
                },
                d.cells,
            )],
            Route::Bolus {
                site,
                amounts_ng,
                into_plasma,
            } => {
                let amounts: Vec<f64> = amounts_ng.iter().map(|v| v.1).collect();
                if *into_plasma {
                    for (s, &amt) in amounts.iter().enumerate().take(ns) {
                        p.plasma[s] += amt / sc.plasma.volume_ml;
                    }
                    Vec::new()
                } else {
                    let site = site.unwrap_or(Site::BorderZone);
                    let at = site_point(sc, d, &site, anatomy.as_ref())?;
                    vec![(
                        Delivery::Bolus {
                            at,
                            radius_mm: d.radius_mm,
                            amounts,
                        },
                        0.0,
                    )]
                }
            }
        };
        let retained = match &d.route {
            Route::Intravenous { .. } => 1.0,
            _ => d.retained,
        };
        for (k, (delivery, cells)) in deliveries.iter().enumerate() {
            let what = if deliveries.len() > 1 {
                format!("{} #{}", d.name, k + 1)
            } else {
                d.name.clone()
            };
            deliver(&mut p, anat, delivery, *cells, retained, &what)
                .map_err(|e| sc.site_error(d, &e.to_string()))?;
        }
        // What the scenario says beyond the route's defaults.
        for dep in &mut p.depots[first_depot..] {
            dep.k_death = a.k_death_heart_per_s;
            dep.secretion
                .iter_mut()
                .for_each(|s| *s *= d.secretion_scale);
        }
        for r in &mut p.compartment.remote[first_remote..] {
            r.volume_ml = sc.plasma.remote_depot_volume_ml;
            r.secretion.iter_mut().for_each(|s| *s *= d.secretion_scale);
            if let Route::Intravenous {
                lung_k_death_per_s, ..
            } = &d.route
            {
                r.k_death = *lung_k_death_per_s;
            } else {
                r.k_death = a.k_death_heart_per_s;
            }
        }
    }
    p.validate()?;
    Ok(Built {
        problem: p,
        anatomy,
    })
}
