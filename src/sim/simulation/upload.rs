//! What the host writes to the GPU: parameters, voxel words and source entries, fields,
//! segments, and the setters that change a running problem (sources, plasma, depots, dt,
//! terms, species).

use super::*;

/// Bytes of the compartments buffer: plasma packs, then the scales of the fixed source map
/// and `depots` depots, four per vec4.
pub(super) fn compartments_bytes(n_packs: usize, depots: usize) -> u64 {
    ((scale_offset(n_packs) + (depots + 1).next_multiple_of(PACK)) * 4) as u64
}

/// Index, in f32 words, of the first source-group scale (the fixed map's) in the compartments
/// buffer, after one `PlasmaCourse` per pack; depot d's cells follow at `scale_offset + d + 1`.
pub(super) fn scale_offset(n_packs: usize) -> usize {
    n_packs * std::mem::size_of::<PlasmaCourse>() / 4
}

/// Per-species values as f32 padded to whole packs of four.
pub(super) fn padded(values: &[f64]) -> Vec<f32> {
    let mut v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    v.resize(packs(values.len()) * PACK, 0.0);
    v
}

/// The voxel word of every voxel of the box, without source slots (only tissue voxels' words
/// are stored): label (bits 0-2), six two-bit face codes from FACE_SHIFT (x−, x+, y−, y+, z−,
/// z+: FACE_TISSUE, FACE_CLOSED towards `outside` or the grid edge, or 1 + the label of the
/// blood voxel there), FLAG_SIMPLE when every open face opens onto tissue with the voxel's own
/// conductance ε·m_D (so every face's multiplier over ε is the voxel's m_D and the stencil needs
/// no neighbour labels), FLAG_UNIT when that m_D is 1 (no label lookup at all).
pub fn voxel_words(grid: &crate::base::Grid, table: &crate::base::LabelTable) -> Vec<u32> {
    grid.labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            let mut w = l as u32;
            if !l.is_tissue() {
                return w;
            }
            let own = table.get(l);
            let m = own.diffusion as f32;
            let g = own.conductance() as f32;
            let faces = grid.face_neighbours(i);
            let mut simple = true;
            for (f, n) in faces.into_iter().enumerate() {
                let shift = consts::FACE_SHIFT + 2 * f as u32;
                match n.map(|n| grid.labels[n]) {
                    Some(ln) if ln.is_tissue() => {
                        simple &= table.get(ln).conductance() as f32 == g;
                    }
                    Some(ln) if ln.kind() == crate::base::LabelKind::Blood => {
                        w |= (ln as u32 + 1) << shift;
                        simple = false;
                    }
                    _ => w |= consts::FACE_CLOSED << shift,
                }
            }
            if simple {
                w |= consts::FLAG_SIMPLE;
                if m == 1.0 {
                    w |= consts::FLAG_UNIT;
                }
            }
            w
        })
        .collect()
}

impl Simulation {
    pub(super) fn upload_parameters(&mut self) {
        self.write_species();
        let mut table = LabelTableGpu::zeroed();
        for (i, e) in table.entries.iter_mut().enumerate() {
            let m = self.problem.labels.entries[i];
            let kind = TissueLabel::from_u8(i as u8).map_or(0, |l| l.kind() as u32);
            *e = LabelParams {
                m_diffusion: m.diffusion as f32,
                m_uptake: m.uptake as f32,
                m_perfusion: m.perfusion as f32,
                kind,
                volume_fraction: m.volume_fraction as f32,
                conductance: m.conductance() as f32,
                ..LabelParams::zeroed()
            };
        }
        self.queue
            .write_buffer(&self.labels_buf, 0, bytemuck::bytes_of(&table));
        self.write_compartments();
    }

    /// Writes the species' parameters (one `SpeciesPack` per four species).
    pub(super) fn write_species(&mut self) {
        let table = &self.problem.species.species;
        let sp: Vec<SpeciesPack> = table
            .chunks(PACK)
            .map(|group| {
                // Padding lanes: K and K_d 1 keep their (unused) divisions finite.
                let mut p = SpeciesPack {
                    km: [1.0; 4],
                    kd: [1.0; 4],
                    ..SpeciesPack::zeroed()
                };
                for (lane, s) in group.iter().enumerate() {
                    p.diffusion[lane] = s.diffusion.value as f32;
                    p.decay[lane] = s.decay_rate() as f32;
                    p.vmax[lane] = s.uptake_vmax.value as f32;
                    p.km[lane] = s.uptake_km.value as f32;
                    p.permeability[lane] = s.permeability.value as f32;
                    p.ec50[lane] = s.ec50.value as f32;
                    p.kd[lane] = s.kd.value as f32;
                }
                p
            })
            .collect();
        self.queue
            .write_buffer(&self.species_buf, 0, bytemuck::cast_slice(&sp));
    }

    /// Writes plasma (held at the problem's values until the plasma kernel predicts its course)
    /// and source-group scales (see `common.wgsl`).
    pub(super) fn write_compartments(&mut self) {
        let np = packs(self.n_species);
        // In the browser the host cannot read dynamic plasma first (`known`): its course stays
        // on the GPU as it is, and only the depots' scales are written.
        let keep_course = cfg!(target_arch = "wasm32") && self.plasma_kernel.group.is_some();
        let mut data: Vec<f32> = if keep_course {
            Vec::new()
        } else {
            bytemuck::cast_slice(&constant_course(&self.problem.plasma)).to_vec()
        };
        let scales = self.problem.depot_scales();
        let mut s: Vec<f32> = scales.iter().map(|&x| x as f32).collect();
        s.resize(scales.len().div_ceil(PACK) * PACK, 0.0);
        data.extend(s);
        let course_bytes = (scale_offset(np) * 4) as u64;
        let needed = compartments_bytes(np, self.problem.depots.len());
        if needed > self.plasma_buf.size() {
            let old = std::mem::replace(
                &mut self.plasma_buf,
                self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("Simulation::compartments"),
                    size: needed.next_power_of_two(),
                    usage: wgpu::BufferUsages::STORAGE
                        | wgpu::BufferUsages::COPY_DST
                        | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                }),
            );
            if keep_course {
                let mut enc = self
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("Simulation::compartments"),
                    });
                enc.copy_buffer_to_buffer(&old, 0, &self.plasma_buf, 0, course_bytes);
                self.queue.submit([enc.finish()]);
            }
            self.rebuild_globals();
            self.bind_plasma_kernel();
        }
        let at = if keep_course { course_bytes } else { 0 };
        self.queue
            .write_buffer(&self.plasma_buf, at, bytemuck::cast_slice(&data));
    }

    pub(super) fn rebuild_globals(&mut self) {
        self.globals = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Simulation::globals"),
            layout: &self.globals_layout,
            entries: &[
                entry(0, &self.species_buf),
                entry(1, &self.labels_buf),
                entry(2, &self.plasma_buf),
                entry(3, &self.sources_buf),
            ],
        });
    }

    /// Writes the voxel words of the stored voxels (see `common.wgsl`: label, face codes,
    /// flags, source slot), the brick tables (with each brick's first source entry) and the
    /// source entries of the fixed source map and the depots.
    pub(super) fn upload_voxels(&mut self) -> Result<()> {
        // Every level's words, in the problem's numbering.
        let all: Vec<u32> = self
            .problem
            .level_grids()
            .into_iter()
            .flat_map(|g| voxel_words(g, &self.problem.labels))
            .collect();
        let bg = &self.layout;
        let mut words: Vec<u32> = bg.order.iter().map(|&v| all[v as usize]).collect();
        drop(all);
        let np = packs(self.n_species);
        let stride = np + 1;
        let entries = self.problem.source_entries();
        // Entries brick after brick, each brick's voxels in storage order; a voxel's word holds
        // its first entry counted from its brick's.
        let mut table: Vec<f32> = Vec::new();
        let mut source_base = Vec::with_capacity(bg.bricks());
        let mut source_voxels = Vec::new();
        let mut next = 0usize;
        for g in 0..bg.bricks() {
            source_base.push(next as u32);
            let range = bg.voxel_start[g]..bg.voxel_start[g + 1];
            for (word, &v) in words[range.clone()].iter_mut().zip(&bg.order[range]) {
                let v = v as usize;
                let Some(list) = entries.get(&v) else {
                    continue;
                };
                let slot = next - source_base[g] as usize + 1;
                if slot >= 1 << (32 - consts::SLOT_SHIFT) {
                    return Err(SimError::Problem(format!(
                        "{} source entries in one brick of 64 voxels: at most {} fit the voxel word",
                        slot,
                        (1 << (32 - consts::SLOT_SHIFT)) - 1
                    )));
                }
                *word |= (slot as u32) << consts::SLOT_SHIFT;
                for e in list {
                    table.extend([e.depot as f32, list.len() as f32, 0.0, 0.0]);
                    table.extend(padded(&e.rates));
                }
                next += list.len();
                source_voxels.push(v);
            }
        }
        if next >= u32::MAX as usize / stride {
            return Err(SimError::Problem(format!(
                "{next} source entries: more than the source table can index"
            )));
        }
        let needed = (next.max(1) * stride * 16) as u64;
        if needed > self.sources_buf.size() {
            self.sources_buf = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("Simulation::sources"),
                size: needed.next_power_of_two(),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            self.rebuild_globals();
        }
        if !table.is_empty() {
            self.queue
                .write_buffer(&self.sources_buf, 0, bytemuck::cast_slice(&table));
        }
        self.source_voxels = source_voxels;
        for slab in &self.slabs {
            let span = &slab.span;
            let mut records = self.layout.records(span.grid, span.held.clone());
            for (r, g) in records.iter_mut().zip(span.held.clone()) {
                r.source_base = source_base[g];
            }
            self.queue
                .write_buffer(&slab.bricks, 0, bytemuck::cast_slice(&records));
            self.queue.write_buffer(
                &slab.voxels,
                0,
                bytemuck::cast_slice(&words[span.voxels.clone()]),
            );
        }
        Ok(())
    }

    /// Replaces the source map (secretion per voxel); takes effect at the next step.
    pub fn set_sources(&mut self, sources: &SourceMap) -> Result<()> {
        self.problem.validate_sources(sources)?;
        self.problem.sources = sources.clone();
        self.upload_voxels()
    }

    /// Sets the plasma concentration of every species (ng/mL); takes effect at the next step.
    pub fn set_plasma(&mut self, plasma: &[f64]) -> Result<()> {
        self.problem.validate_plasma(plasma)?;
        self.problem.plasma = plasma.to_vec();
        // Plasma only: the depots' cell counts live on the GPU.
        self.queue.write_buffer(
            &self.plasma_buf,
            0,
            bytemuck::cast_slice(&constant_course(plasma)),
        );
        self.predict_plasma();
        Ok(())
    }

    /// Replaces the depots (voxels, cells, secretion); takes effect at the next step.
    pub fn set_depots(&mut self, depots: &[DepotSource]) -> Result<()> {
        self.problem.validate_depots(depots)?;
        if self.plasma_kernel.group.is_some() {
            // Dynamic plasma lives on the GPU: keep it as it is now (in the browser, which
            // cannot wait for it, as last known: `known`).
            self.problem.plasma = match self.plasma_state() {
                Ok((ledgers, _)) => ledgers.iter().map(|l| l.concentration).collect(),
                #[cfg(target_arch = "wasm32")]
                Err(e) => self.known_plasma().ok_or(e)?,
                #[cfg(not(target_arch = "wasm32"))]
                Err(e) => return Err(e),
            };
        }
        self.problem.depots = depots.to_vec();
        #[cfg(target_arch = "wasm32")]
        self.uploaded(
            depots.iter().map(|d| d.cells).collect(),
            Some(self.problem.plasma.clone()),
        );
        self.upload_voxels()?;
        self.write_compartments();
        self.build_depot_kernels();
        self.predict_plasma();
        Ok(())
    }

    /// Changes the time step (s); the stage count follows.
    pub fn set_dt(&mut self, dt: f64) -> Result<()> {
        Problem::validate_dt(dt)?;
        self.problem.dt = dt;
        self.plan = self.problem.plan();
        self.write_depot_info();
        self.write_plasma_dt();
        self.predict_plasma();
        self.write_stages()
    }

    /// Switches the terms of the equations (MODEL.md §2) from the next step on.
    pub fn set_terms(&mut self, terms: crate::problem::Terms) -> Result<()> {
        self.problem.terms = terms;
        self.write_stages()
    }

    /// Replaces the species' parameters from the next step on (diffusion, decay, uptake,
    /// exchange, EC50); the stage count follows the new diffusivities. Secretion lives in the
    /// depots ([`Simulation::set_depots`]).
    pub fn set_species(&mut self, table: &crate::base::SpeciesTable) -> Result<()> {
        if table.species.len() != self.n_species {
            return Err(SimError::Problem(format!(
                "{} species given to a simulation of {}",
                table.species.len(),
                self.n_species
            )));
        }
        let old = std::mem::replace(&mut self.problem.species, table.clone());
        if let Err(e) = self.problem.validate() {
            self.problem.species = old;
            return Err(e);
        }
        self.plan = self.problem.plan();
        self.write_species();
        self.write_depot_info();
        self.write_plasma_dt();
        // Plasma half-lives may have changed.
        self.write_plasma_kinetics();
        self.predict_plasma();
        self.write_stages()
    }

    /// Uploads fields (ng/mL, species-major `[s * n_voxels + voxel]`, voxels of every level
    /// in the problem's numbering). Only tissue voxels are stored: the values given for blood
    /// and outside voxels are not kept.
    pub fn set_fields(&mut self, fields: &[f32]) -> Result<()> {
        let n = self.n_voxels;
        let ns = self.n_species;
        if fields.len() != n * ns {
            return Err(SimError::Problem(format!(
                "{} field values for {ns} species × {n} voxels",
                fields.len()
            )));
        }
        let np = packs(ns);
        for slab in &self.slabs {
            let span = &slab.span;
            let mut data = vec![0f32; span.voxels.len() * np * PACK];
            for (i, &v) in self.layout.order[span.voxels.clone()].iter().enumerate() {
                for s in 0..ns {
                    data[(i * np + s / PACK) * PACK + s % PACK] = fields[s * n + v as usize];
                }
            }
            self.queue
                .write_buffer(&slab.fields[self.cur], 0, bytemuck::cast_slice(&data));
        }
        Ok(())
    }

    /// Writes the AHA segment of every stored voxel (four to a u32) into each slab, ghosts
    /// included.
    pub(super) fn upload_segments(&mut self) {
        if self.problem.segments.is_empty() {
            return;
        }
        for slab in &self.slabs {
            let span = &slab.span;
            let mut data = vec![0u8; span.voxels.len().next_multiple_of(16)];
            for (d, &v) in data.iter_mut().zip(&self.layout.order[span.voxels.clone()]) {
                *d = self.problem.segments[v as usize];
            }
            self.queue.write_buffer(&slab.segments, 0, &data);
        }
    }
}
