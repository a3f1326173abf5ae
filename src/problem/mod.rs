//! A problem: everything the solvers (GPU and CPU twin) need to advance the fields — the
//! labelled grid, the species, which terms run, the sources and the plasma compartment — and
//! how a scenario becomes one (`build`: cells placed by their routes (`route`) into depots
//! (`depot`)).

pub mod build;
pub mod composite;
pub mod depot;
pub mod levels;
mod patches;
pub mod refinement;
pub mod route;
pub mod scheme;

use std::collections::BTreeMap;

use crate::base::grid::Grid;
use crate::base::{LabelTable, SpeciesTable};
use crate::error::{Result, SimError};
use scheme::StagePlan;

/// Which terms of the equation are switched on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terms {
    pub diffusion: bool,
    pub decay: bool,
    pub uptake: bool,
    pub exchange: bool,
    pub sources: bool,
}

impl Terms {
    pub const ALL: Terms = Terms {
        diffusion: true,
        decay: true,
        uptake: true,
        exchange: true,
        sources: true,
    };
    pub const NONE: Terms = Terms {
        diffusion: false,
        decay: false,
        uptake: false,
        exchange: false,
        sources: false,
    };
}

/// Secretion per voxel: for each voxel with a source, a rate per species in ng per mL of
/// interstitial fluid per s (what the source adds to the voxel's `c` per second).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceMap {
    pub n_species: usize,
    pub entries: BTreeMap<usize, Vec<f64>>,
}

impl SourceMap {
    pub fn new(n_species: usize) -> Self {
        SourceMap {
            n_species,
            entries: BTreeMap::new(),
        }
    }

    /// Adds a concentration rate (ng per mL of interstitial fluid per s) of one species at a
    /// voxel.
    pub fn add_rate(&mut self, voxel: usize, species: usize, rate: f64) {
        let n = self.n_species;
        let e = self.entries.entry(voxel).or_insert_with(|| vec![0.0; n]);
        if let Some(r) = e.get_mut(species) {
            *r += rate;
        }
    }

    /// Adds an amount rate (ng/s) of one species at a voxel whose interstitial volume is
    /// `interstitial_ml` (mL: `ε·ΔV`, [`Problem::interstitial_ml`]).
    pub fn add_amount(
        &mut self,
        voxel: usize,
        species: usize,
        ng_per_s: f64,
        interstitial_ml: f64,
    ) {
        self.add_rate(voxel, species, ng_per_s / interstitial_ml);
    }

    /// Total amount secreted per second (ng/s) of each species, given each voxel's
    /// interstitial volume (mL).
    pub fn total_amount(&self, interstitial_ml: impl Fn(usize) -> f64) -> Vec<f64> {
        let mut t = vec![0.0; self.n_species];
        for (&v, rates) in &self.entries {
            for (a, r) in t.iter_mut().zip(rates) {
                *a += r * interstitial_ml(v);
            }
        }
        t
    }
}

/// A group of secreting cells in the grid (a depot of MODEL.md §3): which voxels it covers,
/// how many cells it holds and what each cell secretes.
#[derive(Clone, Debug, PartialEq)]
pub struct DepotSource {
    pub name: String,
    /// Tissue voxels and their share of the depot's secretion (the weights sum to 1).
    pub voxels: Vec<(usize, f64)>,
    /// Cells at the start, cells.
    pub cells: f64,
    /// Secretion per cell of each species, ng/cell/s, before the environment fold change.
    pub secretion: Vec<f64>,
    /// Death rate of its cells without protection, 1/s (ln 2 / 3 d in the heart); 0 keeps
    /// the cell count constant.
    pub k_death: f64,
    /// A cell-free source (a delayed bolus delivered as a one-step pulse): its secretion does
    /// not take the environment's fold change.
    pub cell_free: bool,
}

/// A depot outside the heart (MODEL.md §4): lung-trapped cells after intravenous infusion, a
/// depot in skeletal muscle or under the skin, or a cell-free dose there. Its factors
/// accumulate at the site and are absorbed into plasma.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteDepot {
    pub name: String,
    /// Cells at the start, cells.
    pub cells: f64,
    /// Secretion per cell of each species, ng/cell/s.
    pub secretion: Vec<f64>,
    /// Death rate of its cells without protection, 1/s.
    pub k_death: f64,
    /// Absorption rate into plasma, 1/s.
    pub k_abs: f64,
    /// Fraction of what is absorbed that reaches plasma (bioavailability), 0..1.
    pub bioavailability: f64,
    /// Local degradation rate of each species at the site, 1/s.
    pub k_local: Vec<f64>,
    /// Distribution volume at the site, mL (sets the local concentration the cells read).
    pub volume_ml: f64,
    /// Amount of each species at the site at the start, ng (a cell-free dose).
    pub amount: Vec<f64>,
}

/// The plasma compartment (MODEL.md §4). When `dynamic`, plasma follows
/// `V dC/dt = J_heart + Σ F k_abs A_d − k_e V C` on the GPU each step; otherwise it stays at
/// the values set by `set_plasma`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlasmaCompartment {
    pub dynamic: bool,
    /// Plasma volume, mL.
    pub volume_ml: f64,
    pub remote: Vec<RemoteDepot>,
}

impl Default for PlasmaCompartment {
    fn default() -> Self {
        PlasmaCompartment {
            dynamic: false,
            volume_ml: 3000.0,
            remote: Vec::new(),
        }
    }
}

/// The autocrine axis (MODEL.md §3): a depot's own factors, read at the depot, protect its
/// cells: `dN/dt = −k_death (1 − a_max Σ_s w_s c_s^n/(K^n + c_s^n)) N`.
#[derive(Clone, Debug, PartialEq)]
pub struct Autocrine {
    /// Feedback on; off means `f = 0` (cells die at `k_death`).
    pub enabled: bool,
    /// Largest protection a_max, 0..1.
    pub a_max: f64,
    /// Half-protection concentration K_auto, ng/mL.
    pub k_half: f64,
    /// Hill exponent n.
    pub hill: f64,
    /// Weight w_s of each species.
    pub weights: Vec<f64>,
}

impl Autocrine {
    /// No feedback.
    pub fn off(n_species: usize) -> Autocrine {
        Autocrine {
            enabled: false,
            a_max: 0.5,
            k_half: 1.0,
            hill: 1.0,
            weights: vec![0.0; n_species],
        }
    }

    /// Protection `f` (0..a_max) at depot concentrations `c` (ng/mL per species).
    pub fn protection(&self, c: &[f64]) -> f64 {
        if !self.enabled {
            return 0.0;
        }
        let kn = self.k_half.powf(self.hill);
        let sum: f64 = c
            .iter()
            .zip(&self.weights)
            .map(|(&c, &w)| {
                let cn = c.max(0.0).powf(self.hill);
                w * cn / (kn + cn)
            })
            .sum();
        self.a_max * sum
    }
}

/// One contribution to a source voxel: a depot (0 = the fixed source map, whose scale is
/// always 1) and its rate per unit scale of each species, ng per mL of interstitial fluid per s.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceEntry {
    pub depot: usize,
    pub rates: Vec<f64>,
}

/// Everything needed to advance the fields: grid, species, multipliers, switches, time step,
/// plasma concentrations, sources and the initial fields.
#[derive(Clone, Debug)]
pub struct Problem {
    pub grid: Grid,
    pub species: SpeciesTable,
    pub labels: LabelTable,
    pub terms: Terms,
    /// Time step, s. Any value is stable: diffusion takes as many RKL1 stages as it needs.
    pub dt: f64,
    /// Plasma concentration per species, ng/mL.
    pub plasma: Vec<f64>,
    pub sources: SourceMap,
    /// Depots of secreting cells in the grid; their cell counts scale their sources.
    pub depots: Vec<DepotSource>,
    /// Survival feedback of the depots' cells.
    pub autocrine: Autocrine,
    /// Plasma and the remote depots feeding it.
    pub compartment: PlasmaCompartment,
    /// Initial concentrations, ng per mL of interstitial fluid, species-major:
    /// `initial[s * n_voxels + voxel]`.
    pub initial: Vec<f32>,
    /// Accumulate the exposure readouts (AUC and time above EC50 per voxel, MODEL.md §5);
    /// costs two more f32 per species and voxel.
    pub exposure: bool,
    /// AHA segment (1..=17, 0 = none) per voxel for the regional readouts, or empty.
    pub segments: Vec<u8>,
    /// Finer levels where the grid is refined ([`Problem::refine`]); every per-voxel list
    /// above then numbers the voxels of all levels, level 0 (`grid`) first.
    pub levels: Option<levels::Levels>,
}

impl Problem {
    /// A problem with zero initial fields, no sources and zero plasma.
    pub fn new(grid: Grid, species: SpeciesTable, dt: f64) -> Self {
        let n = grid.voxel_count() * species.len();
        let s = species.len();
        Problem {
            grid,
            species,
            labels: LabelTable::default(),
            terms: Terms::ALL,
            dt,
            plasma: vec![0.0; s],
            sources: SourceMap::new(s),
            depots: Vec::new(),
            autocrine: Autocrine::off(s),
            compartment: PlasmaCompartment::default(),
            initial: vec![0.0; n],
            exposure: false,
            segments: Vec::new(),
            levels: None,
        }
    }

    pub fn n_species(&self) -> usize {
        self.species.len()
    }

    /// Interstitial volume of voxel `v`, mL: `ε·ΔV` with the fraction of its label.
    pub fn interstitial_ml(&self, v: usize) -> f64 {
        if self.levels.is_none() {
            return self.grid.voxel_ml() * self.labels.get(self.grid.labels[v]).volume_fraction;
        }
        self.voxel_ml_at(v) * self.labels.get(self.label_at(v)).volume_fraction
    }

    /// Amount of each species in tissue, ng (`Σ ε·c·ΔV` over tissue voxels), of fields
    /// species-major like [`Problem::initial`].
    pub fn tissue_amounts<T: Copy + Into<f64>>(&self, fields: &[T]) -> Vec<f64> {
        let n = self.voxel_count();
        let labels = self.all_labels();
        (0..self.n_species())
            .map(|s| {
                (0..n)
                    .filter(|&v| labels[v].is_tissue())
                    .map(|v| fields[s * n + v].into() * self.interstitial_ml(v))
                    .sum()
            })
            .collect()
    }

    /// Checks sizes and values; one line per problem found first.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(SimError::Problem(m));
        let [nx, ny, nz] = self.grid.dims;
        if nx == 0 || ny == 0 || nz == 0 {
            return bad(format!(
                "grid dimensions {nx}×{ny}×{nz}: every dimension must be ≥ 1"
            ));
        }
        if self.grid.labels.len() != self.grid.voxel_count() {
            return bad(format!(
                "grid has {} labels for {} voxels",
                self.grid.labels.len(),
                self.grid.voxel_count()
            ));
        }
        if !(self.grid.spacing > 0.0 && self.grid.spacing.is_finite()) {
            return bad(format!(
                "grid spacing {} mm: expected a positive length",
                self.grid.spacing
            ));
        }
        Self::validate_dt(self.dt)?;
        if self.species.is_empty() {
            return bad("no species: the table needs at least one".into());
        }
        self.validate_plasma(&self.plasma)?;
        self.validate_levels()?;
        if self.initial.len() != self.n_species() * self.voxel_count() {
            return bad(format!(
                "initial fields hold {} values, expected {} species × {} voxels",
                self.initial.len(),
                self.n_species(),
                self.voxel_count()
            ));
        }
        if let Some(i) = self
            .initial
            .iter()
            .position(|v| !(*v >= 0.0 && v.is_finite()))
        {
            let n = self.voxel_count();
            return bad(format!(
                "initial {} at voxel {} is {}: expected a concentration ≥ 0",
                self.species.species[i / n].id,
                self.voxel_name(i % n),
                self.initial[i]
            ));
        }
        if !self.segments.is_empty() {
            if self.segments.len() != self.voxel_count() {
                return bad(format!(
                    "{} AHA segment values for {} voxels",
                    self.segments.len(),
                    self.voxel_count()
                ));
            }
            if let Some(i) = self
                .segments
                .iter()
                .position(|&s| s > crate::base::tissue::AHA_SEGMENTS)
            {
                return bad(format!(
                    "AHA segment {} at voxel {}: expected 0 (none) to 17",
                    self.segments[i],
                    self.voxel_name(i)
                ));
            }
        }
        self.validate_labels(&self.labels)?;
        self.validate_sources(&self.sources)?;
        self.validate_depots(&self.depots)?;
        self.validate_autocrine(&self.autocrine)?;
        self.validate_compartment(&self.compartment)?;
        Ok(())
    }

    /// Checks the per-label properties: multipliers ≥ 0 and an interstitial fraction in (0, 1]
    /// for every label that carries or meets the factors.
    pub fn validate_labels(&self, table: &LabelTable) -> Result<()> {
        for l in crate::base::TissueLabel::ALL {
            if l.kind() == crate::base::LabelKind::Outside {
                continue;
            }
            let e = table.get(l);
            let eps = e.volume_fraction;
            if !(eps > 0.0 && eps <= 1.0) {
                return Err(SimError::Problem(format!(
                    "{}: interstitial volume fraction {eps}: expected a fraction in (0, 1]",
                    l.name()
                )));
            }
            for (what, v) in [
                ("diffusion", e.diffusion),
                ("uptake", e.uptake),
                ("perfusion", e.perfusion),
            ] {
                if !(v >= 0.0 && v.is_finite()) {
                    return Err(SimError::Problem(format!(
                        "{}: {what} multiplier {v}: expected a number ≥ 0",
                        l.name()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Checks a new cell count for remote depot `d`.
    pub fn validate_remote_cells(&self, d: usize, cells: f64) -> Result<()> {
        let n = self.compartment.remote.len();
        if d >= n || !(cells >= 0.0 && cells.is_finite()) {
            return Err(SimError::Problem(format!(
                "remote depot {d} ← {cells} cells: expected one of {n} remote depots and a count ≥ 0"
            )));
        }
        Ok(())
    }

    /// Checks the plasma compartment and its remote depots.
    pub fn validate_compartment(&self, c: &PlasmaCompartment) -> Result<()> {
        let bad = |m: String| Err(SimError::Problem(m));
        if !(c.volume_ml > 0.0 && c.volume_ml.is_finite()) {
            return bad(format!("plasma volume {} mL: expected > 0", c.volume_ml));
        }
        if c.dynamic && self.n_species() > 32 {
            return bad(format!(
                "{} species: the plasma kernel handles at most 32",
                self.n_species()
            ));
        }
        let ns = self.n_species();
        let nonneg = |v: &f64| *v >= 0.0 && v.is_finite();
        for d in &c.remote {
            let ok = nonneg(&d.cells)
                && nonneg(&d.k_death)
                && nonneg(&d.k_abs)
                && (0.0..=1.0).contains(&d.bioavailability)
                && d.volume_ml > 0.0
                && d.volume_ml.is_finite()
                && d.secretion.len() == ns
                && d.k_local.len() == ns
                && d.amount.len() == ns
                && d.secretion.iter().all(nonneg)
                && d.k_local.iter().all(nonneg)
                && d.amount.iter().all(nonneg);
            if !ok {
                return bad(format!(
                    "remote depot '{}': expected cells, rates and amounts ≥ 0 (one per species), bioavailability 0..1 and a site volume > 0",
                    d.name
                ));
            }
        }
        Ok(())
    }

    /// Checks the autocrine parameters.
    pub fn validate_autocrine(&self, a: &Autocrine) -> Result<()> {
        let bad = |m: String| Err(SimError::Problem(m));
        if !(0.0..=1.0).contains(&a.a_max) {
            return bad(format!("autocrine a_max {}: expected 0..1", a.a_max));
        }
        if !(a.k_half > 0.0 && a.k_half.is_finite()) {
            return bad(format!("autocrine K {}: expected > 0 ng/mL", a.k_half));
        }
        if !(a.hill > 0.0 && a.hill.is_finite()) {
            return bad(format!("autocrine Hill exponent {}: expected > 0", a.hill));
        }
        if a.weights.len() != self.n_species()
            || a.weights
                .iter()
                .any(|w| w.is_nan() || *w < 0.0 || w.is_infinite())
        {
            return bad(format!(
                "autocrine weights: expected one weight ≥ 0 per species ({})",
                self.n_species()
            ));
        }
        Ok(())
    }

    /// Checks depots: voxels in the grid and in tissue, weights summing to 1, finite
    /// non-negative cells and secretion.
    pub fn validate_depots(&self, depots: &[DepotSource]) -> Result<()> {
        let bad = |m: String| Err(SimError::Problem(m));
        for d in depots {
            if d.voxels.is_empty() {
                return bad(format!("depot '{}' covers no tissue voxel", d.name));
            }
            for &(v, w) in &d.voxels {
                if v >= self.voxel_count() || !self.label_at(v).is_tissue() {
                    return bad(format!(
                        "depot '{}' covers voxel {v}, which is not tissue",
                        d.name
                    ));
                }
                if !(w > 0.0 && w.is_finite()) {
                    return bad(format!("depot '{}' has a voxel weight {w}", d.name));
                }
            }
            let sum: f64 = d.voxels.iter().map(|v| v.1).sum();
            if (sum - 1.0).abs() > 1e-9 {
                return bad(format!(
                    "depot '{}': voxel weights sum to {sum}, expected 1",
                    d.name
                ));
            }
            if !(d.cells >= 0.0 && d.cells.is_finite()) {
                return bad(format!("depot '{}' has {} cells", d.name, d.cells));
            }
            if !(d.k_death >= 0.0 && d.k_death.is_finite()) {
                return bad(format!(
                    "depot '{}': death rate {} 1/s, expected ≥ 0",
                    d.name, d.k_death
                ));
            }
            if d.secretion.len() != self.n_species()
                || d.secretion.iter().any(|r| !(*r >= 0.0 && r.is_finite()))
            {
                return bad(format!(
                    "depot '{}': expected a secretion ≥ 0 per species ({} species)",
                    d.name,
                    self.n_species()
                ));
            }
        }
        Ok(())
    }

    /// Environment fold change of secretion for species `s` at a voxel of `label`: the
    /// species' hypoxia fold in border zone and infarct, 1 elsewhere (MODEL.md §3).
    pub fn fold(&self, label: crate::base::TissueLabel, s: usize) -> f64 {
        use crate::base::TissueLabel as L;
        match label {
            L::BorderZone | L::Infarct => self.species.species[s].hypoxia_fold.value,
            _ => 1.0,
        }
    }

    /// Every source voxel's contributions: the fixed source map (depot 0) and each depot's
    /// share (depot d + 1), in voxel order.
    pub fn source_entries(&self) -> BTreeMap<usize, Vec<SourceEntry>> {
        let mut out: BTreeMap<usize, Vec<SourceEntry>> = BTreeMap::new();
        for (&v, rates) in &self.sources.entries {
            out.entry(v).or_default().push(SourceEntry {
                depot: 0,
                rates: rates.clone(),
            });
        }
        for (d, depot) in self.depots.iter().enumerate() {
            for &(v, w) in &depot.voxels {
                let label = self.label_at(v);
                // What a depot secretes is an amount: into c it enters over the interstitial
                // volume.
                let vol = self.interstitial_ml(v);
                let rates = (0..self.n_species())
                    .map(|s| {
                        let fold = if depot.cell_free {
                            1.0
                        } else {
                            self.fold(label, s)
                        };
                        w * depot.secretion[s] * fold / vol
                    })
                    .collect();
                out.entry(v).or_default().push(SourceEntry {
                    depot: d + 1,
                    rates,
                });
            }
        }
        out
    }

    /// Scale of each source group: 1 for the fixed map, then each depot's cells.
    pub fn depot_scales(&self) -> Vec<f64> {
        std::iter::once(1.0)
            .chain(self.depots.iter().map(|d| d.cells))
            .collect()
    }

    /// Checks a time step (s).
    pub fn validate_dt(dt: f64) -> Result<()> {
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(SimError::Problem(format!(
                "time step {dt} s: expected a positive duration"
            )));
        }
        Ok(())
    }

    /// Checks plasma concentrations (ng/mL, one per species).
    pub fn validate_plasma(&self, plasma: &[f64]) -> Result<()> {
        if plasma.len() != self.n_species() {
            return Err(SimError::Problem(format!(
                "{} plasma values for {} species",
                plasma.len(),
                self.n_species()
            )));
        }
        if let Some((i, v)) = plasma
            .iter()
            .enumerate()
            .find(|(_, v)| !(**v >= 0.0 && v.is_finite()))
        {
            return Err(SimError::Problem(format!(
                "plasma concentration of {} is {v}: expected ≥ 0",
                self.species.species[i].id
            )));
        }
        Ok(())
    }

    /// Checks a source map against this problem's grid and species.
    pub fn validate_sources(&self, sources: &SourceMap) -> Result<()> {
        let bad = |m: String| Err(SimError::Problem(m));
        if sources.n_species != self.n_species() {
            return bad(format!(
                "source map has {} species, the table {}",
                sources.n_species,
                self.n_species()
            ));
        }
        for (&v, rates) in &sources.entries {
            if v >= self.voxel_count() {
                return bad(format!("source at voxel {v} lies outside the grid"));
            }
            if !self.label_at(v).is_tissue() {
                return bad(format!(
                    "source at voxel {} is in '{}', not tissue",
                    self.voxel_name(v),
                    self.label_at(v).name()
                ));
            }
            if rates.len() != self.n_species()
                || rates.iter().any(|r| !(*r >= 0.0 && r.is_finite()))
            {
                return bad(format!(
                    "source at voxel {} has a negative, missing or non-finite rate",
                    self.voxel_name(v)
                ));
            }
        }
        if sources.entries.len() >= (1 << 21) - 1 {
            return bad("more than 2 million source voxels".into());
        }
        Ok(())
    }

    /// Forward-Euler stability limit of the diffusion operator, s (∞ without diffusion).
    pub fn dt_forward_euler(&self) -> f64 {
        if !self.terms.diffusion {
            return f64::INFINITY;
        }
        let d_max = self
            .species
            .species
            .iter()
            .map(|s| s.diffusion.value)
            .fold(0.0, f64::max);
        if d_max <= 0.0 {
            return f64::INFINITY;
        }
        if self.levels.is_some() {
            return self.levels_dt_forward_euler(d_max);
        }
        let g = self.grid.max_face_sum(&self.labels);
        if g <= 0.0 {
            return f64::INFINITY;
        }
        self.grid.spacing * self.grid.spacing / (d_max * g)
    }

    /// The diffusion stages of one step.
    pub fn plan(&self) -> StagePlan {
        StagePlan::new(self.dt, self.dt_forward_euler())
    }
}
