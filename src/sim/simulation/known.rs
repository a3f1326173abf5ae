//! In the browser, the depots' cells and the plasma as the host last knew them.
//!
//! Steering a depot (placing, moving, resizing, deleting it, a later injection, a new
//! secretion rate) re-uploads every depot's cells and, with dynamic plasma, the plasma. On a
//! desktop those are read back first; a web page may not wait for a readback. There the
//! edits start from the values of the viewer's last snapshot, or of the last upload if it is
//! newer: at most the steps since that snapshot old (the viewer asks for one about twice a
//! second), in which cells die k_death·Δt ≈ 1.6e-4 of themselves per 60 s step in the heart.

use super::*;

#[derive(Default)]
pub(super) struct Known {
    /// Bumped at every upload of the depots: a snapshot requested before it is older than
    /// what the host holds.
    pub(super) generation: u64,
    pub(super) depot_cells: Vec<f64>,
    pub(super) plasma: Vec<f64>,
}

impl Known {
    pub(super) fn of(problem: &Problem) -> Known {
        Known {
            generation: 0,
            depot_cells: problem.depots.iter().map(|d| d.cells).collect(),
            plasma: problem.plasma.clone(),
        }
    }
}

impl Simulation {
    pub(super) fn known_generation(&self) -> u64 {
        self.known.lock().map_or(0, |k| k.generation)
    }

    /// Records what the host just uploaded (cells; plasma where it is given).
    pub(super) fn uploaded(&self, cells: Vec<f64>, plasma: Option<Vec<f64>>) {
        if let Ok(mut k) = self.known.lock() {
            k.generation += 1;
            k.depot_cells = cells;
            if let Some(p) = plasma {
                k.plasma = p;
            }
        }
    }

    /// Records a snapshot's values, unless an upload came after its request.
    pub(super) fn snapshot_taken(&self, generation: u64, cells: &[f64], plasma: &[f64]) {
        if let Ok(mut k) = self.known.lock() {
            if k.generation == generation {
                k.depot_cells = cells.to_vec();
                k.plasma = plasma.to_vec();
            }
        }
    }

    /// The depots' cells as last known, where they are known for every depot.
    pub(super) fn known_cells(&self) -> Option<Vec<f64>> {
        let k = self.known.lock().ok()?;
        (k.depot_cells.len() == self.problem.depots.len()).then(|| k.depot_cells.clone())
    }

    /// The plasma as last known, where it is known for every species.
    pub(super) fn known_plasma(&self) -> Option<Vec<f64>> {
        let k = self.known.lock().ok()?;
        (k.plasma.len() == self.n_species).then(|| k.plasma.clone())
    }
}
