//! The CPU twin of the GPU kernels: the same discrete equations in double precision.
//!
//! `react` mirrors `react` in `shaders/common.wgsl`, `stage` mirrors `diffuse_stage` in
//! `shaders/diffuse.wgsl`, `step` mirrors `Simulation::step`. Tests compare the two; it is also
//! usable for small runs. Single-threaded and plain on purpose: it is the reference.

use crate::base::{LabelKind, TissueLabel};
use crate::error::{Result, SimError};
use crate::problem::scheme::StagePlan;
use crate::problem::{Problem, SourceMap, Terms};
use crate::sim::compartments::PlasmaSteps;
use crate::sim::ledger::{Ledger, PlasmaLedger, SpeciesLedger};

mod plasma;

/// `phi = (1 − e^{−bτ})/b`, `psi = (τ − phi)/b` (see `relax` in common.wgsl).
pub fn relax(b: f64, tau: f64) -> (f64, f64) {
    let x = b * tau;
    if x < 1e-4 {
        let phi = tau * (1.0 - x * (0.5 - x * (1.0 / 6.0 - x / 24.0)));
        let psi = tau * tau * (0.5 - x * (1.0 / 6.0 - x * (1.0 / 24.0 - x / 120.0)));
        return (phi, psi);
    }
    let phi = -(-x).exp_m1() / b;
    (phi, (tau - phi) / b)
}

/// Per-species kinetics in f64.
#[derive(Clone, Copy, Debug)]
struct Kinetics {
    diffusion: f64,
    decay: f64,
    vmax: f64,
    km: f64,
    permeability: f64,
}

/// Whether secretion of this species at a voxel of these multipliers goes into the reaction
/// half-steps instead of the diffusion stages: when its loss rate at c → 0 times the
/// half-step exceeds 1 (as `stiff_source` in common.wgsl).
fn stiff(k: &Kinetics, m_uptake: f64, m_perfusion: f64, tau: f64, terms: Terms) -> bool {
    let mut b = 0.0;
    if terms.decay {
        b += k.decay;
    }
    if terms.exchange {
        b += k.permeability * m_perfusion;
    }
    if terms.uptake {
        b += k.vmax * m_uptake / k.km;
    }
    (b as f32) * (tau as f32) > 1.0
}

/// Time within a reaction sub-step that c spends above `e` going from `c0` to `c1`, a
/// crossing placed by linear interpolation (as `time_above` in common.wgsl).
pub fn time_above(c0: f64, c1: f64, e: f64, tau: f64) -> f64 {
    match (c0 > e, c1 > e) {
        (true, true) => tau,
        (false, false) => 0.0,
        (true, false) => (c0 - e) / (c0 - c1) * tau,
        (false, true) => (c1 - e) / (c1 - c0) * tau,
    }
}

/// Receptor occupancy `c/(c + K_d)` over a sub-step of length `tau` whose `∫c dt` is
/// `integral`, at the sub-step's mean concentration, s (as `occupancy_integral` in
/// common.wgsl).
pub fn occupancy_integral(integral: f64, tau: f64, kd: f64) -> f64 {
    let c = (integral / tau).max(0.0);
    tau * c / (c + kd)
}

/// What one reaction sub-step did at a voxel.
struct Reacted {
    c: f64,
    /// `∫c dt` over the sub-step, ng·s/mL.
    integral: f64,
    /// Secreted, degraded, taken-up and exchanged (tissue → plasma) terms, ng per mL of
    /// interstitial fluid (the ledger multiplies them by ε·ΔV).
    terms: [f64; 4],
}

/// The reaction sub-step of length `tau` at one tissue voxel (as `react` in common.wgsl).
#[allow(clippy::too_many_arguments)]
fn react(
    c0: f64,
    tau: f64,
    k: &Kinetics,
    m_uptake: f64,
    m_perfusion: f64,
    cp: f64,
    source: f64,
    terms: Terms,
) -> Reacted {
    let decay = if terms.decay { k.decay } else { 0.0 };
    let pex = if terms.exchange {
        k.permeability * m_perfusion
    } else {
        0.0
    };
    let vu = if terms.uptake { k.vmax * m_uptake } else { 0.0 };
    let a = pex * cp + source;
    let mut u = if vu > 0.0 {
        vu / (k.km + c0.max(0.0))
    } else {
        0.0
    };
    let mut b = decay + pex + u;
    let (mut phi, mut psi) = relax(b, tau);
    if vu > 0.0 {
        let c1 = c0 - b * c0 * phi + a * phi;
        u = vu / (k.km + (0.5 * (c0 + c1)).max(0.0));
        b = decay + pex + u;
        (phi, psi) = relax(b, tau);
    }
    let integral = c0 * phi + a * psi;
    Reacted {
        c: c0 - b * c0 * phi + a * phi,
        integral,
        terms: [
            source * tau,
            decay * integral,
            u * integral,
            pex * (integral - cp * tau),
        ],
    }
}

/// Double-precision solver of a [`Problem`].
pub struct CpuReference {
    problem: Problem,
    plan: StagePlan,
    kinetics: Vec<Kinetics>,
    /// Current fields, species-major.
    cur: Vec<f64>,
    other: Vec<f64>,
    rates: Vec<f64>,
    /// Face conductances `hm(ε m_D, ε' m_D')` towards the 6 neighbours (x−, x+, y−, y+, z−, z+)
    /// of the voxel's own level and neighbour index.
    faces: Vec<[(f64, usize); 6]>,
    /// Label of every voxel of every level (the problem's numbering).
    labels: Vec<TissueLabel>,
    /// Level of every voxel, and per level `1/h²` (1/mm²) and the voxel volume (mL).
    level: Vec<u8>,
    inv_h2: Vec<f64>,
    voxel_ml: Vec<f64>,
    /// Weight of each voxel in the regional statistics: its volume in level-0 voxels; blood
    /// counts at level 0 only (finer levels repeat it).
    weights: Vec<f64>,
    ledger: Vec<SpeciesLedger>,
    initial_amount: Vec<f64>,
    time: f64,
    /// Mean concentration at each depot after the last step, ng/mL.
    depot_conc: Vec<Vec<f64>>,
    /// Plasma ledger per species (empty until the first dynamic plasma step).
    plasma: Vec<PlasmaLedger>,
    /// Remote depots: cells and amount at the site per species, ng.
    remote: Vec<(f64, Vec<f64>)>,
    /// Heart → plasma exchange total at the last plasma step, ng per species.
    prev_exchange: Vec<f64>,
    /// The heart's inflow into plasma over the last step, ng/s per species (the prediction's).
    inflow: Vec<f64>,
    /// The plasma as the tissue reads it over the coming step, per species.
    course: Vec<PlasmaSteps>,
    /// Exposure per voxel (AUC, time above EC50), species-major; empty unless enabled.
    auc: Vec<f64>,
    above: Vec<f64>,
    occupancy: Vec<f64>,
    ec50: Vec<f64>,
    kd: Vec<f64>,
}

impl CpuReference {
    pub fn new(problem: &Problem) -> Result<Self> {
        problem.validate()?;
        let n = problem.voxel_count();
        let ns = problem.n_species();
        let kinetics = problem
            .species
            .species
            .iter()
            .map(|s| Kinetics {
                diffusion: s.diffusion.value,
                decay: s.decay_rate(),
                vmax: s.uptake_vmax.value,
                km: s.uptake_km.value,
                permeability: s.permeability.value,
            })
            .collect();
        let mut faces = vec![[(0.0, 0usize); 6]; n];
        let mut level = vec![0u8; n];
        let weights = problem.region_weights();
        let offsets = problem.level_offsets();
        let grids = problem.level_grids();
        for (k, grid) in grids.iter().enumerate() {
            let o = offsets[k];
            for (i, f) in faces[o..o + grid.voxel_count()].iter_mut().enumerate() {
                let l = grid.labels[i];
                level[o + i] = k as u8;
                let cand = grid.face_neighbours(i);
                for (slot, c) in f.iter_mut().zip(cand) {
                    if let Some(j) = c {
                        *slot = (problem.labels.face(l, grid.labels[j]), o + j);
                    }
                }
            }
        }
        let inv_h2 = grids
            .iter()
            .map(|g| 1.0 / (g.spacing * g.spacing))
            .collect();
        let voxel_ml = grids.iter().map(|g| g.voxel_ml()).collect();
        let labels = problem.all_labels();
        let rates = vec![0.0; ns * n];
        let cur: Vec<f64> = problem.initial.iter().map(|&v| v as f64).collect();
        let mut me = CpuReference {
            plan: problem.plan(),
            problem: problem.clone(),
            kinetics,
            other: vec![0.0; cur.len()],
            cur,
            rates,
            faces,
            labels,
            level,
            inv_h2,
            voxel_ml,
            weights,
            ledger: vec![SpeciesLedger::default(); ns],
            initial_amount: vec![0.0; ns],
            time: 0.0,
            depot_conc: Vec::new(),
            plasma: Vec::new(),
            remote: Vec::new(),
            prev_exchange: Vec::new(),
            inflow: Vec::new(),
            course: problem
                .plasma
                .iter()
                .map(|&c| PlasmaSteps::constant(c))
                .collect(),
            auc: vec![0.0; if problem.exposure { ns * n } else { 0 }],
            above: vec![0.0; if problem.exposure { ns * n } else { 0 }],
            occupancy: vec![0.0; if problem.exposure { ns * n } else { 0 }],
            ec50: problem
                .species
                .species
                .iter()
                .map(|s| s.ec50.value)
                .collect(),
            kd: problem.species.species.iter().map(|s| s.kd.value).collect(),
        };
        me.rebuild_rates();
        me.enforce_blood();
        me.initial_amount = me.amounts();
        if problem.compartment.dynamic {
            let ns = problem.n_species();
            me.plasma = vec![PlasmaLedger::default(); ns];
            me.remote = problem
                .compartment
                .remote
                .iter()
                .map(|d| (d.cells, d.amount.clone()))
                .collect();
            me.prev_exchange = vec![0.0; ns];
            me.inflow = vec![0.0; ns];
            me.predict_all();
        }
        Ok(me)
    }

    /// Blood voxels hold the plasma now, outside voxels zero (what the GPU reports for them).
    fn enforce_blood(&mut self) {
        let n = self.labels.len();
        for s in 0..self.problem.n_species() {
            for (v, l) in self.labels.iter().enumerate() {
                match l.kind() {
                    LabelKind::Blood => self.cur[s * n + v] = self.problem.plasma[s],
                    LabelKind::Outside => self.cur[s * n + v] = 0.0,
                    LabelKind::Tissue => {}
                }
            }
        }
    }

    pub fn plan(&self) -> &StagePlan {
        &self.plan
    }

    /// Simulated time, s.
    pub fn time(&self) -> f64 {
        self.time
    }

    /// Current fields, ng/mL, species-major.
    pub fn fields(&self) -> &[f64] {
        &self.cur
    }

    /// Amount in tissue voxels per species, ng (`Σ ε·c·ΔV`).
    pub fn amounts(&self) -> Vec<f64> {
        self.problem.tissue_amounts(&self.cur)
    }

    /// Exposure per voxel, species-major: AUC (ng·s/mL), time above EC50 (s) and the
    /// occupancy's integral (s); empty slices unless [`Problem::exposure`] is on.
    pub fn exposure(&self) -> crate::sim::readouts::ExposureView<'_> {
        crate::sim::readouts::ExposureView {
            auc: &self.auc,
            above: &self.above,
            occupancy: &self.occupancy,
        }
    }

    /// Statistics per region from the current fields and exposure (the host twin of
    /// `Simulation::region_stats`).
    pub fn region_stats(&self) -> Vec<crate::sim::RegionStat> {
        let exposure = self.problem.exposure.then_some(self.exposure());
        crate::sim::readouts::region_stats_weighted(
            &self.labels,
            &self.weights,
            &self.problem.segments,
            &self.cur,
            exposure,
            &self.ec50,
            &self.kd,
        )
    }

    /// Amount in tissue at the start, ng.
    pub fn initial_amounts(&self) -> &[f64] {
        &self.initial_amount
    }

    pub fn ledger(&self) -> Ledger {
        let amounts = self.amounts();
        Ledger {
            species: self
                .ledger
                .iter()
                .zip(amounts)
                .map(|(l, a)| SpeciesLedger { in_tissue: a, ..*l })
                .collect(),
        }
    }

    fn react_all(&mut self, tau: f64) {
        let n = self.labels.len();
        for s in 0..self.problem.n_species() {
            let k = self.kinetics[s];
            let cp = self.course[s].lead;
            let mut acc = [0.0; 4];
            for v in 0..n {
                let l = self.labels[v];
                if !l.is_tissue() {
                    continue;
                }
                let m = self.problem.labels.get(l);
                let eps = m.volume_fraction;
                let vol = self.voxel_ml[self.level[v] as usize];
                let i = s * n + v;
                let terms = self.problem.terms;
                let source = if terms.sources && stiff(&k, m.uptake, m.perfusion, tau, terms) {
                    self.rates[i]
                } else {
                    0.0
                };
                let c0 = self.cur[i];
                let r = react(c0, tau, &k, m.uptake, m.perfusion, cp, source, terms);
                self.cur[i] = r.c;
                if self.problem.exposure {
                    self.auc[i] += r.integral;
                    self.above[i] += time_above(c0, r.c, self.ec50[s], tau);
                    self.occupancy[i] += occupancy_integral(r.integral, tau, self.kd[s]);
                }
                // Amounts: ε·ΔV times the change of c.
                for (a, b) in acc.iter_mut().zip(r.terms) {
                    *a += eps * vol * b;
                }
            }
            self.add_reaction(s, acc, 1.0);
        }
    }

    fn add_reaction(&mut self, s: usize, acc: [f64; 4], vol: f64) {
        let l = &mut self.ledger[s];
        l.secreted += acc[0] * vol;
        l.degraded += acc[1] * vol;
        l.taken_up += acc[2] * vol;
        l.to_plasma_capillary += acc[3] * vol;
    }

    /// One RKL1 stage `j` (0-based), `cur` = Y_{j−1}, `other` = Y_{j−2} → Y_j in `other`,
    /// followed by `reactions` reaction half-steps.
    fn stage(&mut self, j: usize, reactions: usize) {
        let n = self.labels.len();
        let (nu, mt, beta) = (
            self.plan.nu[j],
            self.plan.mu_tilde_dt[j],
            self.plan.beta_dt[j],
        );
        let tau = 0.5 * self.plan.dt;
        for s in 0..self.problem.n_species() {
            let k = self.kinetics[s];
            // Blood faces see the plasma's mean over the step; the trailing half-step its second
            // half, the fused next one the next step's first. (Blood voxels take the plasma
            // once the step has advanced it.)
            let pc = self.course[s];
            let cp = pc.step_mean;
            let d = if self.problem.terms.diffusion {
                k.diffusion
            } else {
                0.0
            };
            let between = self.between_levels(s, d);
            let mut acc = [0.0; 4];
            let mut blood_out = 0.0;
            for (v, &between) in between.iter().enumerate() {
                let l = self.labels[v];
                let i = s * n + v;
                let out = match l.kind() {
                    LabelKind::Outside => 0.0,
                    LabelKind::Blood => self.cur[i],
                    LabelKind::Tissue => {
                        let c = self.cur[i];
                        let mut flux = 0.0;
                        let mut blood = 0.0;
                        for &(g, nb) in &self.faces[v] {
                            if g == 0.0 {
                                continue;
                            }
                            let ln = self.labels[nb];
                            if ln.kind() == LabelKind::Blood {
                                flux += g * (cp - c);
                                blood += g * (cp - c);
                            } else {
                                flux += g * (self.cur[s * n + nb] - c);
                            }
                        }
                        let m = self.problem.labels.get(l);
                        let eps = m.volume_fraction;
                        let level = self.level[v] as usize;
                        let vol = self.voxel_ml[level];
                        let d = d * self.inv_h2[level];
                        let terms = self.problem.terms;
                        let in_react = stiff(&k, m.uptake, m.perfusion, tau, terms);
                        let rate = if terms.sources { self.rates[i] } else { 0.0 };
                        let (secretion, source) = if in_react { (0.0, rate) } else { (rate, 0.0) };
                        // The face fluxes are amounts per voxel volume; c changes by them over
                        // the interstitial fraction.
                        // mu_j c + nu_j old with mu_j = 1 − nu_j, as the kernel writes it.
                        let mut y = c + mt * ((d * flux + between) / eps + secretion);
                        if nu != 0.0 {
                            y += nu * (self.other[i] - c);
                        }
                        blood_out -= beta * d * blood * vol;
                        acc[0] += beta * secretion * eps * vol;
                        for cp in [pc.trail, pc.next].into_iter().take(reactions) {
                            let r = react(y, tau, &k, m.uptake, m.perfusion, cp, source, terms);
                            if self.problem.exposure {
                                self.auc[i] += r.integral;
                                self.above[i] += time_above(y, r.c, self.ec50[s], tau);
                                self.occupancy[i] +=
                                    occupancy_integral(r.integral, tau, self.kd[s]);
                            }
                            y = r.c;
                            for (a, b) in acc.iter_mut().zip(r.terms) {
                                *a += eps * vol * b;
                            }
                        }
                        y
                    }
                };
                self.other[i] = out;
            }
            self.add_reaction(s, acc, 1.0);
            self.ledger[s].to_blood_faces += blood_out;
        }
        std::mem::swap(&mut self.cur, &mut self.other);
    }

    /// The fluxes between levels of species `s` with diffusivity `d` (mm²/s) from the current
    /// fields, per voxel, ng/mL/s of voxel volume (zero without levels): each face's flux into
    /// its fine voxel and out of its coarse one.
    fn between_levels(&self, s: usize, d: f64) -> Vec<f64> {
        let n = self.labels.len();
        let mut out = vec![0.0; n];
        let Some(levels) = &self.problem.levels else {
            return out;
        };
        if d == 0.0 {
            return out;
        }
        let c = &self.cur[s * n..(s + 1) * n];
        for f in &levels.faces {
            // mm³/s · ng/mL
            let flux = d * f.conductance * f.stencil.iter().map(|&(v, w)| w * c[v]).sum::<f64>();
            let mm3 = |v: usize| self.voxel_ml[self.level[v] as usize] * 1e3;
            out[f.fine] += flux / mm3(f.fine);
            out[f.coarse] -= flux / mm3(f.coarse);
        }
        out
    }

    /// Advances `steps` time steps. As on the GPU, the trailing reaction half-step of a step
    /// and the leading one of the next are applied in the same stage, one after the other
    /// (so the depots and the plasma see the fields after the next leading half-step); on a
    /// refined problem, as on the GPU, each step has its own leading half-step.
    pub fn step(&mut self, steps: usize) {
        let stages = self.plan.stages();
        let fuse = self.problem.levels.is_none();
        for k in 0..steps {
            if k == 0 || !fuse {
                self.react_all(0.5 * self.plan.dt);
            }
            for j in 0..stages {
                let last = j + 1 == stages;
                let reactions = match (last, fuse && k + 1 < steps) {
                    (false, _) => 0,
                    (true, false) => 1,
                    (true, true) => 2,
                };
                self.stage(j, reactions);
            }
            self.update_depots();
            self.update_plasma();
            // Blood voxels hold the plasma now (the GPU does not store them: it reports the
            // plasma there).
            self.enforce_blood();
            self.time += self.plan.dt;
        }
    }

    /// The autocrine step, as `depot_sample.wgsl` and `depot_update.wgsl` do it: each depot's
    /// weighted mean concentration, then its cells `N ← N exp(−k_death (1 − f) dt)`.
    fn update_depots(&mut self) {
        if self.problem.depots.is_empty() {
            return;
        }
        let n = self.labels.len();
        let ns = self.problem.n_species();
        let dt = self.plan.dt;
        let conc: Vec<Vec<f64>> = self
            .problem
            .depots
            .iter()
            .map(|d| {
                (0..ns)
                    .map(|s| d.voxels.iter().map(|&(v, w)| w * self.cur[s * n + v]).sum())
                    .collect()
            })
            .collect();
        for (d, c) in self.problem.depots.iter_mut().zip(&conc) {
            let f = self.problem.autocrine.protection(c);
            d.cells *= (-d.k_death * (1.0 - f) * dt).exp();
        }
        self.depot_conc = conc;
        self.rebuild_rates();
    }

    /// Cells in each depot now.
    pub fn depot_cells(&self) -> Vec<f64> {
        self.problem.depots.iter().map(|d| d.cells).collect()
    }

    /// Mean concentration at each depot after the last step, ng/mL (`[depot][species]`).
    pub fn depot_concentrations(&self) -> &[Vec<f64>] {
        &self.depot_conc
    }

    /// Replaces the autocrine parameters.
    pub fn set_autocrine(&mut self, a: &crate::problem::Autocrine) -> Result<()> {
        self.problem.validate_autocrine(a)?;
        self.problem.autocrine = a.clone();
        Ok(())
    }

    /// Sets the plasma concentration of every species (ng/mL); blood voxels follow.
    pub fn set_plasma(&mut self, plasma: &[f64]) -> Result<()> {
        self.problem.validate_plasma(plasma)?;
        self.problem.plasma = plasma.to_vec();
        let v = self.problem.compartment.volume_ml;
        for (p, &c) in self.plasma.iter_mut().zip(plasma) {
            p.concentration = c;
            p.in_plasma = c * v;
        }
        self.enforce_blood();
        self.predict_all();
        Ok(())
    }

    /// Replaces the source map (secretion per voxel, ng/mL/s).
    pub fn set_sources(&mut self, sources: &SourceMap) -> Result<()> {
        self.problem.validate_sources(sources)?;
        self.problem.sources = sources.clone();
        self.rebuild_rates();
        Ok(())
    }

    /// Replaces the depots.
    pub fn set_depots(&mut self, depots: &[crate::problem::DepotSource]) -> Result<()> {
        self.problem.validate_depots(depots)?;
        self.problem.depots = depots.to_vec();
        self.rebuild_rates();
        // As the GPU, which writes the compartments afresh.
        self.predict_all();
        Ok(())
    }

    /// Sets every depot's cell count.
    pub fn set_depot_cells(&mut self, cells: &[f64]) -> Result<()> {
        if cells.len() != self.problem.depots.len() {
            return Err(SimError::Problem(format!(
                "{} cell counts for {} depots",
                cells.len(),
                self.problem.depots.len()
            )));
        }
        for (d, &c) in self.problem.depots.iter_mut().zip(cells) {
            d.cells = c;
        }
        self.rebuild_rates();
        Ok(())
    }

    /// Secretion rate per voxel and species (ng/mL/s): every source entry times its group's
    /// scale, summed in entry order as the GPU does.
    fn rebuild_rates(&mut self) {
        let n = self.labels.len();
        self.rates.iter_mut().for_each(|r| *r = 0.0);
        let scales = self.problem.depot_scales();
        for (&v, list) in &self.problem.source_entries() {
            for e in list {
                for (s, &rate) in e.rates.iter().enumerate() {
                    self.rates[s * n + v] += scales[e.depot] * rate;
                }
            }
        }
    }

    /// Label of a voxel (for tests).
    pub fn label(&self, v: usize) -> TissueLabel {
        self.labels[v]
    }
}
