//! From a scenario file to a problem the solvers run: the labelled geometry, the species with
//! their overrides, the depots placed by their routes, plasma and the autocrine feedback.

use crate::base::Grid;
use crate::base::{SpeciesTable, TissueLabel};
use crate::error::{Result, SimError};
use crate::geometry::sites::{endocardial_sites, label_centre, remote_myocardium, segment_voxels};
use crate::geometry::{label_heart, HeartAnatomy};
use crate::problem::depot::{place, Spread};
use crate::problem::refinement::{levels_below, refine_around, DepotSite, Refinement};
use crate::problem::route::{deliver, Delivery};
use crate::problem::{Autocrine, DepotSource, PlasmaCompartment, Problem, RemoteDepot, Terms};
use crate::scenario::{
    DepotSpec, GeometrySpec, Route, Scenario, Site, FINEST_SLACK, MAX_LEVEL_RATIO,
};

/// A scenario made ready to run.
#[derive(Clone, Debug)]
pub struct Built {
    pub problem: Problem,
    /// What a refined problem was refined from (`[grid] finest`), to refine it again around
    /// depots moved in the viewer.
    pub refinement: Option<Refinement>,
    /// The labelled heart (absent for a box).
    pub anatomy: Option<HeartAnatomy>,
    /// What happens after the start (injections with a `start` > 0), in step order.
    pub events: Vec<Event>,
}

/// Something a scenario does after its start (applied by `sim::schedule::Schedule`). An injection at its `start` gives the depots it
/// placed (held at zero cells until then) their cells. A cell-free bolus later than the start
/// is a one-step pulse: a depot (or, into plasma, a remote site absorbed within the step)
/// whose "cells" are 1/dt for one step, so that it delivers its amounts in that step, and
/// zero after; the ledger counts it as secreted.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Applied after this many steps (time = step × dt).
    pub step: u64,
    /// The depot's name in the scenario.
    pub what: String,
    /// Depots in the grid and their new cells.
    pub depots: Vec<(usize, f64)>,
    /// Remote depots and their new cells.
    pub remote: Vec<(usize, f64)>,
}

/// Absorption of a delayed plasma bolus's pulse site, per time step: all but e^{-50} reaches
/// plasma within two steps.
const PULSE_ABSORPTION_PER_STEP: f64 = 50.0;

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
        (Site::Remote, Some(a)) => {
            remote_myocardium(a).map_err(|_| sc.site_error(d, "remote LV myocardium"))
        }
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
    sc.apply_tissue_overrides(&mut p.labels)?;
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
    let mut events = Vec::new();
    // Where the depots placed at a site sit, for the refinement around them.
    let mut sites: Vec<DepotSite> = Vec::new();
    for d in &sc.depots {
        let step = (d.start_s / sc.dt_s).round() as u64;
        if step > 0 {
            if let Route::Bolus {
                site,
                amounts_ng,
                into_plasma,
            } = &d.route
            {
                let amounts: Vec<f64> = amounts_ng.iter().map(|v| v.1).collect();
                let pulse = 1.0 / sc.dt_s;
                let (depots, remote) = if *into_plasma {
                    p.compartment.remote.push(RemoteDepot {
                        name: d.name.clone(),
                        cells: 0.0,
                        secretion: amounts,
                        k_death: 0.0,
                        k_abs: PULSE_ABSORPTION_PER_STEP / sc.dt_s,
                        bioavailability: 1.0,
                        k_local: vec![0.0; ns],
                        volume_ml: sc.plasma.remote_depot_volume_ml,
                        amount: vec![0.0; ns],
                    });
                    p.compartment.dynamic = true;
                    (Vec::new(), vec![p.compartment.remote.len() - 1])
                } else {
                    let at =
                        site_point(sc, d, &site.unwrap_or(Site::BorderZone), anatomy.as_ref())?;
                    let voxels = place(&p.grid, at, d.radius_mm, d.shape, &d.name)
                        .map_err(|e| sc.site_problem(d, e))?;
                    sites.push(DepotSite {
                        centre: at,
                        radius_mm: d.radius_mm,
                        spread: d.shape,
                    });
                    p.depots.push(DepotSource {
                        name: d.name.clone(),
                        voxels,
                        cells: 0.0,
                        secretion: amounts.iter().map(|a| a * d.retained).collect(),
                        k_death: 0.0,
                        cell_free: true,
                    });
                    (vec![p.depots.len() - 1], Vec::new())
                };
                for (at, cells) in [(step, pulse), (step + 1, 0.0)] {
                    events.push(Event {
                        step: at,
                        what: d.name.clone(),
                        depots: depots.iter().map(|&i| (i, cells)).collect(),
                        remote: remote.iter().map(|&i| (i, cells)).collect(),
                    });
                }
                continue;
            }
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
                lung_k_abs_per_s,
                lung_bioavailability,
                ..
            } => vec![(
                Delivery::Intravenous {
                    heart_fraction: *heart_fraction,
                    lung_fraction: *lung_fraction,
                    k_abs: *lung_k_abs_per_s,
                    bioavailability: *lung_bioavailability,
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
                            spread: d.shape,
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
                .map_err(|e| sc.site_problem(d, e))?;
            sites.extend(delivery_sites(anat, delivery).map_err(|e| sc.site_problem(d, e))?);
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
        // A later injection: its depots wait with no cells until their step.
        if step > 0 {
            let depots: Vec<(usize, f64)> = (first_depot..p.depots.len())
                .map(|i| (i, std::mem::take(&mut p.depots[i].cells)))
                .collect();
            let remote: Vec<(usize, f64)> = (first_remote..p.compartment.remote.len())
                .map(|i| (i, std::mem::take(&mut p.compartment.remote[i].cells)))
                .collect();
            events.push(Event {
                step,
                what: d.name.clone(),
                depots,
                remote,
            });
        }
    }
    events.sort_by_key(|e| e.step);
    p.validate()?;
    let (problem, refinement) = match sc.grid_finest_mm {
        Some(finest) => refined(sc, p, finest, &sites)?,
        None => (p, None),
    };
    Ok(Built {
        problem,
        refinement,
        anatomy,
        events,
    })
}

/// The sites of the depots a delivery places at a point: intramyocardial depots, each
/// transendocardial injection, a cell-free dose in tissue. Cells spread over a territory by
/// perfusion (intracoronary, the heart's share of an intravenous dose) have no surface to
/// refine around, and remote depots are not in the grid.
fn delivery_sites(anat: &HeartAnatomy, delivery: &Delivery) -> Result<Vec<DepotSite>> {
    Ok(match delivery {
        Delivery::Intramyocardial {
            at,
            radius_mm,
            spread,
        }
        | Delivery::Bolus {
            at,
            radius_mm,
            spread,
            ..
        } => vec![DepotSite {
            centre: *at,
            radius_mm: *radius_mm,
            spread: *spread,
        }],
        // The same sites `deliver` placed the injections at.
        Delivery::Transendocardial {
            segments,
            injections,
            depth_mm,
            radius_mm,
        } => endocardial_sites(anat, segments, *injections, *depth_mm)?
            .into_iter()
            .map(|centre| DepotSite {
                centre,
                radius_mm: *radius_mm,
                spread: Spread::Sphere,
            })
            .collect(),
        Delivery::Intracoronary { .. }
        | Delivery::Intravenous { .. }
        | Delivery::Intramuscular { .. }
        | Delivery::Subcutaneous { .. } => Vec::new(),
    })
}

/// The problem refined around `sites` down to `finest` mm (`[grid] finest`). A grid already
/// that fine (`--spacing` may make it so) is not refined.
fn refined(
    sc: &Scenario,
    p: Problem,
    finest: f64,
    sites: &[DepotSite],
) -> Result<(Problem, Option<Refinement>)> {
    let h = p.grid.spacing;
    if !(finest > 0.0 && finest.is_finite()) || h / finest > MAX_LEVEL_RATIO * (1.0 + FINEST_SLACK)
    {
        return Err(sc.finest_problem(&format!(
            "{finest} mm is more than 5 levels below the spacing ({h} mm); expected a finest voxel edge ≥ {} mm",
            h / MAX_LEVEL_RATIO
        )));
    }
    if levels_below(h, finest) == 0 {
        return Ok((p, None));
    }
    if sites.is_empty() {
        return Err(sc.finest_problem(&format!(
            "{finest} mm refines around the depots placed at a site, and this scenario has none (cells spread over a territory are not refined around); expected an intramyocardial, transendocardial or bolus depot in the heart, or no finest"
        )));
    }
    refine_around(p, finest, sites).map_err(|e| match e {
        SimError::Problem(m) => sc.finest_problem(&m),
        other => other,
    })
}
