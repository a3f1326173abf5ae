//! The CPU twin's plasma compartment and remote depots (as `plasma_update.wgsl`): the step
//! advanced with the heart's actual exchange, the coming step's course predicted.

use super::CpuReference;
use crate::error::Result;
use crate::sim::compartments::{course, Compartments, PlasmaSteps};
use crate::sim::ledger::PlasmaLedger;

impl CpuReference {
    /// The plasma step, as `plasma_update.wgsl` does it (see there for the equations): plasma
    /// and remote sites advanced over the step with the heart's actual exchange, then the
    /// coming step's course predicted.
    #[allow(clippy::needless_range_loop)] // several per-species arrays side by side
    pub(super) fn update_plasma(&mut self) {
        if !self.problem.compartment.dynamic {
            return;
        }
        let ns = self.problem.n_species();
        let dt = self.plan.dt;
        let phi = |x: f64| course::phi(x, dt);
        let ledger = self.ledger();
        let c = self.problem.compartment.clone();
        let mut heart = vec![0.0; ns];
        for s in 0..ns {
            let total = ledger.species[s].net_exchange();
            heart[s] = total - self.prev_exchange[s];
            self.prev_exchange[s] = total;
            self.inflow[s] = heart[s] / dt;
        }
        let mut gain = vec![0.0; ns];
        let mut absorbed = vec![0.0; ns];
        let ke = self.clearance_rates();
        for (d, (cells, amount)) in c.remote.iter().zip(self.remote.iter_mut()) {
            let mut local = vec![0.0; ns];
            for s in 0..ns {
                let a0 = amount[s];
                let r = *cells * d.secretion[s];
                let a = d.k_abs + d.k_local[s];
                let (a1, integral, conv) = if a > 0.0 {
                    let pa = phi(a);
                    let decay = (-a * dt).exp();
                    let a_inf = r / a;
                    (
                        a0 * decay + r * pa,
                        a0 * pa + (r * dt - r * pa) / a,
                        a_inf * phi(ke[s]) + (a0 - a_inf) * course::response(a, ke[s], dt),
                    )
                } else {
                    (a0 + r * dt, a0 * dt + 0.5 * r * dt * dt, 0.0)
                };
                let taken = d.bioavailability * d.k_abs * integral;
                gain[s] += d.bioavailability * d.k_abs * conv;
                absorbed[s] += taken;
                amount[s] = a1;
                self.plasma[s].remote_secreted += r * dt;
                self.plasma[s].remote_lost += (a0 + r * dt - a1) - taken;
                local[s] = a1 / d.volume_ml;
            }
            let f = self.problem.autocrine.protection(&local);
            *cells *= (-d.k_death * (1.0 - f) * dt).exp();
        }
        let v = c.volume_ml;
        let mut plasma = self.problem.plasma.clone();
        for s in 0..ns {
            let c0 = plasma[s];
            let c1 =
                (c0 * (-ke[s] * dt).exp() + (heart[s] / dt * phi(ke[s]) + gain[s]) / v).max(0.0);
            plasma[s] = c1;
            let p = &mut self.plasma[s];
            p.cleared += v * c0 + heart[s] + absorbed[s] - v * c1;
            p.absorbed += absorbed[s];
            p.concentration = c1;
            p.in_plasma = v * c1;
            p.at_remote_sites = self.remote.iter().map(|r| r.1[s]).sum();
        }
        self.problem.plasma = plasma;
        for s in 0..ns {
            // The first half of the coming step was predicted one step ago (as `next`).
            let lead = self.course[s].next;
            self.course[s] = self.predict(s, ke[s], Some(lead));
        }
    }

    /// Plasma clearance rate k_e of every species, 1/s.
    fn clearance_rates(&self) -> Vec<f64> {
        self.problem
            .species
            .species
            .iter()
            .map(|sp| sp.plasma_clearance_rate())
            .collect()
    }

    /// Plasma of species `s` at time `t` after now, predicted from the plasma and remote sites
    /// now with the heart's inflow held at its last rate (`plasma_at` in plasma_update.wgsl).
    fn plasma_at(&self, s: usize, ke: f64, t: f64) -> f64 {
        let c = &self.problem.compartment;
        let pe = course::phi(ke, t);
        let mut gain = self.inflow[s] * pe;
        for (d, (cells, amount)) in c.remote.iter().zip(&self.remote) {
            let a = d.k_abs + d.k_local[s];
            if a > 0.0 {
                let a_inf = cells * d.secretion[s] / a;
                gain += d.bioavailability
                    * d.k_abs
                    * (a_inf * pe + (amount[s] - a_inf) * course::response(a, ke, t));
            }
        }
        self.problem.plasma[s] * (-ke * t).exp() + gain / c.volume_ml
    }

    /// The coming step's course of species `s` (`predict` in plasma_update.wgsl): `ke` is its
    /// clearance rate (1/s), `lead` its first half's mean when that was predicted before.
    fn predict(&self, s: usize, ke: f64, lead: Option<f64>) -> PlasmaSteps {
        let tau = 0.5 * self.plan.dt;
        let mean = |s0: f64| course::mean(|t| self.plasma_at(s, ke, t), s0, tau);
        let lead = lead.unwrap_or_else(|| mean(0.0));
        let trail = mean(tau);
        PlasmaSteps {
            now: self.problem.plasma[s],
            step_mean: 0.5 * (lead + trail),
            step_end: self.plasma_at(s, ke, self.plan.dt),
            lead,
            trail,
            next: mean(2.0 * tau),
        }
    }

    /// Dynamic plasma: the coming step's course afresh (after the plasma or a remote site was
    /// set); fixed plasma: its values.
    pub(super) fn predict_all(&mut self) {
        let ke = self.clearance_rates();
        self.course = (0..self.problem.n_species())
            .map(|s| {
                if self.problem.compartment.dynamic {
                    self.predict(s, ke[s], None)
                } else {
                    PlasmaSteps::constant(self.problem.plasma[s])
                }
            })
            .collect();
    }

    /// Everything in the compartments (as [`crate::sim::Simulation::compartments`]).
    pub fn compartments(&self) -> Compartments {
        let (_, remote_cells) = self.plasma_state();
        Compartments {
            plasma: self.course.clone(),
            depot_cells: self.depot_cells(),
            depot_concentrations: self.depot_conc.clone(),
            remote_cells,
            remote_amounts: if self.problem.compartment.dynamic {
                self.remote.iter().map(|r| r.1.clone()).collect()
            } else {
                self.problem
                    .compartment
                    .remote
                    .iter()
                    .map(|d| d.amount.clone())
                    .collect()
            },
        }
    }

    /// Plasma and remote sites per species, and the remote depots' cells.
    pub fn plasma_state(&self) -> (Vec<PlasmaLedger>, Vec<f64>) {
        let ns = self.problem.n_species();
        let c = &self.problem.compartment;
        if self.plasma.len() != ns {
            let out = (0..ns)
                .map(|s| PlasmaLedger {
                    concentration: self.problem.plasma[s],
                    in_plasma: self.problem.plasma[s] * c.volume_ml,
                    at_remote_sites: c.remote.iter().map(|d| d.amount[s]).sum(),
                    ..Default::default()
                })
                .collect();
            return (out, c.remote.iter().map(|d| d.cells).collect());
        }
        (
            self.plasma.clone(),
            self.remote.iter().map(|r| r.0).collect(),
        )
    }

    /// Sets the cells of remote depot `d` from the next step on (as `Simulation`).
    pub fn set_remote_cells(&mut self, d: usize, cells: f64) -> Result<()> {
        self.problem.validate_remote_cells(d, cells)?;
        self.problem.compartment.remote[d].cells = cells;
        if let Some(r) = self.remote.get_mut(d) {
            r.0 = cells;
        }
        self.predict_all();
        Ok(())
    }
}
