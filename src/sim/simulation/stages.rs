//! Stage encoding: the stage parameters of one step (`StagePlan`), ghost-plane exchange
//! between slabs, and the passes of each step.

use super::*;

impl Simulation {
    /// Writes the stage parameters of one step: slot 0 the leading reaction half-step,
    /// slots 1..=s the diffusion stages (the last fused with the trailing half-step), slot
    /// s + 1 the last stage also fused with the next step's leading half-step, slot s + 2 the
    /// trailing half-step as its own pass (refined problems).
    pub(super) fn write_stages(&mut self) -> Result<()> {
        let s = self.plan.stages();
        if s + 3 > self.stage_capacity {
            self.stage_capacity = (s + 3).next_power_of_two();
            self.stage_buf = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("Simulation::stages"),
                size: self.stage_stride * self.stage_capacity as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let layout = self.diffuse.get_bind_group_layout(2);
            self.stage_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("Simulation::stage"),
                layout: &layout,
                entries: &[wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &self.stage_buf,
                        offset: 0,
                        size: NonZeroU64::new(std::mem::size_of::<StageParams>() as u64),
                    }),
                }],
            });
        }
        let terms = term_bits(self.problem.terms);
        let tau = (0.5 * self.plan.dt) as f32;
        let mut bytes = vec![0u8; self.stage_stride as usize * (s + 3)];
        let mut put = |i: usize, p: StageParams| {
            let o = i * self.stage_stride as usize;
            bytes[o..o + std::mem::size_of::<StageParams>()]
                .copy_from_slice(bytemuck::bytes_of(&p));
        };
        put(
            0,
            StageParams {
                tau,
                terms,
                ..StageParams::zeroed()
            },
        );
        // Slots 1..=s: the stages; slot s + 1: the last stage fused with the next step's
        // leading half-step.
        for slot in 1..=s + 1 {
            let j = slot.min(s) - 1;
            let mut flags = 0;
            if self.plan.nu[j] != 0.0 {
                flags |= consts::FLAG_HAS_OLD;
            }
            if j + 1 == s {
                flags |= consts::FLAG_REACT;
            }
            if slot == s + 1 {
                flags |= consts::FLAG_REACT_TWICE;
            }
            put(
                slot,
                StageParams {
                    nu: self.plan.nu[j] as f32,
                    mu_tilde_dt: self.plan.mu_tilde_dt[j] as f32,
                    beta_dt: self.plan.beta_dt[j] as f32,
                    tau,
                    flags,
                    terms,
                    ..StageParams::zeroed()
                },
            );
        }
        put(
            s + 2,
            StageParams {
                tau,
                terms,
                flags: consts::FLAG_TRAIL,
                ..StageParams::zeroed()
            },
        );
        self.queue.write_buffer(&self.stage_buf, 0, &bytes);
        Ok(())
    }

    /// Copies the edge brick layers of the buffer `which` into the neighbouring slabs' ghosts.
    pub(super) fn exchange_ghosts(&self, enc: &mut wgpu::CommandEncoder, which: usize) {
        let voxel = (packs(self.n_species) * 16) as u64;
        for pair in self.slabs.windows(2) {
            let (lo, hi) = (&pair[0], &pair[1]);
            if lo.span.grid != hi.span.grid {
                continue;
            }
            let boundary = lo.span.layers.end;
            // lo's last own layer is hi's lower ghost; hi's first own layer is lo's upper one.
            for (from, to, layer) in [(lo, hi, boundary - 1), (hi, lo, boundary)] {
                let r = self.layout.layer_range(lo.span.grid, layer);
                if r.is_empty() {
                    continue;
                }
                enc.copy_buffer_to_buffer(
                    &from.fields[which],
                    (r.start - from.span.voxels.start) as u64 * voxel,
                    &to.fields[which],
                    (r.start - to.span.voxels.start) as u64 * voxel,
                    r.len() as u64 * voxel,
                );
            }
        }
    }

    pub(super) fn dispatch_all(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        pipeline: &wgpu::ComputePipeline,
        group: usize,
        stage: usize,
    ) {
        pass.set_pipeline(pipeline);
        pass.set_bind_group(1, &self.globals, &[]);
        pass.set_bind_group(
            2,
            &self.stage_group,
            &[(stage as u64 * self.stage_stride) as u32],
        );
        for slab in &self.slabs {
            pass.set_bind_group(0, &slab.groups[group], &[]);
            pass.dispatch_workgroups(slab.dispatch[0], slab.dispatch[1], slab.dispatch[2]);
        }
    }

    /// Records one time step into `enc`. `lead` records the leading reaction half-step as its
    /// own pass; `fuse_next` makes the last stage also apply the next step's leading half-step
    /// (the same operations in the same order, one memory pass fewer).
    pub(super) fn encode_step(
        &mut self,
        enc: &mut wgpu::CommandEncoder,
        lead: bool,
        fuse_next: bool,
    ) {
        if self.level_kernels.is_some() {
            self.encode_step_levels(enc);
            return;
        }
        let multi = self.slabs.len() > 1;
        let stages = self.plan.stages();
        // Stage slot of stage j (0-based): j + 1, or s + 1 for the fused last stage.
        let slot = |j: usize| {
            if fuse_next && j + 1 == stages {
                stages + 1
            } else {
                j + 1
            }
        };
        let diffuse = |j: usize| {
            if j + 1 == stages {
                &self.diffuse_react
            } else {
                &self.diffuse
            }
        };
        // The bind group whose `dst` is buffer b is groups[1 - b].
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("Simulation::step"),
                timestamp_writes: None,
            });
            if lead {
                self.dispatch_all(&mut pass, &self.react, 1 - self.cur, 0);
            }
            if !multi {
                for j in 0..stages {
                    self.dispatch_all(&mut pass, diffuse(j), self.cur, slot(j));
                    self.cur = 1 - self.cur;
                }
            }
        }
        if multi {
            self.exchange_ghosts(enc, self.cur);
            for j in 0..stages {
                {
                    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some("Simulation::diffuse_stage"),
                        timestamp_writes: None,
                    });
                    self.dispatch_all(&mut pass, diffuse(j), self.cur, slot(j));
                }
                self.cur = 1 - self.cur;
                self.exchange_ghosts(enc, self.cur);
            }
        }
        self.encode_depots(enc);
        self.encode_plasma(enc);
        self.time += self.plan.dt;
        self.steps += 1;
    }

    /// Advances `steps` time steps. Nothing is read back; work is submitted in batches. Within
    /// one call, each step's trailing reaction half-step and the next step's leading one run
    /// in the same kernel; the fields are identical to calling `step(1)` repeatedly.
    pub fn step(&mut self, steps: usize) {
        let batch = 32;
        let mut done = 0;
        while done < steps {
            let n = batch.min(steps - done);
            let mut enc = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("Simulation::step"),
                });
            for i in 0..n {
                let k = done + i;
                self.encode_step(&mut enc, k == 0, k + 1 < steps);
            }
            self.queue.submit([enc.finish()]);
            done += n;
        }
    }

    /// Waits for all submitted steps to finish; reports any GPU error since the start.
    pub fn finish(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| SimError::Gpu(format!("waiting for the GPU: {e}")))?;
        self.errors.check()
    }
}
