//! Reading results back: the fields, the ledger (reduced on the GPU), and the live view's
//! snapshot read without waiting.

use super::*;

/// One slab's current fields, as [`Simulation::field_slabs`] lend them: its tissue voxels
/// (`vec4` index `i * packs + s / 4`) and its brick table (`Brick`, `shaders/bricks.wgsl`),
/// whose own bricks are `first_brick .. first_brick + n_bricks`.
pub struct FieldSlab<'a> {
    pub fields: &'a wgpu::Buffer,
    pub bricks: &'a wgpu::Buffer,
    pub first_brick: u32,
    pub n_bricks: u32,
    /// The grid whose bricks the slab holds (`Problem::level_grids`: 0 the problem's, then the
    /// finer levels' patches).
    pub grid: usize,
}

/// What a live view shows, read without waiting ([`Simulation::request_snapshot`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Steps taken and time (s) when it was requested.
    pub steps: u64,
    pub time: f64,
    /// Plasma concentration per species, ng/mL.
    pub plasma: Vec<f64>,
    /// Cells in each depot in the grid.
    pub depot_cells: Vec<f64>,
    /// Cells at each remote site (lungs, muscle, skin).
    pub remote_cells: Vec<f64>,
    /// Statistics per label and AHA segment, as [`Simulation::region_stats`].
    pub regions: Vec<RegionStat>,
}

/// A snapshot on its way back from the GPU.
pub struct PendingSnapshot {
    pub(super) read: PendingRead,
    /// The depots' upload it follows (in the browser, see `known`).
    #[cfg(target_arch = "wasm32")]
    pub(super) generation: u64,
    pub(super) steps: u64,
    pub(super) time: f64,
    pub(super) depots: usize,
    pub(super) remote: usize,
}

impl Simulation {
    /// Reads the current fields back (ng/mL, species-major `[s * n_voxels + voxel]`, voxels
    /// of every level in the problem's numbering): the tissue voxels as stored, blood voxels
    /// at the plasma now, outside voxels 0.
    pub fn read_fields(&self) -> Result<Vec<f32>> {
        let n = self.n_voxels;
        let ns = self.n_species;
        let np = packs(ns);
        self.errors.check()?;
        let mut out = vec![0f32; n * ns];
        let plasma = self.plasma_now()?;
        for (v, l) in self.problem.all_labels().iter().enumerate() {
            if l.kind() == crate::base::LabelKind::Blood {
                for (s, &c) in plasma.iter().enumerate() {
                    out[s * n + v] = c as f32;
                }
            }
        }
        for slab in &self.slabs {
            let span = &slab.span;
            let own = span.own_voxels.start - span.voxels.start;
            let bytes = read_buffer(
                &self.device,
                &self.queue,
                &slab.fields[self.cur],
                (own * np * 16) as u64,
                (span.own_voxels.len() * np * 16) as u64,
            )?;
            let data: &[f32] = bytemuck::cast_slice(&bytes);
            for (i, &v) in self.layout.order[span.own_voxels.clone()]
                .iter()
                .enumerate()
            {
                for s in 0..ns {
                    out[s * n + v as usize] = data[(i * np + s / PACK) * PACK + s % PACK];
                }
            }
        }
        Ok(out)
    }

    /// Starts reading what a live view shows — plasma, cells per depot and remote site,
    /// regional statistics — without waiting: the reduction and copies are submitted now
    /// (after the steps already submitted), and [`Simulation::take_snapshot`] returns them
    /// once the GPU is done.
    pub fn request_snapshot(&self) -> PendingSnapshot {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("Simulation::snapshot"),
            });
        self.encode_region_stats(&mut enc);
        let np = packs(self.n_species);
        let nd = self.problem.depots.len();
        let nr = self.problem.compartment.remote.len();
        let site = std::mem::size_of::<RemoteSite>() as u64;
        let mut sources = vec![
            (&self.plasma_buf, 0, compartments_bytes(np, nd)),
            (&self.region_kernel.totals_buf, 0, self.region_bytes()),
        ];
        let remote = match &self.plasma_kernel.remote_buf {
            Some(rb) if nr > 0 => {
                sources.push((rb, 0, nr as u64 * site));
                nr
            }
            _ => 0,
        };
        PendingSnapshot {
            read: PendingRead::start(&self.device, &self.queue, enc, &sources),
            #[cfg(target_arch = "wasm32")]
            generation: self.known_generation(),
            steps: self.steps,
            time: self.time,
            depots: nd,
            remote,
        }
    }

    /// The snapshot once the GPU has produced it (`None` until then; never blocks).
    pub fn take_snapshot(&self, pending: &PendingSnapshot) -> Option<Result<Snapshot>> {
        let parts = match pending.read.try_take(&self.device)? {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let np = packs(self.n_species);
        let comp: Vec<f32> = bytemuck::pod_collect_to_vec(&parts[0]);
        let plasma = plasma_now(&parts[0], self.n_species);
        let depot_cells: Vec<f64> = (0..pending.depots)
            .map(|d| {
                comp.get(scale_offset(np) + d + 1)
                    .map_or(0.0, |&v| v as f64)
            })
            .collect();
        let regions = self.decode_region_stats(&parts[1], &plasma);
        let remote_cells = match parts.get(2) {
            Some(bytes) => {
                let sites: Vec<RemoteSite> = bytemuck::pod_collect_to_vec(bytes);
                sites
                    .iter()
                    .take(pending.remote)
                    .map(|s| s.cells as f64)
                    .collect()
            }
            None => Vec::new(),
        };
        #[cfg(target_arch = "wasm32")]
        self.snapshot_taken(pending.generation, &depot_cells, &plasma);
        Some(Ok(Snapshot {
            steps: pending.steps,
            time: pending.time,
            plasma,
            depot_cells,
            remote_cells,
            regions,
        }))
    }

    /// Reduces the ledger on the GPU and reads back its totals (a few hundred bytes).
    pub fn ledger(&self) -> Result<Ledger> {
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("Simulation::ledger"),
            });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("Simulation::tissue_amount"),
                timestamp_writes: None,
            });
            self.dispatch_all(&mut pass, &self.mass, 1 - self.cur, 0);
            pass.set_pipeline(&self.reduce);
            pass.set_bind_group(0, &self.reduce_group, &[]);
            pass.dispatch_workgroups(packs(self.n_species) as u32 * consts::LEDGER_TERMS, 1, 1);
        }
        self.queue.submit([enc.finish()]);
        self.errors.check()?;
        let size = self
            .totals_buf
            .size()
            .min(packs(self.n_species) as u64 * consts::LEDGER_TERMS as u64 * 32);
        let bytes = read_buffer(&self.device, &self.queue, &self.totals_buf, 0, size)?;
        let v: &[f32] = bytemuck::cast_slice(&bytes);
        let t = consts::LEDGER_TERMS as usize;
        // Entry (pack, term) holds (Σ sums, Σ compensations) as two vec4; lane = species % 4.
        let get = |s: usize, term: usize| {
            let e = (s / PACK * t + term) * 2 * PACK + s % PACK;
            v[e] as f64 - v[e + PACK] as f64
        };
        Ok(Ledger {
            species: (0..self.n_species)
                .map(|s| SpeciesLedger {
                    secreted: get(s, consts::L_SECRETED),
                    degraded: get(s, consts::L_DEGRADED),
                    taken_up: get(s, consts::L_UPTAKE),
                    to_plasma_capillary: get(s, consts::L_CAPILLARY),
                    to_blood_faces: get(s, consts::L_BLOOD),
                    in_tissue: get(s, consts::L_AMOUNT),
                })
                .collect(),
        })
    }

    /// The current fields of each slab, for renderers that sample them (the viewer).
    pub fn field_slabs(&self) -> Vec<FieldSlab<'_>> {
        self.slabs
            .iter()
            .map(|s| FieldSlab {
                fields: &s.fields[self.cur],
                bricks: &s.bricks,
                first_brick: s.span.info.first_brick,
                n_bricks: s.span.info.n_bricks,
                grid: s.span.grid,
            })
            .collect()
    }
}
