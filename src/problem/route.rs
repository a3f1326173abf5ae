//! Delivery routes (MODEL.md §3): where a dose of cells, or a cell-free dose, ends up — depots
//! in the heart's tissue, remote depots that feed plasma, or an amount placed in tissue.

use crate::error::{Result, SimError};
use crate::geometry::sites::{endocardial_sites, segment_voxels};
use crate::geometry::HeartAnatomy;
use crate::problem::depot::{by_perfusion, place, Spread};
use crate::problem::{DepotSource, Problem, RemoteDepot};

pub use crate::scenario::route_defaults::{
    F_LUNG, IV_HEART_FRACTION, IV_LUNG_FRACTION, K_ABS_LUNG, K_ABS_MUSCLE, K_ABS_SKIN,
    K_DEATH_HEART, K_DEATH_LUNG,
};

/// Where a remote depot sits (MODEL.md §4): each site has its own secretion fold per species.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoteSite {
    Lungs,
    Muscle,
    Skin,
}

impl RemoteSite {
    /// The species' secretion fold of cells at this site (`lung_fold`, `muscle_fold`,
    /// `skin_fold` in the species table).
    pub fn fold(self, s: &crate::base::Species) -> f64 {
        match self {
            RemoteSite::Lungs => s.lung_fold.value,
            RemoteSite::Muscle => s.muscle_fold.value,
            RemoteSite::Skin => s.skin_fold.value,
        }
    }
}

/// One delivery of cells (or of factors, for `Bolus`).
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// A depot at a point of the wall (mm).
    Intramyocardial {
        at: [f64; 3],
        radius_mm: f64,
        spread: Spread,
    },
    /// `injections` depots on the LV endocardium of `segments`, `depth_mm` into the wall.
    Transendocardial {
        segments: Vec<u8>,
        injections: usize,
        depth_mm: f64,
        radius_mm: f64,
    },
    /// Cells spread over the LV myocardium of `segments` in proportion to perfusion.
    Intracoronary { segments: Vec<u8> },
    /// Intravenous infusion: `heart_fraction` lodges in the heart (by perfusion),
    /// `lung_fraction` is trapped in the lungs (a remote depot absorbed into plasma at `k_abs`
    /// with `bioavailability`), the rest is cleared.
    Intravenous {
        heart_fraction: f64,
        lung_fraction: f64,
        k_abs: f64,
        bioavailability: f64,
    },
    /// A remote depot in skeletal muscle.
    Intramuscular { k_abs: f64, bioavailability: f64 },
    /// A remote depot under the skin, absorbed by lymph.
    Subcutaneous { k_abs: f64, bioavailability: f64 },
    /// A cell-free dose (conditioned medium, exosomes): `amounts` ng per species injected
    /// around `at` (of which the retained fraction stays in the tissue), spread as `spread`.
    Bolus {
        at: [f64; 3],
        radius_mm: f64,
        spread: Spread,
        amounts: Vec<f64>,
    },
}

impl Delivery {
    /// Fraction of the delivered cells retained at the target by default (MODEL.md §3).
    pub fn default_retained(&self) -> f64 {
        match self {
            Delivery::Intramyocardial { .. } | Delivery::Transendocardial { .. } => 0.15,
            Delivery::Intracoronary { .. } => 0.08,
            Delivery::Intravenous { .. } => 1.0, // the fractions say where the cells go
            Delivery::Intramuscular { .. } | Delivery::Subcutaneous { .. } => 1.0,
            Delivery::Bolus { .. } => 1.0,
        }
    }

    pub fn route_name(&self) -> &'static str {
        match self {
            Delivery::Intramyocardial { .. } => "intramyocardial",
            Delivery::Transendocardial { .. } => "transendocardial",
            Delivery::Intracoronary { .. } => "intracoronary",
            Delivery::Intravenous { .. } => "intravenous",
            Delivery::Intramuscular { .. } => "intramuscular",
            Delivery::Subcutaneous { .. } => "subcutaneous",
            Delivery::Bolus { .. } => "bolus",
        }
    }
}

/// Secretion per cell of each species, ng/cell/s, from the species table.
fn sigma(p: &Problem, scale: f64) -> Vec<f64> {
    p.species
        .species
        .iter()
        .map(|s| s.secretion.value * scale)
        .collect()
}

fn remote_site(
    p: &Problem,
    name: &str,
    site: RemoteSite,
    cells: f64,
    k_death: f64,
    k_abs: f64,
    f: f64,
) -> RemoteDepot {
    RemoteDepot {
        name: name.to_string(),
        cells,
        // The cells secrete as the site activates them (lung-entrapped MSCs: TSG-6).
        secretion: p
            .species
            .species
            .iter()
            .map(|s| s.secretion.value * site.fold(s))
            .collect(),
        k_death,
        k_abs,
        bioavailability: f,
        k_local: p.species.species.iter().map(|s| s.decay_rate()).collect(),
        volume_ml: 10.0,
        amount: vec![0.0; p.n_species()],
    }
}

/// Adds a delivery of `cells` cells (of which `retained` stay at the target) to `problem`,
/// whose grid is `anatomy`'s. Remote depots make the plasma dynamic. `what` names the
/// delivery in errors.
pub fn deliver(
    problem: &mut Problem,
    anatomy: &HeartAnatomy,
    delivery: &Delivery,
    cells: f64,
    retained: f64,
    what: &str,
) -> Result<()> {
    if !(cells >= 0.0 && cells.is_finite() && (0.0..=1.0).contains(&retained)) {
        return Err(SimError::Problem(format!(
            "{what}: {cells} cells with {retained} retained: expected cells ≥ 0 and a retained fraction 0..1"
        )));
    }
    let kept = cells * retained;
    let heart = |p: &mut Problem, voxels: Vec<(usize, f64)>, n: f64, name: String| {
        let secretion = sigma(p, 1.0);
        p.depots.push(DepotSource {
            name,
            voxels,
            cells: n,
            secretion,
            k_death: K_DEATH_HEART,
            cell_free: false,
        });
    };
    match delivery {
        Delivery::Intramyocardial {
            at,
            radius_mm,
            spread,
        } => {
            let v = place(&problem.grid, *at, *radius_mm, *spread, what)?;
            heart(problem, v, kept, what.to_string());
        }
        Delivery::Transendocardial {
            segments,
            injections,
            depth_mm,
            radius_mm,
        } => {
            let sites = endocardial_sites(anatomy, segments, *injections, *depth_mm)?;
            let each = kept / sites.len() as f64;
            for (k, s) in sites.iter().enumerate() {
                let v = place(&problem.grid, *s, *radius_mm, Spread::Sphere, what)?;
                heart(problem, v, each, format!("{what} #{}", k + 1));
            }
        }
        Delivery::Intracoronary { segments } => {
            let vox = segment_voxels(anatomy, segments);
            let v = by_perfusion(&problem.grid, &problem.labels, &vox, what)?;
            heart(problem, v, kept, what.to_string());
        }
        Delivery::Intravenous {
            heart_fraction,
            lung_fraction,
            k_abs,
            bioavailability,
        } => {
            if !(0.0..=1.0).contains(heart_fraction)
                || !(0.0..=1.0).contains(lung_fraction)
                || heart_fraction + lung_fraction > 1.0
            {
                return Err(SimError::Problem(format!(
                    "{what}: heart fraction {heart_fraction} and lung fraction {lung_fraction}: expected fractions that sum to at most 1"
                )));
            }
            if *heart_fraction > 0.0 {
                let g = &problem.grid;
                let vox: Vec<usize> = (0..g.voxel_count())
                    .filter(|&i| g.labels[i].is_tissue())
                    .collect();
                let v = by_perfusion(g, &problem.labels, &vox, what)?;
                heart(
                    problem,
                    v,
                    cells * heart_fraction,
                    format!("{what} (heart)"),
                );
            }
            if !(*k_abs >= 0.0 && k_abs.is_finite() && (0.0..=1.0).contains(bioavailability)) {
                return Err(SimError::Problem(format!(
                    "{what}: lung absorption {k_abs} 1/s with bioavailability {bioavailability}: expected a rate ≥ 0 and a fraction 0..1"
                )));
            }
            let lungs = remote_site(
                problem,
                &format!("{what} (lungs)"),
                RemoteSite::Lungs,
                cells * lung_fraction,
                K_DEATH_LUNG,
                *k_abs,
                *bioavailability,
            );
            problem.compartment.remote.push(lungs);
            problem.compartment.dynamic = true;
        }
        Delivery::Intramuscular {
            k_abs,
            bioavailability,
        }
        | Delivery::Subcutaneous {
            k_abs,
            bioavailability,
        } => {
            let at = if matches!(delivery, Delivery::Intramuscular { .. }) {
                RemoteSite::Muscle
            } else {
                RemoteSite::Skin
            };
            let site = remote_site(
                problem,
                what,
                at,
                kept,
                K_DEATH_HEART,
                *k_abs,
                *bioavailability,
            );
            problem.compartment.remote.push(site);
            problem.compartment.dynamic = true;
        }
        Delivery::Bolus {
            at,
            radius_mm,
            spread,
            amounts,
        } => {
            if amounts.len() != problem.n_species()
                || amounts.iter().any(|a| a.is_nan() || *a < 0.0)
            {
                return Err(SimError::Problem(format!(
                    "{what}: expected an amount ≥ 0 ng for each of the {} species",
                    problem.n_species()
                )));
            }
            let v = place(&problem.grid, *at, *radius_mm, *spread, what)?;
            let n = problem.grid.voxel_count();
            // The amount dissolves in the interstitial fluid of its voxels (ε·ΔV each).
            for (s, &amount) in amounts.iter().enumerate() {
                for &(i, w) in &v {
                    let vol = problem.interstitial_ml(i);
                    problem.initial[s * n + i] += (amount * retained * w / vol) as f32;
                }
            }
        }
    }
    Ok(())
}
