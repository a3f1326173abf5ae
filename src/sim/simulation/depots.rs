//! The depots' cells on the GPU: the autocrine kernels (`depot_sample.wgsl`,
//! `depot_update.wgsl`, MODEL.md §3), their buffers and what they report.

use super::*;

impl Simulation {
    /// Replaces the autocrine parameters; takes effect at the next step.
    pub fn set_autocrine(&mut self, autocrine: &crate::problem::Autocrine) -> Result<()> {
        self.problem.validate_autocrine(autocrine)?;
        self.problem.autocrine = autocrine.clone();
        // The depots keep their live cells on the GPU: only the feedback's parameters change.
        self.write_depot_info();
        if let Some(b) = &self.depot_kernels.weights_buf {
            self.queue.write_buffer(
                b,
                0,
                bytemuck::cast_slice(&padded(&self.problem.autocrine.weights)),
            );
        }
        // The remote depots' cells read the same feedback in the plasma kernel.
        let pk = &self.plasma_kernel;
        if let Some(info) = &pk.info_buf {
            let a = &self.problem.autocrine;
            let head = [a.enabled as u32];
            self.queue.write_buffer(
                info,
                std::mem::offset_of!(PlasmaInfo, autocrine) as u64,
                bytemuck::cast_slice(&head),
            );
            let params = [a.a_max as f32, a.k_half as f32, a.hill as f32];
            self.queue.write_buffer(
                info,
                std::mem::offset_of!(PlasmaInfo, a_max) as u64,
                bytemuck::cast_slice(&params),
            );
        }
        self.write_plasma_kinetics();
        Ok(())
    }

    /// Builds the autocrine kernels' buffers and bind groups for the current depots.
    pub(super) fn build_depot_kernels(&mut self) {
        let k = &mut self.depot_kernels;
        k.sample_groups.clear();
        k.update_group = None;
        k.info_buf = None;
        k.conc_buf = None;
        k.cells_buf = None;
        k.weights_buf = None;
        let nd = self.problem.depots.len();
        if nd == 0 {
            return;
        }
        let np = packs(self.n_species);
        let st = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        let make = |label: &str, data: &[u8], usage: wgpu::BufferUsages| {
            buffer_with(&self.device, &self.queue, label, data, usage)
        };
        // Per (slab, depot): the depot's (tissue) voxels that slab owns, as slab-local
        // storage indices.
        let mut ranges: Vec<[u32; 2]> = Vec::new();
        let mut voxels: Vec<u32> = Vec::new();
        let mut weights: Vec<f32> = Vec::new();
        for slab in &self.slabs {
            let span = &slab.span;
            for d in &self.problem.depots {
                let start = voxels.len() as u32;
                for &(v, w) in &d.voxels {
                    match self.layout.stored(v) {
                        Some(i) if span.own_voxels.contains(&i) => {
                            voxels.push((i - span.voxels.start) as u32);
                            weights.push(w as f32);
                        }
                        _ => {}
                    }
                }
                ranges.push([start, voxels.len() as u32 - start]);
            }
        }
        let ranges_buf = make(
            "Simulation::depot_ranges",
            bytemuck::cast_slice(&ranges),
            st,
        );
        let voxels_buf = make(
            "Simulation::depot_voxels",
            bytemuck::cast_slice(&voxels),
            st,
        );
        let weights_buf = make(
            "Simulation::depot_weights",
            bytemuck::cast_slice(&weights),
            st,
        );
        let partial_buf = make(
            "Simulation::depot_partials",
            &vec![0u8; self.slabs.len() * nd * np * 16],
            st,
        );
        let cells_buf = make(
            "Simulation::depot_cells",
            bytemuck::cast_slice(&depot_cell_records(&self.problem.depots)),
            st,
        );
        let aw = padded(&self.problem.autocrine.weights);
        let weights_auto = make(
            "Simulation::autocrine_weights",
            bytemuck::cast_slice(&aw),
            st,
        );
        let conc_buf = make("Simulation::depot_conc", &vec![0u8; nd * np * 16], st);
        let info_buf = make(
            "Simulation::depot_info",
            bytemuck::bytes_of(&DepotInfo::default()),
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let sample_layout = k.sample.get_bind_group_layout(0);
        for (si, slab) in self.slabs.iter().enumerate() {
            let sinfo = DepotSlabInfo {
                n_packs: np as u32,
                slab: si as u32,
                n_depots: nd as u32,
                ..Default::default()
            };
            let sinfo_buf = make(
                "Simulation::depot_slab_info",
                bytemuck::bytes_of(&sinfo),
                wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            );
            let group = |which: usize| {
                self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("Simulation::depot_sample"),
                    layout: &sample_layout,
                    entries: &[
                        entry(0, &slab.fields[which]),
                        entry(1, &ranges_buf),
                        entry(2, &voxels_buf),
                        entry(3, &weights_buf),
                        entry(4, &partial_buf),
                        entry(5, &sinfo_buf),
                    ],
                })
            };
            k.sample_groups.push([group(0), group(1)]);
        }
        k.update_group = Some(self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Simulation::depot_update"),
            layout: &k.update.get_bind_group_layout(0),
            entries: &[
                entry(0, &partial_buf),
                entry(1, &self.plasma_buf),
                entry(2, &cells_buf),
                entry(3, &weights_auto),
                entry(4, &conc_buf),
                entry(5, &info_buf),
            ],
        }));
        k.info_buf = Some(info_buf);
        k.conc_buf = Some(conc_buf);
        k.cells_buf = Some(cells_buf);
        k.weights_buf = Some(weights_auto);
        self.write_depot_info();
    }

    pub(super) fn write_depot_info(&mut self) {
        let a = &self.problem.autocrine;
        let info = DepotInfo {
            n_depots: self.problem.depots.len() as u32,
            n_packs: packs(self.n_species) as u32,
            n_slabs: self.slabs.len() as u32,
            enabled: a.enabled as u32,
            a_max: a.a_max as f32,
            k_half: a.k_half as f32,
            hill: a.hill as f32,
            dt: self.plan.dt as f32,
            scale_offset: scale_offset(packs(self.n_species)) as u32,
            ..Default::default()
        };
        if let Some(b) = &self.depot_kernels.info_buf {
            self.queue.write_buffer(b, 0, bytemuck::bytes_of(&info));
        }
    }

    /// Cells in each depot now (reads the GPU; not for the per-step loop).
    pub fn depot_cells(&self) -> Result<Vec<f64>> {
        let np = packs(self.n_species);
        let nd = self.problem.depots.len();
        if nd == 0 {
            return Ok(Vec::new());
        }
        let bytes = match read_buffer(
            &self.device,
            &self.queue,
            &self.plasma_buf,
            0,
            compartments_bytes(np, nd),
        ) {
            Ok(b) => b,
            // The page cannot wait: the cells of the last snapshot or upload (`known`).
            #[cfg(target_arch = "wasm32")]
            Err(e) => return self.known_cells().ok_or(e),
            #[cfg(not(target_arch = "wasm32"))]
            Err(e) => return Err(e),
        };
        let v: &[f32] = bytemuck::cast_slice(&bytes);
        Ok((0..nd)
            .map(|d| v[scale_offset(np) + d + 1] as f64)
            .collect())
    }

    /// Mean concentration at each depot after the last step, ng/mL (`[depot][species]`).
    pub fn depot_concentrations(&self) -> Result<Vec<Vec<f64>>> {
        let np = packs(self.n_species);
        let Some(buf) = &self.depot_kernels.conc_buf else {
            return Ok(Vec::new());
        };
        let nd = self.problem.depots.len();
        let bytes = read_buffer(&self.device, &self.queue, buf, 0, (nd * np * 16) as u64)?;
        let v: &[f32] = bytemuck::cast_slice(&bytes);
        Ok((0..nd)
            .map(|d| {
                (0..self.n_species)
                    .map(|s| v[d * np * PACK + s] as f64)
                    .collect()
            })
            .collect())
    }

    /// Sets every depot's cell count (cells); takes effect at the next step.
    pub fn set_depot_cells(&mut self, cells: &[f64]) -> Result<()> {
        if cells.len() != self.problem.depots.len()
            || cells.iter().any(|c| !(*c >= 0.0 && c.is_finite()))
        {
            return Err(SimError::Problem(format!(
                "{} cell counts for {} depots: expected one count ≥ 0 per depot",
                cells.len(),
                self.problem.depots.len()
            )));
        }
        for (d, &c) in self.problem.depots.iter_mut().zip(cells) {
            d.cells = c;
        }
        #[cfg(target_arch = "wasm32")]
        self.uploaded(cells.to_vec(), None);
        // The scales only: plasma, in front of them, lives on the GPU while it is dynamic.
        let scales: Vec<f32> = self
            .problem
            .depot_scales()
            .iter()
            .map(|&x| x as f32)
            .collect();
        let offset = (scale_offset(packs(self.n_species)) * 4) as u64;
        self.queue
            .write_buffer(&self.plasma_buf, offset, bytemuck::cast_slice(&scales));
        // The kernel's own records start again from these counts.
        if let Some(b) = &self.depot_kernels.cells_buf {
            self.queue.write_buffer(
                b,
                0,
                bytemuck::cast_slice(&depot_cell_records(&self.problem.depots)),
            );
        }
        Ok(())
    }

    /// The autocrine step: sample every depot's concentration, then update its cells.
    pub(super) fn encode_depots(&self, enc: &mut wgpu::CommandEncoder) {
        let k = &self.depot_kernels;
        let Some(update_group) = &k.update_group else {
            return;
        };
        let nd = self.problem.depots.len() as u32;
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("Simulation::depots"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&k.sample);
        for groups in &k.sample_groups {
            pass.set_bind_group(0, &groups[self.cur], &[]);
            pass.dispatch_workgroups(nd, packs(self.n_species) as u32, 1);
        }
        pass.set_pipeline(&k.update);
        pass.set_bind_group(0, update_group, &[]);
        pass.dispatch_workgroups(nd.div_ceil(64), 1, 1);
    }
}

/// The autocrine kernel's record of every depot, starting afresh from its cells now.
pub(super) fn depot_cell_records(depots: &[DepotSource]) -> Vec<DepotCells> {
    depots
        .iter()
        .map(|d| DepotCells {
            n0: d.cells as f32,
            k_death: d.k_death as f32,
            ..DepotCells::default()
        })
        .collect()
}
