//! The faces between levels of a refined problem on the GPU (`shaders/levels.wgsl`): each
//! slab's plan (the stencil voxels it owns, its voxels that meet a face, their faces and
//! stencils), and the passes of a step on levels.
//!
//! Each level runs the ordinary brick kernels at its own spacing and volume, its faces towards
//! another level closed. After each RKL1 stage's diffusion kernel, `level_gather` copies every
//! stencil voxel's `Y_{j−1}` from the slab that owns it into one table, and `level_apply` adds
//! `mu~_j dt · F / (ε ΔV)` of every face to the fine and the coarse voxel it joins. The trailing
//! reaction half-step then runs as its own pass (`FLAG_TRAIL`), after the last stage's faces.

use std::collections::HashMap;

use super::*;

/// The faces between levels as the GPU runs them: present only for a refined problem.
pub(super) struct LevelKernels {
    gather: wgpu::ComputePipeline,
    apply: wgpu::ComputePipeline,
    /// Per slab: its group 0 (fields in each direction, as the slab's own groups), its group 3
    /// and dispatch widths (gather entries, receivers), or `None` where it has neither.
    slabs: Vec<Option<LevelSlab>>,
    /// Group 1: the species.
    globals: wgpu::BindGroup,
    /// The table of stencil values, kept alive for the bind groups.
    _values: wgpu::Buffer,
    /// Faces between levels.
    faces: usize,
    /// Each reported region's weight in coarse voxels (`Simulation::regions`' order): what
    /// the GPU's weighted sums are divided by.
    pub(super) region_weights: Vec<f64>,
}

/// One slab's bind groups for the faces between levels and its dispatch widths.
struct LevelSlab {
    fields: [wgpu::BindGroup; 2],
    own: wgpu::BindGroup,
    n_gather: u32,
    n_receivers: u32,
}

/// One slab's plan words (`levels.wgsl`) and where its sections start.
#[derive(Debug, Default)]
struct SlabWords {
    words: Vec<u32>,
    info: LevelSlabInfo,
}

impl Simulation {
    /// Faces between levels the GPU runs (0 without levels).
    pub fn level_faces(&self) -> usize {
        self.level_kernels.as_ref().map_or(0, |k| k.faces)
    }

    /// Builds the plans and bind groups of the faces between levels (none without levels).
    pub(super) fn build_level_kernels(
        &mut self,
        pipelines: Option<super::pipelines::LevelPipelines>,
    ) -> Result<()> {
        let Some(levels) = &self.problem.levels else {
            return Ok(());
        };
        let Some(p) = pipelines else {
            return Err(SimError::Gpu(
                "levels: the kernels of the faces between levels were not built".into(),
            ));
        };
        let slab_of = |i: usize| {
            self.slabs
                .iter()
                .position(|s| s.span.own_voxels.contains(&i))
        };
        let stored = |v: usize| -> Result<(usize, usize)> {
            self.layout
                .stored(v)
                .and_then(|i| Some((slab_of(i)?, i)))
                .ok_or_else(|| {
                    SimError::Problem(format!(
                        "levels: {} is on a face between levels but holds no tissue",
                        self.problem.voxel_name(v)
                    ))
                })
        };
        // Table slots of the stencil voxels, each gathered by the slab that owns it.
        let mut slot_of: HashMap<usize, u32> = HashMap::new();
        let mut gathers: Vec<Vec<[u32; 2]>> = vec![Vec::new(); self.slabs.len()];
        for f in &levels.faces {
            for &(v, _) in &f.stencil {
                if slot_of.contains_key(&v) {
                    continue;
                }
                let (s, i) = stored(v)?;
                let slot = slot_of.len() as u32;
                slot_of.insert(v, slot);
                gathers[s].push([(i - self.slabs[s].span.voxels.start) as u32, slot]);
            }
        }
        // Each face's two receivers: +1/(ε ΔV) for the fine voxel, −1/(ε ΔV) for the coarse.
        let mut receivers: Vec<HashMap<usize, Vec<(usize, f32)>>> =
            vec![HashMap::new(); self.slabs.len()];
        for (k, f) in levels.faces.iter().enumerate() {
            for (v, sign) in [(f.fine, 1.0), (f.coarse, -1.0)] {
                let (s, i) = stored(v)?;
                let eps = self
                    .problem
                    .labels
                    .get(self.problem.label_at(v))
                    .volume_fraction;
                let mm3 = self.problem.voxel_ml_at(v) * 1e3;
                receivers[s]
                    .entry(i - self.slabs[s].span.voxels.start)
                    .or_default()
                    .push((k, (sign / (eps * mm3)) as f32));
            }
        }
        let np = packs(self.n_species) as u64;
        let values = buffer_with(
            &self.device,
            &self.queue,
            "Simulation::level_values",
            &vec![0u8; (slot_of.len().max(1) as u64 * np * 16) as usize],
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        );
        let mut slabs = Vec::with_capacity(self.slabs.len());
        for s in 0..self.slabs.len() {
            let w = slab_words(&gathers[s], &receivers[s], levels, &slot_of);
            if w.info.n_gather == 0 && w.info.n_receivers == 0 {
                slabs.push(None);
                continue;
            }
            let plan = buffer_with(
                &self.device,
                &self.queue,
                "Simulation::level_plan",
                bytemuck::cast_slice(&w.words),
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            );
            let info = buffer_with(
                &self.device,
                &self.queue,
                "Simulation::level_info",
                bytemuck::bytes_of(&w.info),
                wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            );
            let own = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("Simulation::levels"),
                layout: &p.own,
                entries: &[entry(0, &values), entry(1, &plan), entry(2, &info)],
            });
            let slab = &self.slabs[s];
            let fields = |from: usize| {
                self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("Simulation::level_slab"),
                    layout: &p.slab,
                    entries: &[
                        entry(0, &slab.fields[from]),
                        entry(1, &slab.fields[1 - from]),
                        entry(4, &slab.info),
                    ],
                })
            };
            slabs.push(Some(LevelSlab {
                fields: [fields(0), fields(1)],
                own,
                n_gather: w.info.n_gather,
                n_receivers: w.info.n_receivers,
            }));
        }
        let globals = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Simulation::level_globals"),
            layout: &p.globals,
            entries: &[entry(0, &self.species_buf)],
        });
        self.level_kernels = Some(LevelKernels {
            gather: p.gather,
            apply: p.apply,
            slabs,
            globals,
            _values: values,
            faces: levels.faces.len(),
            region_weights: {
                let labels = self.problem.all_labels();
                let weights = self.problem.region_weights();
                let mut per_slot = [0.0f64; REGION_SLOTS];
                for (v, (&l, &w)) in labels.iter().zip(&weights).enumerate() {
                    if w > 0.0 {
                        per_slot[Region::Label(l).slot()] += w;
                        if let Some(&s) = self.problem.segments.get(v) {
                            if s > 0 {
                                per_slot[Region::Segment(s).slot()] += w;
                            }
                        }
                    }
                }
                self.regions
                    .iter()
                    .map(|(r, _)| per_slot[r.slot()])
                    .collect()
            },
        });
        Ok(())
    }

    /// Records one time step of a refined problem: the leading reaction half-step, each stage
    /// with its faces between levels, the trailing half-step, then the depots and the plasma.
    /// Ghosts are refreshed after every pass that changes the fields.
    pub(super) fn encode_step_levels(&mut self, enc: &mut wgpu::CommandEncoder) {
        let stages = self.plan.stages();
        let np = packs(self.n_species) as u32;
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("Simulation::lead"),
                timestamp_writes: None,
            });
            self.dispatch_all(&mut pass, &self.react, 1 - self.cur, 0);
        }
        self.exchange_ghosts(enc, self.cur);
        for j in 0..stages {
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("Simulation::level_stage"),
                    timestamp_writes: None,
                });
                self.dispatch_levels(&mut pass, true, j + 1, np);
                self.dispatch_all(&mut pass, &self.diffuse, self.cur, j + 1);
                self.dispatch_levels(&mut pass, false, j + 1, np);
            }
            self.cur = 1 - self.cur;
            self.exchange_ghosts(enc, self.cur);
        }
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("Simulation::trail"),
                timestamp_writes: None,
            });
            self.dispatch_all(&mut pass, &self.react, 1 - self.cur, stages + 2);
        }
        self.exchange_ghosts(enc, self.cur);
        self.encode_depots(enc);
        self.encode_plasma(enc);
        self.time += self.plan.dt;
        self.steps += 1;
    }

    /// The gather (`gather`) or apply pass of the faces between levels over every slab that
    /// has some, with the slab group whose `src` is the current fields.
    fn dispatch_levels(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        gather: bool,
        stage: usize,
        np: u32,
    ) {
        let Some(k) = &self.level_kernels else {
            return;
        };
        pass.set_pipeline(if gather { &k.gather } else { &k.apply });
        pass.set_bind_group(1, &k.globals, &[]);
        pass.set_bind_group(
            2,
            &self.stage_group,
            &[(stage as u64 * self.stage_stride) as u32],
        );
        for lk in k.slabs.iter().flatten() {
            let n = if gather { lk.n_gather } else { lk.n_receivers };
            if n == 0 {
                continue;
            }
            pass.set_bind_group(0, &lk.fields[self.cur], &[]);
            pass.set_bind_group(3, &lk.own, &[]);
            pass.dispatch_workgroups(n.div_ceil(64), np, 1);
        }
    }
}

/// One slab's plan: its gather entries, its receivers (slab-local index → faces with their
/// coefficients), and the faces and stencils those receivers read, renumbered for the slab.
fn slab_words(
    gathers: &[[u32; 2]],
    receivers: &HashMap<usize, Vec<(usize, f32)>>,
    levels: &crate::problem::levels::Levels,
    slot_of: &HashMap<usize, u32>,
) -> SlabWords {
    let mut locals: Vec<&usize> = receivers.keys().collect();
    locals.sort();
    // The slab's faces, in the order its receivers meet them.
    let mut face_index: HashMap<usize, u32> = HashMap::new();
    let mut faces: Vec<usize> = Vec::new();
    let mut recv = Vec::new();
    let mut rfaces = Vec::new();
    for &local in &locals {
        let list = &receivers[local];
        recv.extend([*local as u32, (rfaces.len() / 2) as u32, list.len() as u32]);
        for &(f, coef) in list {
            let i = *face_index.entry(f).or_insert_with(|| {
                faces.push(f);
                faces.len() as u32 - 1
            });
            rfaces.extend([i, coef.to_bits()]);
        }
    }
    let mut face_words = Vec::new();
    let mut stencil = Vec::new();
    for &f in &faces {
        let face = &levels.faces[f];
        face_words.extend([
            (stencil.len() / 2) as u32,
            face.stencil.len() as u32,
            (face.conductance as f32).to_bits(),
        ]);
        for &(v, w) in &face.stencil {
            stencil.extend([slot_of.get(&v).copied().unwrap_or(0), (w as f32).to_bits()]);
        }
    }
    let mut words: Vec<u32> = gathers.iter().flatten().copied().collect();
    let mut info = LevelSlabInfo {
        n_gather: gathers.len() as u32,
        n_receivers: locals.len() as u32,
        gather_at: 0,
        ..LevelSlabInfo::zeroed()
    };
    info.receivers_at = words.len() as u32;
    words.extend(recv);
    info.rfaces_at = words.len() as u32;
    words.extend(rfaces);
    info.faces_at = words.len() as u32;
    words.extend(face_words);
    info.stencil_at = words.len() as u32;
    words.extend(stencil);
    if words.len() < 4 {
        words.resize(4, 0);
    }
    SlabWords { words, info }
}
