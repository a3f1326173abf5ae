//! Checkpoint state: the buffers that hold a run, saved and restored bit for bit.

use super::*;

/// A running simulation's state, as saved by [`Simulation::save_state`].
#[derive(Clone, Debug, PartialEq)]
pub struct SimState {
    /// Steps taken.
    pub steps: u64,
    /// Simulated time, s.
    pub time: f64,
    /// Amount in tissue at the start, ng per species (the ledger's reference).
    pub initial_amount: Vec<f64>,
    /// Raw bytes of the state buffers.
    pub buffers: Vec<Vec<u8>>,
}

impl SimState {
    /// Format 4: the brick grid's buffers (tissue voxels only, since issue 16).
    const MAGIC: &'static [u8; 16] = b"SECRETOME-STATE4";

    /// Serialises the state (little-endian; the buffers as they are).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(Self::MAGIC);
        out.extend_from_slice(&self.steps.to_le_bytes());
        out.extend_from_slice(&self.time.to_le_bytes());
        out.extend_from_slice(&(self.initial_amount.len() as u64).to_le_bytes());
        for a in &self.initial_amount {
            out.extend_from_slice(&a.to_le_bytes());
        }
        out.extend_from_slice(&(self.buffers.len() as u64).to_le_bytes());
        for b in &self.buffers {
            out.extend_from_slice(&(b.len() as u64).to_le_bytes());
            out.extend_from_slice(b);
        }
        out
    }

    /// Reads what [`SimState::to_bytes`] wrote; `None` if the bytes are not such a state.
    pub fn from_bytes(bytes: &[u8]) -> Option<SimState> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Option<&[u8]> {
            let s = bytes.get(at..at.checked_add(n)?)?;
            at += n;
            Some(s)
        };
        if take(16)? != Self::MAGIC {
            return None;
        }
        let u64_of = |t: &[u8]| -> Option<u64> { Some(u64::from_le_bytes(t.try_into().ok()?)) };
        let steps = u64_of(take(8)?)?;
        let time = f64::from_le_bytes(take(8)?.try_into().ok()?);
        let ns = u64_of(take(8)?)? as usize;
        let mut initial_amount = Vec::new();
        for _ in 0..ns.min(1 << 16) {
            initial_amount.push(f64::from_le_bytes(take(8)?.try_into().ok()?));
        }
        let nb = u64_of(take(8)?)? as usize;
        let mut buffers = Vec::new();
        for _ in 0..nb.min(1 << 20) {
            let len = u64_of(take(8)?)? as usize;
            buffers.push(take(len)?.to_vec());
        }
        Some(SimState {
            steps,
            time,
            initial_amount,
            buffers,
        })
    }
}

impl Simulation {
    /// The GPU buffers that hold the run's state, in a fixed order: every slab's current
    /// fields and exposure, the ledger slots, the compartments (plasma, depot cells), and the
    /// plasma kernel's remote sites and running totals.
    pub(super) fn state_buffers(&self) -> Vec<&wgpu::Buffer> {
        let mut out: Vec<&wgpu::Buffer> = Vec::new();
        for slab in &self.slabs {
            out.push(&slab.fields[self.cur]);
            out.push(&slab.exposure);
        }
        out.push(&self.ledger_buf);
        out.push(&self.plasma_buf);
        out.extend(self.depot_kernels.cells_buf.iter());
        let pk = &self.plasma_kernel;
        out.extend(pk.remote_buf.iter());
        out.extend(pk.state_buf.iter());
        out
    }

    /// Everything needed to continue this run later with [`Simulation::restore_state`]: the
    /// state buffers' bytes, the step count and time, and the initial amounts. Continuing
    /// from it gives the same fields, readouts and ledger, bit for bit, as not stopping.
    pub fn save_state(&self) -> Result<SimState> {
        self.errors.check()?;
        let buffers = self
            .state_buffers()
            .into_iter()
            .map(|b| read_buffer(&self.device, &self.queue, b, 0, b.size()))
            .collect::<Result<Vec<_>>>()?;
        Ok(SimState {
            steps: self.steps,
            time: self.time,
            initial_amount: self.initial_amount.clone(),
            buffers,
        })
    }

    /// Continues from a state saved by [`Simulation::save_state`] of a simulation built from the
    /// same problem (same grid, species, depots and remote sites; checked by buffer sizes).
    pub fn restore_state(&mut self, state: &SimState) -> Result<()> {
        let targets = self.state_buffers();
        if targets.len() != state.buffers.len()
            || targets
                .iter()
                .zip(&state.buffers)
                .any(|(b, d)| b.size() != d.len() as u64)
            || state.initial_amount.len() != self.n_species
        {
            return Err(SimError::Problem(
                "the saved state belongs to a different problem (grid, species or depots differ)"
                    .into(),
            ));
        }
        for (b, d) in targets.into_iter().zip(&state.buffers) {
            self.queue.write_buffer(b, 0, d);
        }
        self.steps = state.steps;
        self.time = state.time;
        self.initial_amount = state.initial_amount.clone();
        // The host's copy of the depot cells (used when only some of them are changed).
        let cells = self.depot_cells()?;
        for (d, c) in self.problem.depots.iter_mut().zip(cells) {
            d.cells = c;
        }
        Ok(())
    }
}

impl Simulation {
    /// This run carried onto `to`: the same coarse problem refined elsewhere (the viewer's
    /// depots moved), with the same species, depots and remote sites in the same order. The
    /// fields and exposure are averaged onto `to`'s leaves ([`Problem::carry_onto`]: the
    /// amounts stay), the compartments (plasma, depots' cells, remote sites and their running
    /// totals) and the ledger's totals carry over as they are, and so do the step count and
    /// time: the ledger keeps closing across the change.
    pub fn carried_onto(&self, ctx: &GpuContext, to: &Problem) -> Result<Simulation> {
        if to.n_species() != self.n_species
            || to.depots.len() != self.problem.depots.len()
            || to.compartment.remote.len() != self.problem.compartment.remote.len()
        {
            return Err(SimError::Problem(
                "a run carries onto a problem with the same species, depots and remote sites"
                    .into(),
            ));
        }
        // Everything read back first, then the new run built: in the browser each read is
        // answered by running this again (`gpu::web`), and only the last run builds.
        let fields = self.problem.carry_onto(&self.read_fields()?, to);
        let cells = self.depot_cells()?;
        let ledger = self.ledger()?;
        let exposure = if self.problem.exposure {
            Some(self.exposure()?)
        } else {
            None
        };
        // The compartments, byte for byte (their sizes depend on the species and depots only).
        let sources = [
            Some(&self.plasma_buf),
            self.depot_kernels.cells_buf.as_ref(),
            self.plasma_kernel.remote_buf.as_ref(),
            self.plasma_kernel.state_buf.as_ref(),
        ];
        let mut compartments = Vec::new();
        for b in sources {
            compartments.push(match b {
                Some(b) => Some(read_buffer(&self.device, &self.queue, b, 0, b.size())?),
                None => None,
            });
        }

        let mut p = to.clone();
        // A run may hold round-off below zero, which a problem's initial fields may not: the
        // solver starts from them clamped, then takes them as they are.
        p.initial = fields.iter().map(|&c| c.max(0.0)).collect();
        for (d, &c) in p.depots.iter_mut().zip(&cells) {
            d.cells = c;
        }
        let mut sim = Simulation::new(ctx, &p)?;
        sim.set_fields(&fields)?;
        if let Some(e) = exposure {
            sim.set_exposure(&Exposure {
                auc: self.problem.carry_onto(&e.auc, to),
                above: self.problem.carry_onto(&e.above, to),
                occupancy: self.problem.carry_onto(&e.occupancy, to),
            })?;
        }
        let targets = [
            Some(&sim.plasma_buf),
            sim.depot_kernels.cells_buf.as_ref(),
            sim.plasma_kernel.remote_buf.as_ref(),
            sim.plasma_kernel.state_buf.as_ref(),
        ];
        for (bytes, into) in compartments.iter().zip(targets) {
            if let (Some(bytes), Some(b)) = (bytes, into) {
                let size = (bytes.len() as u64).min(b.size()) as usize;
                sim.queue.write_buffer(b, 0, &bytes[..size]);
            }
        }
        // The ledger's running totals into its first slot (the others start at zero).
        let np = packs(self.n_species);
        let t = consts::LEDGER_TERMS as usize;
        let mut slot0 = vec![0f32; np * t * 2 * PACK];
        for (s, l) in ledger.species.iter().enumerate() {
            for (term, v) in [
                (consts::L_SECRETED, l.secreted),
                (consts::L_DEGRADED, l.degraded),
                (consts::L_UPTAKE, l.taken_up),
                (consts::L_CAPILLARY, l.to_plasma_capillary),
                (consts::L_BLOOD, l.to_blood_faces),
            ] {
                slot0[((s / PACK) * t + term) * 2 * PACK + s % PACK] = v as f32;
            }
        }
        sim.queue
            .write_buffer(&sim.ledger_buf, 0, bytemuck::cast_slice(&slot0));
        sim.steps = self.steps;
        sim.time = self.time;
        sim.initial_amount = self.initial_amount.clone();
        for (d, &c) in sim.problem.depots.iter_mut().zip(&cells) {
            d.cells = c;
        }
        sim.problem.plasma = self.problem.plasma.clone();
        Ok(sim)
    }
}
