//! Exposure per voxel (AUC, time above EC50, occupancy integral) and the regional statistics
//! of `regions.wgsl` (per label and AHA segment).

use super::*;

/// The regional readouts (`regions.wgsl`): per-slab statistics into buckets, then totals.
pub(super) struct RegionKernel {
    pub(super) stats: wgpu::ComputePipeline,
    pub(super) totals: wgpu::ComputePipeline,
    pub(super) layout: wgpu::BindGroupLayout,
    pub(super) species_group: wgpu::BindGroup,
    pub(super) buckets: wgpu::Buffer,
    pub(super) totals_buf: wgpu::Buffer,
}

/// Layout constants of `regions.wgsl`.
pub(super) const REGION_SLOTS: usize = 26;

pub(super) const REGION_ENTRY: usize = 28;

/// vec4 entries per field entry in the exposure buffers (`EXPOSURE_ENTRIES` in common.wgsl):
/// AUC, time above EC50, occupancy integral.
pub(super) const EXPOSURE_ENTRIES: usize = 3;

pub(super) const REGION_BUCKETS: usize = 128;

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

    /// Reads the exposure per voxel: AUC (ng·s/mL) and time above EC50 (s), species-major.
    pub fn exposure(&self) -> Result<Exposure> {
        self.require_exposure()?;
        let [nx, ny, nz] = self.dims;
        let n = nx * ny * nz;
        let ns = self.n_species;
        let np = packs(ns);
        let plane = nx * ny;
        self.errors.check()?;
        let mut out = Exposure {
            auc: vec![0.0; n * ns],
            above: vec![0.0; n * ns],
            occupancy: vec![0.0; n * ns],
        };
        for slab in &self.slabs {
            let bytes = read_buffer(
                &self.device,
                &self.queue,
                &slab.exposure,
                0,
                slab.exposure.size(),
            )?;
            let data: &[f32] = bytemuck::cast_slice(&bytes);
            for p in 1..=slab.nz {
                let gz = slab.z0 + p - 1;
                for s in 0..ns {
                    let g = s * n + gz * plane;
                    let o = (p * np + s / PACK) * plane;
                    for i in 0..plane {
                        let e = (o + i) * EXPOSURE_ENTRIES * PACK + s % PACK;
                        out.auc[g + i] = data[e];
                        out.above[g + i] = data[e + PACK];
                        out.occupancy[g + i] = data[e + 2 * PACK];
                    }
                }
            }
        }
        Ok(out)
    }

    /// Replaces the exposure accumulated so far (to resume a run from a checkpoint).
    pub fn set_exposure(&mut self, exposure: &Exposure) -> Result<()> {
        self.require_exposure()?;
        let [nx, ny, nz] = self.dims;
        let n = nx * ny * nz;
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
        let plane = nx * ny;
        for slab in &self.slabs {
            let mut data = vec![0f32; (slab.nz + 2) * plane * np * EXPOSURE_ENTRIES * PACK];
            for p in 1..=slab.nz {
                let gz = slab.z0 + p - 1;
                for s in 0..ns {
                    let g = s * n + gz * plane;
                    let o = (p * np + s / PACK) * plane;
                    for i in 0..plane {
                        let e = (o + i) * EXPOSURE_ENTRIES * PACK + s % PACK;
                        data[e] = exposure.auc[g + i];
                        data[e + PACK] = exposure.above[g + i];
                        data[e + 2 * PACK] = exposure.occupancy[g + i];
                    }
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
        Ok(self.decode_region_stats(bytes.as_slice()))
    }

    pub(super) fn region_bytes(&self) -> u64 {
        (packs(self.n_species) * REGION_SLOTS * REGION_ENTRY * 4) as u64
    }

    /// Records the regional reduction of the current fields into the totals buffer.
    pub(super) fn encode_region_stats(&self, enc: &mut wgpu::CommandEncoder) {
        let k = &self.region_kernel;
        let np = packs(self.n_species);
        enc.clear_buffer(&k.buckets, 0, None);
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
                        entry(6, &slab.segments),
                        entry(7, &k.buckets),
                        entry(8, &k.totals_buf),
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

    /// The statistics held in the bytes of the totals buffer.
    pub(super) fn decode_region_stats(&self, bytes: &[u8]) -> Vec<RegionStat> {
        let words: Vec<u32> = bytemuck::pod_collect_to_vec(bytes);
        let exposure = self.problem.exposure;
        self.regions
            .iter()
            .map(|&(region, voxels)| {
                let count = voxels as f64;
                let species = (0..self.n_species)
                    .map(|s| {
                        let base =
                            (s / PACK * REGION_SLOTS + region.slot()) * REGION_ENTRY + s % PACK;
                        let f = |stat: usize| f32::from_bits(words[base + 4 * stat]) as f64;
                        SpeciesStats {
                            mean: f(0) / count,
                            max: f(1),
                            auc: if exposure { f(2) / count } else { 0.0 },
                            time_above: if exposure { f(3) / count } else { 0.0 },
                            fraction_above: words[base + 16] as f64 / count,
                            occupancy: f(5) / count,
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
