//! Exposure per voxel (AUC, time above EC50, occupancy integral) and the regional statistics
//! of `regions.wgsl` (per label and AHA segment).

use super::*;

/// The regional readouts (`regions.wgsl`): one slot of totals per workgroup, then their sums in
/// slot order (reproducible: no floating-point atomics).
pub(super) struct RegionKernel {
    pub(super) stats: wgpu::ComputePipeline,
    pub(super) totals: wgpu::ComputePipeline,
    pub(super) layout: wgpu::BindGroupLayout,
    pub(super) species_group: wgpu::BindGroup,
    pub(super) slots: wgpu::Buffer,
    pub(super) totals_buf: wgpu::Buffer,
}

/// Layout constants of `regions.wgsl`.
pub(super) const REGION_SLOTS: usize = 26;

pub(super) const REGION_ENTRY: usize = 28;

/// vec4 entries per field entry in the exposure buffers (`EXPOSURE_ENTRIES` in common.wgsl):
/// AUC, time above EC50, occupancy integral.
pub(super) const EXPOSURE_ENTRIES: usize = 3;

/// The blood voxels in each of `regions` (labels and AHA segments).
pub(super) fn region_blood(
    regions: &[(Region, usize)],
    grid: &crate::base::Grid,
    segments: &[u8],
) -> Vec<usize> {
    // Blood voxels per AHA segment, in one pass.
    let mut per_segment = [0usize; 256];
    for (&seg, l) in segments.iter().zip(&grid.labels) {
        if l.kind() == crate::base::LabelKind::Blood {
            per_segment[seg as usize] += 1;
        }
    }
    regions
        .iter()
        .map(|(r, count)| match *r {
            Region::Label(l) if l.kind() == crate::base::LabelKind::Blood => *count,
            Region::Label(_) => 0,
            Region::Segment(s) => per_segment[s as usize],
        })
        .collect()
}

impl Simulation {
    /// Whether the exposure readouts are being accumulated ([`Problem::exposure`]).
    pub fn has_exposure(&self) -> bool {
        self.problem.exposure
    }

    pub(super) fn require_exposure(&self) -> Result<()> {
        if self.problem.exposure {
            Ok(())
        } else {
            Err(SimError::Problem(
                "exposure readouts were not enabled for this simulation (Problem::exposure)".into(),
            ))
        }
    }

    /// Reads the exposure per voxel: AUC (ng·s/mL) and time above EC50 (s), species-major
    /// (zero outside tissue).
    pub fn exposure(&self) -> Result<Exposure> {
        self.require_exposure()?;
        let n = self.n_voxels;
        let ns = self.n_species;
        let np = packs(ns);
        self.errors.check()?;
        let mut out = Exposure {
            auc: vec![0.0; n * ns],
            above: vec![0.0; n * ns],
            occupancy: vec![0.0; n * ns],
        };
        let entry = (EXPOSURE_ENTRIES * PACK * 4) as u64;
        for slab in &self.slabs {
            let span = &slab.span;
            let own = span.own_voxels.start - span.voxels.start;
            let bytes = read_buffer(
                &self.device,
                &self.queue,
                &slab.exposure,
                (own * np) as u64 * entry,
                (span.own_voxels.len() * np) as u64 * entry,
            )?;
            let data: &[f32] = bytemuck::cast_slice(&bytes);
            for (i, &v) in self.layout.order[span.own_voxels.clone()]
                .iter()
                .enumerate()
            {
                for s in 0..ns {
                    let g = s * n + v as usize;
                    let e = (i * np + s / PACK) * EXPOSURE_ENTRIES * PACK + s % PACK;
                    out.auc[g] = data[e];
                    out.above[g] = data[e + PACK];
                    out.occupancy[g] = data[e + 2 * PACK];
                }
            }
        }
        Ok(out)
    }

    /// Replaces the exposure accumulated so far (to resume a run from a checkpoint); only
    /// tissue voxels keep it.
    pub fn set_exposure(&mut self, exposure: &Exposure) -> Result<()> {
        self.require_exposure()?;
        let n = self.n_voxels;
        let ns = self.n_species;
        let np = packs(ns);
        if exposure.auc.len() != n * ns
            || exposure.above.len() != n * ns
            || exposure.occupancy.len() != n * ns
        {
            return Err(SimError::Problem(format!(
                "exposure holds {} AUC, {} time-above and {} occupancy values, expected {ns} species × {n} voxels",
                exposure.auc.len(),
                exposure.above.len(),
                exposure.occupancy.len()
            )));
        }
        for slab in &self.slabs {
            let span = &slab.span;
            let mut data = vec![0f32; span.voxels.len() * np * EXPOSURE_ENTRIES * PACK];
            for (i, &v) in self.layout.order[span.voxels.clone()].iter().enumerate() {
                for s in 0..ns {
                    let g = s * n + v as usize;
                    let e = (i * np + s / PACK) * EXPOSURE_ENTRIES * PACK + s % PACK;
                    data[e] = exposure.auc[g];
                    data[e + PACK] = exposure.above[g];
                    data[e + 2 * PACK] = exposure.occupancy[g];
                }
            }
            self.queue
                .write_buffer(&slab.exposure, 0, bytemuck::cast_slice(&data));
        }
        Ok(())
    }

    /// Starts the exposure integrals again from zero.
    pub fn reset_exposure(&mut self) -> Result<()> {
        self.require_exposure()?;
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("Simulation::reset_exposure"),
            });
        for slab in &self.slabs {
            enc.clear_buffer(&slab.exposure, 0, None);
        }
        self.queue.submit([enc.finish()]);
        Ok(())
    }

    /// The regions [`Simulation::region_stats`] reports, with their voxel counts.
    pub fn regions(&self) -> &[(Region, usize)] {
        &self.regions
    }

    /// Statistics per region (every tissue and blood label present, every AHA segment
    /// present), reduced on the GPU from the current fields and exposure: mean, max, mean AUC,
    /// mean time above EC50 and the fraction of voxels above EC50. Reads back a few kB. AUC and
    /// time above are zero unless [`Problem::exposure`] is on.
    pub fn region_stats(&self) -> Result<Vec<RegionStat>> {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("Simulation::region_stats"),
            });
        self.encode_region_stats(&mut enc);
        self.queue.submit([enc.finish()]);
        self.errors.check()?;
        let k = &self.region_kernel;
        let bytes = read_buffer(
            &self.device,
            &self.queue,
            &k.totals_buf,
            0,
            self.region_bytes(),
        )?;
        Ok(self.decode_region_stats(bytes.as_slice(), &self.plasma_now()?))
    }

    pub(super) fn region_bytes(&self) -> u64 {
        (packs(self.n_species) * REGION_SLOTS * REGION_ENTRY * 4) as u64
    }

    /// Records the regional reduction of the current fields into the totals buffer.
    pub(super) fn encode_region_stats(&self, enc: &mut wgpu::CommandEncoder) {
        let k = &self.region_kernel;
        let np = packs(self.n_species);
        let groups: Vec<wgpu::BindGroup> = self
            .slabs
            .iter()
            .map(|slab| {
                self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("Simulation::regions"),
                    layout: &k.layout,
                    entries: &[
                        entry(0, &slab.fields[self.cur]),
                        entry(2, &slab.voxels),
                        entry(4, &slab.info),
                        entry(5, &slab.exposure),
                        entry(6, &slab.bricks),
                        entry(7, &k.slots),
                        entry(8, &k.totals_buf),
                        entry(9, &slab.segments),
                    ],
                })
            })
            .collect();
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("Simulation::region_stats"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&k.stats);
        pass.set_bind_group(1, &k.species_group, &[]);
        for (slab, group) in self.slabs.iter().zip(&groups) {
            pass.set_bind_group(0, group, &[]);
            pass.dispatch_workgroups(slab.dispatch[0], slab.dispatch[1], slab.dispatch[2]);
        }
        pass.set_pipeline(&k.totals);
        pass.set_bind_group(0, &groups[0], &[]);
        let entries = (np * REGION_SLOTS * REGION_ENTRY) as u32;
        pass.dispatch_workgroups(entries.div_ceil(64), 1, 1);
    }

    /// The statistics held in the bytes of the totals buffer (the tissue voxels'), with the
    /// region's blood voxels added: they hold `plasma`, and no exposure.
    pub(super) fn decode_region_stats(&self, bytes: &[u8], plasma: &[f64]) -> Vec<RegionStat> {
        let words: Vec<u32> = bytemuck::pod_collect_to_vec(bytes);
        let exposure = self.problem.exposure;
        // A refined problem's sums are weighted by volume (coarse voxels), and so is the
        // count above EC50 (an f32 there).
        let weights = self.level_kernels.as_ref().map(|k| &k.region_weights);
        self.regions
            .iter()
            .zip(&self.region_blood)
            .enumerate()
            .map(|(i, (&(region, voxels), &blood))| {
                let count = weights.map_or(voxels as f64, |w| w[i]);
                let nb = blood as f64;
                let species = (0..self.n_species)
                    .map(|s| {
                        let base =
                            (s / PACK * REGION_SLOTS + region.slot()) * REGION_ENTRY + s % PACK;
                        let f = |stat: usize| f32::from_bits(words[base + 4 * stat]) as f64;
                        let sp = &self.problem.species.species[s];
                        // Blood voxels hold the plasma as f32, as stored fields are.
                        let cp = plasma.get(s).map_or(0.0, |&c| c as f32 as f64);
                        let counted = if weights.is_some() {
                            f(4)
                        } else {
                            words[base + 16] as f64
                        };
                        let (mut max, mut above) = (f(1), counted);
                        if blood > 0 {
                            max = max.max(cp.max(0.0));
                            if cp as f32 > sp.ec50.value as f32 {
                                above += nb;
                            }
                        }
                        let occupancy = cp.max(0.0) / (cp.max(0.0) + sp.kd.value);
                        SpeciesStats {
                            mean: (f(0) + nb * cp) / count,
                            max,
                            auc: if exposure { f(2) / count } else { 0.0 },
                            time_above: if exposure { f(3) / count } else { 0.0 },
                            fraction_above: above / count,
                            occupancy: (f(5) + nb * occupancy) / count,
                            occupancy_auc: if exposure { f(6) / count } else { 0.0 },
                        }
                    })
                    .collect();
                RegionStat {
                    region,
                    voxels,
                    species,
                }
            })
            .collect()
    }
}
