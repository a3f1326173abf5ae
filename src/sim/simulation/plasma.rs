//! The plasma compartment on the GPU (`plasma_update.wgsl`, MODEL.md §4): its buffers, the
//! step's plasma course the tissue kernels read, and what it reports.

use super::*;

impl Simulation {
    /// Dynamic plasma: predicts the coming step's course afresh from the plasma and remote
    /// sites now (after the host changed them, the step or the species). Fixed plasma stays
    /// at its values.
    pub(super) fn predict_plasma(&self) {
        let Some(group) = &self.plasma_kernel.group else {
            return;
        };
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("Simulation::plasma_predict"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("Simulation::plasma_predict"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.plasma_kernel.predict);
            pass.set_bind_group(0, group, &[]);
            pass.dispatch_workgroups(1, 1, 1);
        }
        self.queue.submit([enc.finish()]);
    }

    /// Replaces the plasma compartment (volume, remote depots, dynamic or fixed); the remote
    /// sites and the plasma ledger start afresh.
    pub fn set_compartment(&mut self, c: &crate::problem::PlasmaCompartment) -> Result<()> {
        self.problem.validate_compartment(c)?;
        self.problem.compartment = c.clone();
        self.build_plasma_kernel(true)
    }

    /// `exchanged`: whether the heart may have exchanged with the plasma already (false for a
    /// new run, whose ledger is zero and is not read back: a web page cannot wait for it).
    pub(super) fn build_plasma_kernel(&mut self, exchanged: bool) -> Result<()> {
        self.plasma_kernel.group = None;
        self.plasma_kernel.remote_buf = None;
        self.plasma_kernel.state_buf = None;
        self.plasma_kernel.info_buf = None;
        self.plasma_kernel.kin_buf = None;
        if !self.problem.compartment.dynamic {
            return Ok(());
        }
        // The plasma counts only exchange from now on: start from the ledger's totals.
        let start = if exchanged {
            self.ledger()?
        } else {
            Ledger::default()
        };
        let pk = &mut self.plasma_kernel;
        let c = &self.problem.compartment;
        let np = packs(self.n_species);
        let st = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        let make = |label: &str, data: &[u8], usage: wgpu::BufferUsages| {
            buffer_with(&self.device, &self.queue, label, data, usage)
        };
        let lanes = |v: &[f32], k: usize| -> [f32; 4] {
            [
                v[k * PACK],
                v[k * PACK + 1],
                v[k * PACK + 2],
                v[k * PACK + 3],
            ]
        };
        let mut remote: Vec<RemoteSite> = c
            .remote
            .iter()
            .map(|d| {
                let (a, sg, kl) = (padded(&d.amount), padded(&d.secretion), padded(&d.k_local));
                let mut site = RemoteSite {
                    cells: d.cells as f32,
                    k_death: d.k_death as f32,
                    k_abs: d.k_abs as f32,
                    bioavailability: d.bioavailability as f32,
                    volume_ml: d.volume_ml as f32,
                    n0: d.cells as f32,
                    ..RemoteSite::default()
                };
                for (k, p) in site.packs.iter_mut().enumerate().take(np) {
                    *p = RemotePack {
                        amount: lanes(&a, k),
                        secretion: lanes(&sg, k),
                        k_local: lanes(&kl, k),
                    };
                }
                site
            })
            .collect();
        let kin = plasma_kinetics(&self.problem);
        let a = &self.problem.autocrine;
        let info = PlasmaInfo {
            n_packs: np as u32,
            n_remote: c.remote.len() as u32,
            autocrine: a.enabled as u32,
            dt: self.plan.dt as f32,
            volume_ml: c.volume_ml as f32,
            a_max: a.a_max as f32,
            k_half: a.k_half as f32,
            hill: a.hill as f32,
            ..Default::default()
        };
        // At least one record: the kernel's binding holds whole `RemoteSite`s.
        if remote.is_empty() {
            remote.push(RemoteSite::default());
        }
        let remote_buf = make(
            "Simulation::remote_depots",
            bytemuck::cast_slice(&remote),
            st,
        );
        let mut state = vec![PlasmaTotals::default(); np];
        for (sp, l) in start.species.iter().enumerate() {
            state[sp / PACK].heart_exchange[sp % PACK] = l.net_exchange() as f32;
        }
        let state_buf = make("Simulation::plasma_state", bytemuck::cast_slice(&state), st);
        let kin_buf = make(
            "Simulation::plasma_kinetics",
            bytemuck::cast_slice(&kin),
            st,
        );
        let info_buf = make(
            "Simulation::plasma_info",
            bytemuck::bytes_of(&info),
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        pk.remote_buf = Some(remote_buf);
        pk.state_buf = Some(state_buf);
        pk.info_buf = Some(info_buf);
        pk.kin_buf = Some(kin_buf);
        self.bind_plasma_kernel();
        self.predict_plasma();
        Ok(())
    }

    /// Rewrites the plasma kernel's clearance rates and autocrine weights (after the species
    /// or the feedback changed).
    pub(super) fn write_plasma_kinetics(&self) {
        if let Some(b) = &self.plasma_kernel.kin_buf {
            self.queue
                .write_buffer(b, 0, bytemuck::cast_slice(&plasma_kinetics(&self.problem)));
        }
    }

    /// (Re)binds the plasma kernel to its buffers, after they or the compartments buffer
    /// were replaced.
    pub(super) fn bind_plasma_kernel(&mut self) {
        let pk = &mut self.plasma_kernel;
        let (Some(r), Some(s), Some(k), Some(i)) =
            (&pk.remote_buf, &pk.state_buf, &pk.kin_buf, &pk.info_buf)
        else {
            return;
        };
        pk.group = Some(self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Simulation::plasma_update"),
            layout: &pk.layout,
            entries: &[
                entry(0, &self.totals_buf),
                entry(1, &self.plasma_buf),
                entry(2, r),
                entry(3, s),
                entry(4, k),
                entry(5, i),
            ],
        }));
    }

    /// Rewrites the plasma kernel's time step after `set_dt`.
    pub(super) fn write_plasma_dt(&mut self) {
        if let Some(b) = &self.plasma_kernel.info_buf {
            let offset = std::mem::offset_of!(PlasmaInfo, dt) as u64;
            self.queue
                .write_buffer(b, offset, bytemuck::bytes_of(&(self.plan.dt as f32)));
        }
    }

    /// The plasma concentration of every species now, ng/mL (what blood voxels hold).
    pub(super) fn plasma_now(&self) -> Result<Vec<f64>> {
        let bytes = read_buffer(
            &self.device,
            &self.queue,
            &self.plasma_buf,
            0,
            (packs(self.n_species) * std::mem::size_of::<PlasmaCourse>()) as u64,
        )?;
        Ok(plasma_now(&bytes, self.n_species))
    }

    /// Plasma and remote sites per species, and the remote depots' cells (reads the GPU).
    pub fn plasma_state(&self) -> Result<(Vec<PlasmaLedger>, Vec<f64>)> {
        let np = packs(self.n_species);
        let ns = self.n_species;
        let c = &self.problem.compartment;
        let bytes = read_buffer(
            &self.device,
            &self.queue,
            &self.plasma_buf,
            0,
            (np * std::mem::size_of::<PlasmaCourse>()) as u64,
        )?;
        let plasma = plasma_now(&bytes, ns);
        let mut out: Vec<PlasmaLedger> = (0..ns)
            .map(|s| PlasmaLedger {
                concentration: plasma[s],
                in_plasma: plasma[s] * c.volume_ml,
                ..Default::default()
            })
            .collect();
        let (Some(rb), Some(sb)) = (
            &self.plasma_kernel.remote_buf,
            &self.plasma_kernel.state_buf,
        ) else {
            return Ok((out, Vec::new()));
        };
        let sites = self.remote_sites(rb)?;
        let mut cells = Vec::new();
        for site in &sites {
            cells.push(site.cells as f64);
            for (sp, o) in out.iter_mut().enumerate() {
                o.at_remote_sites += site.packs[sp / PACK].amount[sp % PACK] as f64;
            }
        }
        let size = std::mem::size_of::<PlasmaTotals>();
        let sbytes = read_buffer(&self.device, &self.queue, sb, 0, (np * size) as u64)?;
        let totals: Vec<PlasmaTotals> = bytemuck::pod_collect_to_vec(&sbytes);
        for (sp, o) in out.iter_mut().enumerate() {
            let (t, lane) = (&totals[sp / PACK], sp % PACK);
            o.cleared = t.cleared.total(lane);
            o.absorbed = t.absorbed.total(lane);
            o.remote_secreted = t.remote_secreted.total(lane);
            o.remote_lost = t.remote_lost.total(lane);
        }
        Ok((out, cells))
    }

    /// The remote sites' records as the GPU holds them now.
    fn remote_sites(&self, buffer: &wgpu::Buffer) -> Result<Vec<RemoteSite>> {
        let n = self.problem.compartment.remote.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let size = (n * std::mem::size_of::<RemoteSite>()) as u64;
        let bytes = read_buffer(&self.device, &self.queue, buffer, 0, size)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// Everything in the compartments (reads the GPU; for tests and checks, not per step):
    /// the plasma course per species, each depot's cells and sampled concentrations, each
    /// remote site's cells and amounts.
    pub fn compartments(&self) -> Result<crate::sim::Compartments> {
        let np = packs(self.n_species);
        let nd = self.problem.depots.len();
        let bytes = read_buffer(
            &self.device,
            &self.queue,
            &self.plasma_buf,
            0,
            compartments_bytes(np, nd),
        )?;
        let size = std::mem::size_of::<PlasmaCourse>();
        let plasma = (0..self.n_species)
            .map(|s| {
                let at = (s / PACK) * size;
                let c: PlasmaCourse = bytemuck::pod_read_unaligned(&bytes[at..at + size]);
                let l = s % PACK;
                crate::sim::PlasmaSteps {
                    now: c.now[l] as f64,
                    step_mean: c.step_mean[l] as f64,
                    step_end: c.step_end[l] as f64,
                    lead: c.lead[l] as f64,
                    trail: c.trail[l] as f64,
                    next: c.next[l] as f64,
                }
            })
            .collect();
        let words: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes);
        let depot_cells = (0..nd)
            .map(|d| words[scale_offset(np) + d + 1] as f64)
            .collect();
        let depot_concentrations = if self.steps > 0 {
            self.depot_concentrations()?
        } else {
            Vec::new()
        };
        let (_, remote_cells) = self.plasma_state()?;
        let nr = self.problem.compartment.remote.len();
        let remote_amounts = match &self.plasma_kernel.remote_buf {
            Some(rb) if nr > 0 => self
                .remote_sites(rb)?
                .iter()
                .map(|site| {
                    (0..self.n_species)
                        .map(|s| site.packs[s / PACK].amount[s % PACK] as f64)
                        .collect()
                })
                .collect(),
            _ => self
                .problem
                .compartment
                .remote
                .iter()
                .map(|d| d.amount.clone())
                .collect(),
        };
        Ok(crate::sim::Compartments {
            plasma,
            depot_cells,
            depot_concentrations,
            remote_cells,
            remote_amounts,
        })
    }

    /// Sets the cells of remote depot `d` (MODEL.md §4) from the next step on (an injection
    /// that starts later than the run).
    pub fn set_remote_cells(&mut self, d: usize, cells: f64) -> Result<()> {
        self.problem.validate_remote_cells(d, cells)?;
        self.problem.compartment.remote[d].cells = cells;
        if let Some(rb) = &self.plasma_kernel.remote_buf {
            // The cells and the record they are kept from: n0, and the exponent afresh.
            let at = (d * std::mem::size_of::<RemoteSite>()) as u64;
            let cells = cells as f32;
            self.queue.write_buffer(
                rb,
                at + std::mem::offset_of!(RemoteSite, cells) as u64,
                bytemuck::bytes_of(&cells),
            );
            self.queue.write_buffer(
                rb,
                at + std::mem::offset_of!(RemoteSite, n0) as u64,
                bytemuck::cast_slice(&[cells, 0.0, 0.0]),
            );
        }
        // The plasma's course over the coming step includes what these cells secrete.
        self.predict_plasma();
        Ok(())
    }

    /// The plasma step: total the ledger, then advance plasma and the remote depots.
    pub(super) fn encode_plasma(&self, enc: &mut wgpu::CommandEncoder) {
        let Some(group) = &self.plasma_kernel.group else {
            return;
        };
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("Simulation::plasma"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&self.reduce);
        pass.set_bind_group(0, &self.reduce_group, &[]);
        pass.dispatch_workgroups(packs(self.n_species) as u32 * consts::LEDGER_TERMS, 1, 1);
        pass.set_pipeline(&self.plasma_kernel.pipeline);
        pass.set_bind_group(0, group, &[]);
        pass.dispatch_workgroups(1, 1, 1);
    }
}

/// The compartments' plasma part for plasma held at `plasma` (ng/mL per species).
pub(super) fn constant_course(plasma: &[f64]) -> Vec<PlasmaCourse> {
    padded(plasma)
        .chunks(PACK)
        .map(|c| PlasmaCourse::constant([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Plasma now per species (ng/mL) from the bytes of the compartments' plasma part.
pub(super) fn plasma_now(bytes: &[u8], n_species: usize) -> Vec<f64> {
    let size = std::mem::size_of::<PlasmaCourse>();
    (0..n_species)
        .map(|s| {
            let at = (s / PACK) * size;
            let course: PlasmaCourse = bytemuck::pod_read_unaligned(&bytes[at..at + size]);
            course.now[s % PACK] as f64
        })
        .collect()
}

/// The plasma kernel's kinetics: per pack the clearance rates k_e (1/s), then the autocrine
/// weights.
pub(super) fn plasma_kinetics(p: &Problem) -> Vec<f32> {
    let ke: Vec<f64> = p
        .species
        .species
        .iter()
        .map(|s| s.plasma_clearance_rate())
        .collect();
    let (ke, w) = (padded(&ke), padded(&p.autocrine.weights));
    let mut kin = Vec::new();
    for k in 0..packs(p.n_species()) {
        kin.extend_from_slice(&ke[k * PACK..(k + 1) * PACK]);
        kin.extend_from_slice(&w[k * PACK..(k + 1) * PACK]);
    }
    kin
}
