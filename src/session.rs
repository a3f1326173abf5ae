//! A steering session: the viewer's hold on a running `Simulation` (the same solver and
//! kernels as `secretome run`). Depots are placed, moved, resized and deleted while it runs;
//! each change takes effect at the next step, and the other depots keep their live cell counts.

use crate::error::{Result, SimError};
use crate::problem::build::{Built, Event};
use crate::problem::depot::{place, place_on_levels, Spread};
use crate::problem::refinement::{DepotSite, Refinement};
use crate::problem::route::K_DEATH_HEART;
use crate::problem::{DepotSource, Problem};
use crate::sim::Schedule;
use crate::sim::Simulation;
use crate::GpuContext;

/// A depot placed by the user: where, how big, how many cells at placement.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedDepot {
    pub name: String,
    /// Centre, mm.
    pub at: [f64; 3],
    pub radius_mm: f64,
    pub cells: f64,
}

/// A running simulation and the depots steered in it.
pub struct Session {
    sim: Simulation,
    problem: Problem,
    /// Depots of the scenario, then those placed here, in the solver's order.
    depots: Vec<DepotSource>,
    /// The scenario's later injections, and how many have happened.
    schedule: Schedule,
    /// For each depot, its index in the scenario's list (`None`: placed here), so that a
    /// later injection reaches its depots after others were placed or deleted.
    scenario_index: Vec<Option<usize>>,
    /// A refined scenario's refinement, which follows the depots ([`Session::regrid`]).
    levels: Option<SessionLevels>,
}

/// What a refined session needs to refine again around its depots.
struct SessionLevels {
    refinement: Refinement,
    /// Per depot: the site it was placed at (`None`: spread by perfusion), and its shares of
    /// the coarse voxels.
    sites: Vec<Option<DepotSite>>,
    coarse_voxels: Vec<Vec<(usize, f64)>>,
    /// The depots changed since the last refinement.
    pending: bool,
    /// Refinements since the start.
    generation: u64,
}

impl Session {
    pub fn new(ctx: &GpuContext, built: &Built) -> Result<Session> {
        let sim = Simulation::new(ctx, &built.problem)?;
        Ok(Session {
            schedule: Schedule::new(built.events.clone()),
            scenario_index: (0..built.problem.depots.len()).map(Some).collect(),
            depots: built.problem.depots.clone(),
            problem: built.problem.clone(),
            sim,
            levels: built.refinement.as_ref().map(|r| SessionLevels {
                sites: r.sites.clone(),
                coarse_voxels: r.coarse.depots.iter().map(|d| d.voxels.clone()).collect(),
                refinement: r.clone(),
                pending: false,
                generation: 0,
            }),
        })
    }

    /// On a refined scenario, after depots were placed, moved, resized or deleted: refines
    /// the coarse problem again around the depots as they are and carries the run onto it
    /// ([`Simulation::carried_onto`]: fields and exposure averaged onto the new leaves, the
    /// compartments, ledger, step and time as they are). Returns whether it did; a window
    /// then draws from the new levels ([`Session::refinements`] counts them).
    pub fn regrid(&mut self, ctx: &GpuContext) -> Result<bool> {
        match self.regrid_target()? {
            Some(to) => self.regrid_onto(ctx, &to).map(|()| true),
            None => Ok(false),
        }
    }

    /// The first half of [`Session::regrid`]: the coarse problem refined again around the
    /// depots as they are (`None` where there is nothing to follow).
    pub fn regrid_target(&self) -> Result<Option<Problem>> {
        let Some(l) = &self.levels else {
            return Ok(None);
        };
        if !l.pending {
            return Ok(None);
        }
        let coarse: Vec<DepotSource> = self
            .depots
            .iter()
            .zip(&l.coarse_voxels)
            .map(|(d, v)| DepotSource {
                voxels: v.clone(),
                ..d.clone()
            })
            .collect();
        let mut to = l.refinement.refine(&coarse, &l.sites)?;
        // What was switched while running stays switched.
        let now = self.sim.problem();
        to.species = self.problem.species.clone();
        to.terms = now.terms;
        to.autocrine = now.autocrine.clone();
        to.dt = now.dt;
        Ok(Some(to))
    }

    /// The second half of [`Session::regrid`]: the run carried onto `to` (from
    /// [`Session::regrid_target`]). It only reads the GPU until it succeeds, so the browser
    /// can run it again until every read is answered (`gpu::web::Replay`).
    pub fn regrid_onto(&mut self, ctx: &GpuContext, to: &Problem) -> Result<()> {
        let sim = self.sim.carried_onto(ctx, to)?;
        if let Some(l) = &mut self.levels {
            l.pending = false;
            l.generation += 1;
        }
        self.depots = sim.problem().depots.clone();
        self.problem = to.clone();
        self.sim = sim;
        Ok(())
    }

    /// Whether depots changed since the refinement last followed them.
    pub fn regrid_pending(&self) -> bool {
        self.levels.as_ref().is_some_and(|l| l.pending)
    }

    /// How many times the refinement has followed the depots (0 without levels).
    pub fn refinements(&self) -> u64 {
        self.levels.as_ref().map_or(0, |l| l.generation)
    }

    /// Records a depot's site and coarse shares for the next refinement (`None`: removed).
    fn note_site(&mut self, i: usize, d: Option<&PlacedDepot>) -> Result<()> {
        let Some(l) = &mut self.levels else {
            return Ok(());
        };
        match d {
            Some(d) => {
                let site = DepotSite {
                    centre: d.at,
                    radius_mm: d.radius_mm,
                    spread: Spread::Sphere,
                };
                let coarse = place(
                    &l.refinement.coarse.grid,
                    d.at,
                    d.radius_mm,
                    Spread::Sphere,
                    &d.name,
                )?;
                if i < l.sites.len() {
                    l.sites[i] = Some(site);
                    l.coarse_voxels[i] = coarse;
                } else {
                    l.sites.push(Some(site));
                    l.coarse_voxels.push(coarse);
                }
            }
            None => {
                if i < l.sites.len() {
                    l.sites.remove(i);
                    l.coarse_voxels.remove(i);
                }
            }
        }
        l.pending = true;
        Ok(())
    }

    pub fn simulation(&self) -> &Simulation {
        &self.sim
    }

    /// The solver, for switches that do not change the depots (terms, autocrine, species).
    pub fn simulation_mut(&mut self) -> &mut Simulation {
        &mut self.sim
    }

    /// The problem as the session started it (grid, labels, species at the start).
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    pub fn depots(&self) -> &[DepotSource] {
        &self.depots
    }

    /// The depot list with every depot's live cell count, sent to the solver.
    fn upload(&mut self, live: Vec<f64>) -> Result<()> {
        for (d, c) in self.depots.iter_mut().zip(live) {
            d.cells = c;
        }
        self.sim.set_depots(&self.depots)
    }

    fn source(&self, d: &PlacedDepot) -> Result<DepotSource> {
        // On a refined problem, the sphere's shares of the leaves (the refinement stays where
        // the scenario put it).
        let voxels = place_on_levels(&self.problem, d.at, d.radius_mm, Spread::Sphere, &d.name)?;
        Ok(DepotSource {
            name: d.name.clone(),
            voxels,
            cells: d.cells,
            secretion: self
                .problem
                .species
                .species
                .iter()
                .map(|s| s.secretion.value)
                .collect(),
            k_death: K_DEATH_HEART,
            cell_free: false,
        })
    }

    /// Places a depot of MSCs (the species table's secretion, the heart's death rate); returns
    /// its index. Refused, with the reason, where the sphere holds no tissue.
    pub fn place_depot(&mut self, d: &PlacedDepot) -> Result<usize> {
        let src = self.source(d)?;
        let live = self.sim.depot_cells()?;
        self.note_site(self.depots.len(), Some(d))?;
        self.depots.push(src);
        self.scenario_index.push(None);
        let mut cells = live;
        cells.push(d.cells);
        self.upload(cells)?;
        Ok(self.depots.len() - 1)
    }

    /// Moves or resizes depot `i` (its cells stay as they are now).
    pub fn move_depot(&mut self, i: usize, at: [f64; 3], radius_mm: f64) -> Result<()> {
        let live = self.sim.depot_cells()?;
        let d = self
            .depots
            .get(i)
            .ok_or_else(|| missing(i, self.depots.len()))?;
        let placed = PlacedDepot {
            name: d.name.clone(),
            at,
            radius_mm,
            cells: live[i],
        };
        self.depots[i] = self.source(&placed)?;
        self.note_site(i, Some(&placed))?;
        self.upload(live)
    }

    /// Sets the cells of depot `i` now.
    pub fn set_cells(&mut self, i: usize, cells: f64) -> Result<()> {
        let mut live = self.sim.depot_cells()?;
        if i >= live.len() {
            return Err(missing(i, live.len()));
        }
        live[i] = cells;
        self.sim.set_depot_cells(&live)
    }

    /// Deletes depot `i`; its secretion stops at the next step.
    pub fn delete_depot(&mut self, i: usize) -> Result<()> {
        let mut live = self.sim.depot_cells()?;
        if i >= live.len() {
            return Err(missing(i, live.len()));
        }
        live.remove(i);
        self.depots.remove(i);
        self.scenario_index.remove(i);
        self.note_site(i, None)?;
        self.upload(live)
    }

    pub fn step(&mut self, steps: usize) {
        self.sim.step(steps);
    }

    /// Advances `steps` steps, giving the scenario's later injections their cells at their
    /// step (as `secretome run` does). Depots deleted here are not brought back by them.
    pub fn advance(&mut self, steps: u64) -> Result<()> {
        let end = self.sim.steps_taken() + steps;
        while self.sim.steps_taken() < end {
            let now = self.sim.steps_taken();
            let next = self.schedule.stop_before(now, end);
            if next > now {
                self.sim.step((next - now) as usize);
            }
            for e in self.schedule.take_due(self.sim.steps_taken()) {
                self.apply_event(&e)?;
            }
        }
        Ok(())
    }

    /// A later injection: its depots (those not deleted here) get their cells.
    fn apply_event(&mut self, e: &Event) -> Result<()> {
        let mine: Vec<(usize, f64)> = e
            .depots
            .iter()
            .filter_map(|&(d, c)| {
                self.scenario_index
                    .iter()
                    .position(|&o| o == Some(d))
                    .map(|i| (i, c))
            })
            .collect();
        if !mine.is_empty() {
            let mut cells = self.sim.depot_cells()?;
            for (i, c) in mine {
                cells[i] = c;
            }
            self.sim.set_depot_cells(&cells)?;
        }
        for &(d, c) in &e.remote {
            self.sim.set_remote_cells(d, c)?;
        }
        Ok(())
    }

    /// Scales the secretion of species `s` by every depot (the species' secretion per cell
    /// changed to `per_cell`, ng/cell/s); takes effect at the next step.
    pub fn set_secretion(&mut self, s: usize, per_cell: f64) -> Result<()> {
        let old = self.problem.species.species[s].secretion.value;
        if !(per_cell >= 0.0 && per_cell.is_finite()) {
            return Err(SimError::Problem(format!(
                "secretion {per_cell}: expected a rate ≥ 0"
            )));
        }
        let ratio = if old > 0.0 { per_cell / old } else { 0.0 };
        self.problem.species.species[s].secretion.value = per_cell;
        let live = self.sim.depot_cells()?;
        for d in self.depots.iter_mut().filter(|d| !d.cell_free) {
            d.secretion[s] = if old > 0.0 {
                d.secretion[s] * ratio
            } else {
                per_cell
            };
        }
        self.upload(live)
    }

    /// Replaces the species' transport parameters (everything but secretion, which
    /// [`Session::set_secretion`] changes) from the next step on.
    pub fn set_species(&mut self, table: &crate::base::SpeciesTable) -> Result<()> {
        self.sim.set_species(table)?;
        for (mine, new) in self.problem.species.species.iter_mut().zip(&table.species) {
            let secretion = mine.secretion.clone();
            *mine = new.clone();
            mine.secretion = secretion;
        }
        Ok(())
    }

    /// Concentration of species `s` at a point, ng/mL (a readback: for probes and tests, not
    /// for the frame loop).
    pub fn concentration_at(&self, at: [f64; 3], s: usize) -> Result<f64> {
        // The finest voxel there (the level-0 voxel without levels).
        let Some(v) = self.problem.voxel_at(at) else {
            return Err(SimError::Problem(format!("{at:?} mm is outside the grid")));
        };
        let f = self.sim.read_fields()?;
        Ok(f[s * self.problem.voxel_count() + v] as f64)
    }
}

fn missing(i: usize, n: usize) -> SimError {
    SimError::Problem(format!("depot {i}: there are {n} depots"))
}
