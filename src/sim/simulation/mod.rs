//! `Simulation`: the GPU solver. Owns the fields, the pipelines of every kernel in `shaders/`
//! and the ledger; `step` advances the fields without reading anything back.
//!
//! The grid is sparse: it is cut into bricks of 4 × 4 × 4 voxels and only the tissue voxels of
//! bricks that hold tissue are stored (`plan.rs`, the layout in `shaders/common.wgsl`); blood
//! and outside voxels are known by the face codes of the tissue next to them. A box problem is
//! a grid whose bricks are all full. The bricks are cut into slabs of brick layers so that no
//! storage binding exceeds the adapter's limit (lavapipe: 128 MiB); each slab's buffers carry
//! the layer on either side as ghosts, refreshed by buffer copies after every stage. Memory per
//! tissue voxel: two f32 copies of every field (species packed four to a vec4) plus one u32
//! voxel word (label, face codes, flags, source slot) — 36 bytes for four species — and the
//! brick table, 48 bytes per brick.

mod bind;
mod depots;
mod interface;
#[cfg(target_arch = "wasm32")]
mod known;
mod pipelines;
mod plan;
mod plasma;
mod readback;
mod regions;
mod stages;
mod state;
mod upload;

use bind::*;
use interface::LevelKernels;
use pipelines::Pipelines;
use plan::*;
pub use plan::{
    bytes_per_voxel, grid_bytes, grid_bytes_per_voxel, stored_bricks, LayoutOptions, BRICK_BYTES,
};
pub use readback::{FieldSlab, PendingSnapshot, Snapshot};
use regions::*;
pub use state::SimState;
pub use upload::voxel_words;
use upload::*;

use plasma::{constant_course, plasma_now};

use std::num::NonZeroU64;

use bytemuck::Zeroable;

use crate::base::TissueLabel;
use crate::error::{Result, SimError};
use crate::gpu::layout::{
    consts, packs, term_bits, Brick, DepotCells, DepotInfo, DepotSlabInfo, LabelParams,
    LabelTableGpu, LevelSlabInfo, PlasmaCourse, PlasmaInfo, PlasmaTotals, ReduceInfo, RemotePack,
    RemoteSite, SlabInfo, SpeciesPack, StageParams, PACK,
};
use crate::gpu::{read_buffer, shaders, ErrorSlot, GpuContext, PendingRead};
use crate::problem::scheme::StagePlan;
use crate::problem::{DepotSource, Problem, SourceMap};
use crate::sim::ledger::{Ledger, PlasmaLedger, SpeciesLedger};
use crate::sim::readouts::{regions_of, Exposure, Region, RegionStat, SpeciesStats};

struct Slab {
    /// The brick layers, bricks and voxels it owns and holds.
    span: SlabSpan,
    fields: [wgpu::Buffer; 2],
    voxels: wgpu::Buffer,
    /// The brick table of the bricks it holds (`Brick`).
    bricks: wgpu::Buffer,
    /// AUC and time above EC50, two vec4 per field entry (a 16-byte stub without exposure).
    exposure: wgpu::Buffer,
    /// AHA segment per voxel, four to a u32 (a 16-byte stub without segments).
    segments: wgpu::Buffer,
    info: wgpu::Buffer,
    /// Bind groups: [0] reads fields[0] and writes fields[1]; [1] the reverse.
    groups: [wgpu::BindGroup; 2],
    dispatch: [u32; 3],
}

/// The GPU solver.
pub struct Simulation {
    device: wgpu::Device,
    queue: wgpu::Queue,
    errors: ErrorSlot,
    /// In the browser: the depots' cells and the plasma as last read back or uploaded
    /// ([`known::Known`]).
    #[cfg(target_arch = "wasm32")]
    known: std::sync::Mutex<known::Known>,
    adapter_name: String,
    /// Every level's bricks and where their voxels are stored.
    layout: Layout,
    dims: [usize; 3],
    /// Voxels of every level (the problem's numbering).
    n_voxels: usize,
    n_species: usize,
    voxel_ml: f64,
    plan: StagePlan,
    problem: Problem,
    slabs: Vec<Slab>,
    /// Index (0 or 1) of the buffer holding the current fields.
    cur: usize,
    globals: wgpu::BindGroup,
    plasma_buf: wgpu::Buffer,
    sources_buf: wgpu::Buffer,
    globals_layout: wgpu::BindGroupLayout,
    species_buf: wgpu::Buffer,
    labels_buf: wgpu::Buffer,
    stage_buf: wgpu::Buffer,
    stage_group: wgpu::BindGroup,
    stage_stride: u64,
    stage_capacity: usize,
    ledger_buf: wgpu::Buffer,
    slots: u32,
    totals_buf: wgpu::Buffer,
    reduce_group: wgpu::BindGroup,
    diffuse: wgpu::ComputePipeline,
    /// The same kernel specialised with the reaction tail (the last stage of a step).
    diffuse_react: wgpu::ComputePipeline,
    react: wgpu::ComputePipeline,
    mass: wgpu::ComputePipeline,
    reduce: wgpu::ComputePipeline,
    initial_amount: Vec<f64>,
    time: f64,
    steps: u64,
    gpu_bytes: u64,
    source_voxels: Vec<usize>,
    depot_kernels: DepotKernels,
    plasma_kernel: PlasmaKernel,
    region_kernel: RegionKernel,
    /// The regions reported and their voxel counts.
    regions: Vec<(Region, usize)>,
    /// The blood voxels of each region (not stored: they hold the plasma).
    region_blood: Vec<usize>,
    /// The faces between levels, for a refined problem.
    level_kernels: Option<LevelKernels>,
}

/// The plasma compartment kernel (`plasma_update.wgsl`) and its buffers, present while the
/// plasma is dynamic.
struct PlasmaKernel {
    pipeline: wgpu::ComputePipeline,
    /// `plasma_predict`: the coming step's course afresh, after the host changed something.
    predict: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    group: Option<wgpu::BindGroup>,
    remote_buf: Option<wgpu::Buffer>,
    state_buf: Option<wgpu::Buffer>,
    info_buf: Option<wgpu::Buffer>,
    kin_buf: Option<wgpu::Buffer>,
}

/// The autocrine kernels (`depot_sample.wgsl`, `depot_update.wgsl`) and what they bind; the
/// bind groups exist only while there are depots.
struct DepotKernels {
    sample: wgpu::ComputePipeline,
    update: wgpu::ComputePipeline,
    /// Per slab: [reads fields[0], reads fields[1]].
    sample_groups: Vec<[wgpu::BindGroup; 2]>,
    update_group: Option<wgpu::BindGroup>,
    info_buf: Option<wgpu::Buffer>,
    /// Mean concentration at each depot (per depot and pack), ng/mL.
    conc_buf: Option<wgpu::Buffer>,
    /// One `DepotCells` record per depot (part of the run's state).
    cells_buf: Option<wgpu::Buffer>,
    /// Autocrine weight per pack.
    weights_buf: Option<wgpu::Buffer>,
}

impl Simulation {
    /// Uploads the problem to the GPU.
    pub fn new(ctx: &GpuContext, problem: &Problem) -> Result<Self> {
        Self::with_layout(ctx, problem, LayoutOptions::default())
    }

    pub fn with_layout(ctx: &GpuContext, problem: &Problem, opts: LayoutOptions) -> Result<Self> {
        problem.validate()?;
        let device = ctx.device.clone();
        let queue = ctx.queue.clone();
        let [nx, ny, nz] = problem.grid.dims;
        let ns = problem.n_species();
        let np = packs(ns);
        let exposure_on = problem.exposure;
        let with_segments = !problem.segments.is_empty();
        let subgroups = ctx.subgroups() && !opts.tree_reduction;
        let limits = DeviceLimits {
            name: ctx.report.name.clone(),
            max_binding: ctx.max_binding_bytes(),
            max_workgroups: ctx.report.max_workgroups_per_dim,
            cpu: ctx.is_cpu(),
            // Subgroups have at least 4 invocations.
            sub_slots: if subgroups {
                (64 / ctx.subgroup_min_size().max(4)).max(1)
            } else {
                1
            },
        };
        #[cfg(target_arch = "wasm32")]
        within_budget(problem, WEB_GRID_BUDGET, &ctx.report.name)?;
        let plan = plan_slabs(problem, &limits, &opts)?;
        let SlabPlan {
            per_voxel, slots, ..
        } = plan;

        let all_full = plan.layout.all_full();
        let weighted = problem.levels.is_some();
        let p = Pipelines::new(ctx, subgroups, exposure_on, all_full, weighted)?;

        let scope = crate::gpu::Scope::push(&device, wgpu::ErrorFilter::OutOfMemory);
        let mut gpu_bytes = 0u64;
        let mut buffer = |label: &str, size: u64, usage: wgpu::BufferUsages| {
            gpu_bytes += size;
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(16),
                usage,
                mapped_at_creation: false,
            })
        };
        let st = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        let un = wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST;

        // Globals.
        let species_buf = buffer(
            "Simulation::species",
            (np * std::mem::size_of::<SpeciesPack>()) as u64,
            st,
        );
        let labels_buf = buffer(
            "Simulation::labels",
            std::mem::size_of::<LabelTableGpu>() as u64,
            un,
        );
        let plasma_buf = buffer(
            "Simulation::compartments",
            compartments_bytes(np, problem.depots.len()),
            st,
        );
        let sources_buf = buffer("Simulation::sources", ((np + 1) * 16) as u64, st);
        let region_entries = (np * REGION_SLOTS * REGION_ENTRY) as u64;
        // One slot of regional totals per workgroup (the ledger's workgroups).
        let workgroups = (slots / limits.sub_slots) as u64;
        let region_slots = buffer(
            "Simulation::region_slots",
            workgroups * region_entries * 4,
            st,
        );
        let region_totals_buf = buffer("Simulation::region_totals", region_entries * 4, st);

        let ledger_floats = slots as u64 * np as u64 * consts::LEDGER_TERMS as u64 * 2 * 4;
        let ledger_buf = buffer("Simulation::ledger", ledger_floats * 4, st);
        let entries = np as u32 * consts::LEDGER_TERMS;
        let totals_buf = buffer("Simulation::ledger_totals", entries as u64 * 32, st);
        let reduce_info = buffer(
            "Simulation::reduce_info",
            std::mem::size_of::<ReduceInfo>() as u64,
            un,
        );

        let stage_stride = (std::mem::size_of::<StageParams>() as u64)
            .max(ctx.device.limits().min_uniform_buffer_offset_alignment as u64);
        let stage_capacity = 256usize;
        let stage_buf = buffer(
            "Simulation::stages",
            stage_stride * stage_capacity as u64,
            un,
        );

        let mut slabs = Vec::new();
        let field_voxel = (np * 16) as u64;
        for span in plan.slabs {
            let info = span.info;
            let held = span.voxels.len() as u64;
            let fields = [
                buffer("Simulation::fields_a", held * field_voxel, st),
                buffer("Simulation::fields_b", held * field_voxel, st),
            ];
            let voxels = buffer("Simulation::voxels", held * 4, st);
            let bricks = buffer(
                "Simulation::bricks",
                span.held.len() as u64 * BRICK_BYTES,
                st,
            );
            let exposure = buffer(
                "Simulation::exposure",
                if exposure_on {
                    EXPOSURE_ENTRIES as u64 * held * field_voxel
                } else {
                    16
                },
                st,
            );
            let segments = buffer(
                "Simulation::segments",
                if with_segments {
                    held.next_multiple_of(16)
                } else {
                    16
                },
                st,
            );
            let info_buf = buffer(
                "Simulation::slab_info",
                std::mem::size_of::<SlabInfo>() as u64,
                un,
            );
            queue.write_buffer(&info_buf, 0, bytemuck::bytes_of(&info));
            let group = |from: usize, to: usize| {
                device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("Simulation::slab"),
                    layout: &p.slab_layout,
                    entries: &[
                        entry(0, &fields[from]),
                        entry(1, &fields[to]),
                        entry(2, &voxels),
                        entry(3, &ledger_buf),
                        entry(4, &info_buf),
                        entry(5, &exposure),
                        entry(6, &bricks),
                    ],
                })
            };
            let groups = [group(0, 1), group(1, 0)];
            slabs.push(Slab {
                dispatch: [info.groups, np as u32, 1],
                span,
                fields,
                voxels,
                bricks,
                exposure,
                segments,
                info: info_buf,
                groups,
            });
        }
        if let Some(e) = scope.error() {
            drop(slabs);
            let avail = probe_memory(&device, ctx.report.max_buffer_size);
            let side = largest_cube(avail, per_voxel);
            return Err(SimError::TooLarge(format!(
                "'{}' could not allocate the {nx}×{ny}×{nz} grid ({:.1} GiB, {e}); about {:.1} GiB could be allocated: the largest cubic grid that fits is {side}³",
                ctx.report.name,
                gpu_bytes as f64 / (1u64 << 30) as f64,
                avail as f64 / (1u64 << 30) as f64,
            )));
        }

        let globals = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Simulation::globals"),
            layout: &p.globals_layout,
            entries: &[
                entry(0, &species_buf),
                entry(1, &labels_buf),
                entry(2, &plasma_buf),
                entry(3, &sources_buf),
            ],
        });
        let stage_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Simulation::stage"),
            layout: &p.stage_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &stage_buf,
                    offset: 0,
                    size: NonZeroU64::new(std::mem::size_of::<StageParams>() as u64),
                }),
            }],
        });
        let reduce_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Simulation::reduce"),
            layout: &p.reduce_layout,
            entries: &[
                entry(0, &ledger_buf),
                entry(1, &totals_buf),
                entry(2, &reduce_info),
            ],
        });
        queue.write_buffer(
            &reduce_info,
            0,
            bytemuck::bytes_of(&ReduceInfo {
                slots,
                entries,
                ..ReduceInfo::zeroed()
            }),
        );

        let region_species_group = device_group(&device, &p.region_species_layout, &species_buf);
        let level_pipelines = p.levels;
        let mut sim = Simulation {
            #[cfg(target_arch = "wasm32")]
            known: std::sync::Mutex::new(known::Known::of(problem)),
            layout: plan.layout,
            device,
            queue,
            errors: ctx.errors.clone(),
            adapter_name: ctx.report.name.clone(),
            dims: [nx, ny, nz],
            n_voxels: problem.voxel_count(),
            n_species: ns,
            voxel_ml: problem.grid.voxel_ml(),
            plan: problem.plan(),
            problem: Problem {
                initial: Vec::new(),
                ..problem.clone()
            },
            slabs,
            cur: 0,
            globals,
            plasma_buf,
            sources_buf,
            globals_layout: p.globals_layout,
            species_buf,
            labels_buf,
            stage_buf,
            stage_group,
            stage_stride,
            stage_capacity,
            ledger_buf,
            slots,
            totals_buf,
            reduce_group,
            diffuse: p.diffuse,
            diffuse_react: p.diffuse_react,
            react: p.react,
            mass: p.mass,
            reduce: p.reduce,
            initial_amount: Vec::new(),
            time: 0.0,
            steps: 0,
            gpu_bytes,
            source_voxels: Vec::new(),
            depot_kernels: DepotKernels {
                sample: p.depot_sample,
                update: p.depot_update,
                sample_groups: Vec::new(),
                update_group: None,
                info_buf: None,
                conc_buf: None,
                cells_buf: None,
                weights_buf: None,
            },
            plasma_kernel: PlasmaKernel {
                pipeline: p.plasma_update,
                predict: p.plasma_predict,
                layout: p.plasma_layout,
                group: None,
                remote_buf: None,
                state_buf: None,
                info_buf: None,
                kin_buf: None,
            },
            region_kernel: RegionKernel {
                stats: p.region_stats,
                totals: p.region_totals,
                layout: p.region_layout,
                species_group: region_species_group,
                slots: region_slots,
                totals_buf: region_totals_buf,
            },
            regions: regions_of(problem),
            region_blood: Vec::new(),
            level_kernels: None,
        };
        sim.region_blood = region_blood(&sim.regions, &problem.grid, &problem.segments);
        sim.upload_parameters();
        sim.upload_voxels()?;
        sim.upload_segments();
        sim.build_depot_kernels();
        // A new run has exchanged nothing with the plasma yet: no ledger to read.
        sim.build_plasma_kernel(false)?;
        sim.build_level_kernels(level_pipelines)?;
        sim.set_fields(&problem.initial)?;
        sim.write_stages()?;
        sim.queue
            .write_buffer(&sim.ledger_buf, 0, &vec![0u8; (ledger_floats * 4) as usize]);
        // The GPU's own sum, as the ledger will count; the browser cannot wait for it and
        // counts the same initial fields on the host (they agree to f32 round-off).
        #[cfg(not(target_arch = "wasm32"))]
        {
            sim.initial_amount = sim.ledger()?.species.iter().map(|l| l.in_tissue).collect();
        }
        #[cfg(target_arch = "wasm32")]
        {
            sim.initial_amount = problem.tissue_amounts(&problem.initial);
        }
        Ok(sim)
    }

    /// Amount in tissue at the start, ng per species.
    pub fn initial_amounts(&self) -> &[f64] {
        &self.initial_amount
    }

    pub fn plan(&self) -> &StagePlan {
        &self.plan
    }

    /// Simulated time, s.
    pub fn time(&self) -> f64 {
        self.time
    }

    pub fn steps_taken(&self) -> u64 {
        self.steps
    }

    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    pub fn n_species(&self) -> usize {
        self.n_species
    }

    /// Voxel volume, mL.
    pub fn voxel_ml(&self) -> f64 {
        self.voxel_ml
    }

    /// Number of slabs the grid is cut into.
    pub fn slab_count(&self) -> usize {
        self.slabs.len()
    }

    /// Slabs per level (one entry without refinement; a level's patches together).
    pub fn slabs_per_level(&self) -> Vec<usize> {
        let mut out = vec![0; self.problem.finest_level() + 1];
        for s in &self.slabs {
            out[self.problem.grid_level(s.span.grid)] += 1;
        }
        out
    }

    /// Grids per level: 1 for level 0, then each finer level's patches.
    pub fn grids_per_level(&self) -> Vec<usize> {
        let mut out = vec![0; self.problem.finest_level() + 1];
        for k in 0..self.layout.levels.len() {
            out[self.problem.grid_level(k)] += 1;
        }
        out
    }

    /// Stored voxels (the tissue voxels) and stored bricks.
    pub fn stored(&self) -> (usize, usize) {
        (self.layout.voxels(), self.layout.bricks())
    }

    /// Number of ledger slots (partial sums: one per subgroup of each workgroup, or one per
    /// workgroup without subgroup operations).
    pub fn ledger_slots(&self) -> u32 {
        self.slots
    }

    /// GPU memory held by the simulation, bytes.
    pub fn gpu_bytes(&self) -> u64 {
        self.gpu_bytes
    }

    /// The part of [`Simulation::gpu_bytes`] that holds readouts rather than the solver's
    /// state: the exposure integrals and the AHA segments, bytes.
    pub fn readout_bytes(&self) -> u64 {
        self.slabs
            .iter()
            .map(|s| s.exposure.size() + s.segments.size())
            .sum()
    }

    pub fn adapter_name(&self) -> &str {
        &self.adapter_name
    }

    /// The problem as uploaded (with the current sources, plasma and dt; without the initial
    /// fields, which are not kept on the host).
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// Voxels that carry a source slot, in slot order.
    pub fn source_voxels(&self) -> &[usize] {
        &self.source_voxels
    }
}

/// The most a grid may take on the GPU in the browser, bytes. WebGPU does not tell a page
/// how much memory its GPU has, and a page whose allocation fails loses its device: the
/// browser build refuses larger grids at once, with the voxel that would fit.
#[cfg(target_arch = "wasm32")]
pub const WEB_GRID_BUDGET: u64 = 1 << 30;

/// Refuses a grid that needs more than `budget` bytes on the GPU, in one line naming the
/// voxel edge that would fit (the browser's limit, [`WEB_GRID_BUDGET`]).
pub fn within_budget(problem: &Problem, budget: u64, adapter: &str) -> Result<()> {
    let need = grid_bytes(problem);
    if need <= budget {
        return Ok(());
    }
    // Bytes scale as 1/h³: the voxel that fits, rounded up to a tenth of a millimetre.
    let h = problem.grid.spacing * (need as f64 / budget as f64).cbrt();
    let fits = (h * 10.0).ceil() / 10.0;
    Err(SimError::TooLarge(format!(
        "this grid needs {} MiB of GPU memory, more than the {} MiB a page may take here ('{adapter}'): choose a coarser voxel, {fits:.1} mm or more",
        need.div_ceil(1 << 20),
        budget >> 20
    )))
}
