//! `Simulation`: the GPU solver. Owns the fields, the pipelines of every kernel in `shaders/`
//! and the ledger; `step` advances the fields without reading anything back.
//!
//! The grid is cut into z-slabs so that no storage binding exceeds the adapter's limit
//! (lavapipe: 128 MiB); each slab buffer carries one ghost plane on either side, refreshed by
//! buffer copies after every stage. Memory: two f32 copies of every field (species packed four
//! to a vec4) plus one u32 voxel word (label, closed faces, flags, source slot) per voxel —
//! 36 bytes per voxel for four species.

mod depots;
mod plasma;

use plasma::{constant_course, plasma_now};

use std::num::NonZeroU64;

use bytemuck::Zeroable;

use crate::error::{Result, SimError};
use crate::gpu::layout::{
    consts, packs, DepotCells, DepotInfo, DepotSlabInfo, LabelParams, LabelTableGpu, PlasmaCourse,
    PlasmaInfo, ReduceInfo, SlabInfo, SpeciesPack, StageParams, PACK,
};
use crate::gpu::{read_buffer, shaders, ErrorSlot, GpuContext, PendingRead};
use crate::model::TissueLabel;
use crate::sim::ledger::{Ledger, PlasmaLedger, SpeciesLedger};
use crate::sim::problem::{DepotSource, Problem, SourceMap};
use crate::sim::readouts::{regions, Exposure, Region, RegionStat, SpeciesStats};
use crate::sim::scheme::StagePlan;

/// Bytes of GPU memory per voxel for `n_species` fields (two copies of each field, species in
/// packs of four, one voxel word), not counting ghost planes and the ledger.
pub fn bytes_per_voxel(n_species: usize) -> usize {
    32 * packs(n_species) + 4
}

/// Options that change how the grid is laid out on the GPU (for tests of large-grid paths).
#[derive(Clone, Copy, Debug, Default)]
pub struct LayoutOptions {
    /// Cap on one slab buffer, bytes (default: the adapter's binding limit).
    pub max_slab_bytes: Option<u64>,
    /// Memory the grid may use, bytes (default: system memory for CPU adapters, otherwise
    /// whatever the device lets us allocate).
    pub memory_budget: Option<u64>,
    /// z-planes each invocation of the grid kernels walks (default: 32 on a GPU, up to 128
    /// through a CPU driver). Fewer means more invocations in flight, each with a shorter
    /// sliding window; `bench --z-chunk` tries it.
    pub z_chunk: Option<u32>,
    /// Reduce the stages' ledger terms with a workgroup tree even where the device has
    /// subgroup operations (the fallback's own tests).
    pub tree_reduction: bool,
}

struct Slab {
    /// Global z of the first own plane.
    z0: usize,
    /// Own planes.
    nz: usize,
    fields: [wgpu::Buffer; 2],
    voxels: wgpu::Buffer,
    /// AUC and time above EC50, two vec4 per field entry (a 16-byte stub without exposure).
    exposure: wgpu::Buffer,
    /// AHA segment per voxel, four to a u32 (a 16-byte stub without segments).
    segments: wgpu::Buffer,
    info: wgpu::Buffer,
    /// Bind groups: [0] reads fields[0] and writes fields[1]; [1] the reverse.
    groups: [wgpu::BindGroup; 2],
    dispatch: [u32; 3],
}

/// One slab's current fields, as [`Simulation::field_slabs`] lends them: planes `z0..z0 + nz`
/// of the grid, stored with one ghost plane on each side, species in packs of four
/// (`vec4` index `((p * packs + s / 4) * ny + y) * nx + x`, plane `p = z − z0 + 1`).
pub struct FieldSlab<'a> {
    pub fields: &'a wgpu::Buffer,
    pub z0: usize,
    pub nz: usize,
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
    read: PendingRead,
    steps: u64,
    time: f64,
    depots: usize,
    remote: usize,
}

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
    const MAGIC: &'static [u8; 16] = b"SECRETOME-STATE2";

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

/// The GPU solver.
pub struct Simulation {
    device: wgpu::Device,
    queue: wgpu::Queue,
    errors: ErrorSlot,
    adapter_name: String,
    /// z-planes each invocation of the grid kernels walks.
    z_chunk: u32,
    dims: [usize; 3],
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
}

/// The regional readouts (`regions.wgsl`): per-slab statistics into buckets, then totals.
struct RegionKernel {
    stats: wgpu::ComputePipeline,
    totals: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    species_group: wgpu::BindGroup,
    buckets: wgpu::Buffer,
    totals_buf: wgpu::Buffer,
}

/// Layout constants of `regions.wgsl`.
const REGION_SLOTS: usize = 26;
const REGION_ENTRY: usize = 28;
/// vec4 entries per field entry in the exposure buffers (`EXPOSURE_ENTRIES` in common.wgsl):
/// AUC, time above EC50, occupancy integral.
const EXPOSURE_ENTRIES: usize = 3;
const REGION_BUCKETS: usize = 128;

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

fn storage(ro: bool, binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only: ro },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

fn uniform(binding: u32, dynamic: bool, size: u64) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: dynamic,
            min_binding_size: NonZeroU64::new(size),
        },
        count: None,
    }
}

/// The bind group layout of `entries` and a pipeline layout of that one group.
fn one_group_layout(
    device: &wgpu::Device,
    label: &str,
    entries: &[wgpu::BindGroupLayoutEntry],
) -> (wgpu::BindGroupLayout, wgpu::PipelineLayout) {
    let group = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries,
    });
    let pipeline = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &[Some(&group)],
        immediate_size: 0,
    });
    (group, pipeline)
}

fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}

/// Available system memory (bytes) from /proc/meminfo, for CPU adapters.
fn system_memory_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Largest cube side whose grid fits `bytes` at `per_voxel` bytes per voxel.
fn largest_cube(bytes: u64, per_voxel: u64) -> u64 {
    let mut n = ((bytes / per_voxel.max(1)) as f64).cbrt() as u64;
    while (n + 1).pow(3) * per_voxel <= bytes {
        n += 1;
    }
    while n > 0 && n.pow(3) * per_voxel > bytes {
        n -= 1;
    }
    n
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
        let plane_voxels = (nx * ny) as u64;
        let field_plane = plane_voxels * np as u64 * 16;
        let max_slab = opts
            .max_slab_bytes
            .unwrap_or(u64::MAX)
            .min(ctx.max_binding_bytes());
        // Exposure adds two vec4 per pack, segments one byte per voxel.
        let exposure_on = problem.exposure;
        let with_segments = !problem.segments.is_empty();
        let per_voxel = bytes_per_voxel(ns) as u64
            + if exposure_on {
                (EXPOSURE_ENTRIES * 16 * np) as u64
            } else {
                0
            }
            + u64::from(with_segments);

        // Memory budget first: a clear error instead of an allocation failure half-way.
        let need = problem.grid.voxel_count() as u64 * per_voxel;
        let budget = opts.memory_budget.or_else(|| {
            if ctx.is_cpu() {
                system_memory_available().map(|m| m / 10 * 8)
            } else {
                None
            }
        });
        if let Some(budget) = budget {
            if need > budget {
                let side = largest_cube(budget, per_voxel);
                return Err(SimError::TooLarge(format!(
                    "a {nx}×{ny}×{nz} grid with {ns} species needs {:.1} GiB of GPU memory, but '{}' has about {:.1} GiB for it: the largest cubic grid that fits is {side}³",
                    need as f64 / (1u64 << 30) as f64,
                    ctx.report.name,
                    budget as f64 / (1u64 << 30) as f64
                )));
            }
        }
        // One z-plane (with its ghosts) must fit in one binding; the exposure buffer, twice a
        // field buffer, is the largest.
        let binding_plane = if exposure_on {
            EXPOSURE_ENTRIES as u64 * field_plane
        } else {
            field_plane
        };
        if 3 * binding_plane > max_slab {
            return Err(SimError::TooLarge(format!(
                "one z-plane of {nx}×{ny} voxels × {ns} species is {} MiB, more than a third of the largest storage binding on '{}' ({} MiB): use fewer voxels in x and y",
                binding_plane >> 20,
                ctx.report.name,
                max_slab >> 20
            )));
        }
        let planes_per_slab = (max_slab / binding_plane - 2) as usize;
        let n_slabs = nz.div_ceil(planes_per_slab);
        let slab_nz = nz.div_ceil(n_slabs);

        let groups_x = nx.div_ceil(consts::GROUP_XY as usize) as u32;
        let groups_y = ny.div_ceil(consts::GROUP_XY as usize) as u32;
        let max_groups = ctx.report.max_workgroups_per_dim;
        let z_chunk = opts
            .z_chunk
            .unwrap_or_else(|| {
                default_z_chunk(ctx.is_cpu(), groups_x * groups_y * np as u32, slab_nz)
            })
            .max(1);
        let chunks_max = slab_nz.div_ceil(z_chunk as usize) as u32;
        if groups_x > max_groups
            || groups_y > max_groups
            || chunks_max as u64 * np as u64 > max_groups as u64
        {
            return Err(SimError::TooLarge(format!(
                "a {nx}×{ny}×{nz} grid with {ns} species needs more than {max_groups} workgroups along one dimension on '{}'",
                ctx.report.name
            )));
        }

        // Layouts and pipelines.
        let slab_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Simulation::slab"),
            entries: &[
                storage(true, 0),
                storage(false, 1),
                storage(true, 2),
                storage(false, 3),
                uniform(4, false, std::mem::size_of::<SlabInfo>() as u64),
                storage(false, 5),
            ],
        });
        let globals_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Simulation::globals"),
            entries: &[
                storage(true, 0),
                uniform(1, false, std::mem::size_of::<LabelTableGpu>() as u64),
                storage(true, 2),
                storage(true, 3),
            ],
        });
        let stage_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Simulation::stage"),
            entries: &[uniform(0, true, std::mem::size_of::<StageParams>() as u64)],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("Simulation::grid_kernels"),
            bind_group_layouts: &[
                Some(&slab_layout),
                Some(&globals_layout),
                Some(&stage_layout),
            ],
            immediate_size: 0,
        });
        let subgroups = ctx.subgroups() && !opts.tree_reduction;
        let modules = shaders::modules(subgroups);
        let module = |name: &str| -> Result<wgpu::ShaderModule> {
            let src = modules
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| s.as_str())
                .ok_or_else(|| SimError::Gpu(format!("missing shader {name}")))?;
            ctx.shader(name, src)
        };
        // Every kernel writes its workgroup arrays before reading them, so the zero fill that
        // wgpu adds by default would only cost time.
        let specialised = |label: &str,
                           m: &wgpu::ShaderModule,
                           entry: &str,
                           layout: &wgpu::PipelineLayout,
                           constants: &[(&str, f64)]| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: Some(layout),
                module: m,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            })
        };
        let pipeline =
            |label: &str, m: &wgpu::ShaderModule, entry: &str, layout: &wgpu::PipelineLayout| {
                specialised(label, m, entry, layout, &[])
            };
        let diffuse_module = module("diffuse.wgsl")?;
        let diffuse = specialised(
            "Simulation::diffuse_stage",
            &diffuse_module,
            "diffuse_stage",
            &layout,
            &[("REACT_STAGE", 0.0)],
        );
        let exposure_constant = [("EXPOSURE", f64::from(u8::from(exposure_on)))];
        let diffuse_react = specialised(
            "Simulation::diffuse_stage_react",
            &diffuse_module,
            "diffuse_stage",
            &layout,
            &[("REACT_STAGE", 1.0), exposure_constant[0]],
        );
        let react = specialised(
            "Simulation::react_half_step",
            &module("react.wgsl")?,
            "react_half_step",
            &layout,
            &exposure_constant,
        );
        let mass = pipeline(
            "Simulation::tissue_amount",
            &module("mass.wgsl")?,
            "tissue_amount",
            &layout,
        );

        let (reduce_layout, reduce_pl) = one_group_layout(
            &device,
            "Simulation::reduce",
            &[
                storage(true, 0),
                storage(false, 1),
                uniform(2, false, std::mem::size_of::<ReduceInfo>() as u64),
            ],
        );
        let reduce = pipeline(
            "Simulation::reduce_ledger",
            &module("reduce.wgsl")?,
            "reduce_ledger",
            &reduce_pl,
        );

        // Regional readouts: the slab bindings they read, the segments, buckets and totals.
        let region_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("Simulation::regions"),
            entries: &[
                storage(true, 0),
                storage(true, 2),
                uniform(4, false, std::mem::size_of::<SlabInfo>() as u64),
                storage(false, 5),
                storage(true, 6),
                storage(false, 7),
                storage(false, 8),
            ],
        });
        let region_species_layout =
            device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("Simulation::regions_species"),
                entries: &[storage(true, 0)],
            });
        let region_pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("Simulation::regions"),
            bind_group_layouts: &[Some(&region_layout), Some(&region_species_layout)],
            immediate_size: 0,
        });
        let region_module = module("regions.wgsl")?;
        let region_stats = specialised(
            "Simulation::region_stats",
            &region_module,
            "region_stats",
            &region_pl,
            &exposure_constant,
        );
        let region_totals = pipeline(
            "Simulation::region_totals",
            &region_module,
            "region_totals",
            &region_pl,
        );

        let depot_sample = pipeline_auto(&device, &module("depot_sample.wgsl")?, "depot_sample");
        let depot_update = pipeline_auto(&device, &module("depot_update.wgsl")?, "depot_update");
        let (plasma_layout, plasma_pl) = one_group_layout(
            &device,
            "Simulation::plasma",
            &[
                storage(true, 0),
                storage(false, 1),
                storage(false, 2),
                storage(false, 3),
                storage(true, 4),
                uniform(5, false, std::mem::size_of::<PlasmaInfo>() as u64),
            ],
        );
        let plasma_module = module("plasma_update.wgsl")?;
        let plasma_update = pipeline(
            "Simulation::plasma_update",
            &plasma_module,
            "plasma_update",
            &plasma_pl,
        );
        let plasma_predict = pipeline(
            "Simulation::plasma_predict",
            &plasma_module,
            "plasma_predict",
            &plasma_pl,
        );

        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
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
        let buckets = buffer(
            "Simulation::region_buckets",
            REGION_BUCKETS as u64 * region_entries * 4,
            st,
        );
        let region_totals_buf = buffer("Simulation::region_totals", region_entries * 4, st);

        // Slabs and ledger slots: with subgroup operations one slot per subgroup of a
        // workgroup's 64 invocations (subgroups have at least 4), else one per workgroup.
        let sub_slots = if subgroups {
            (64 / ctx.subgroup_min_size().max(4)).max(1)
        } else {
            1
        };
        let mut slab_specs = Vec::new();
        let mut slots = 0u32;
        let mut z0 = 0;
        while z0 < nz {
            let snz = slab_nz.min(nz - z0);
            let chunks = snz.div_ceil(z_chunk as usize) as u32;
            let info = SlabInfo {
                nx: nx as u32,
                ny: ny as u32,
                nz_total: nz as u32,
                z0: z0 as u32,
                nz: snz as u32,
                chunks,
                n_packs: np as u32,
                slot_offset: slots,
                groups_x,
                groups_y,
                z_chunk,
                sub_slots,
                inv_h2: (1.0 / (problem.grid.spacing * problem.grid.spacing)) as f32,
                voxel_ml: problem.grid.voxel_ml() as f32,
                ..SlabInfo::zeroed()
            };
            slots += groups_x * groups_y * chunks;
            slab_specs.push((z0, snz, info));
            z0 += snz;
        }
        // Each workgroup owns sub_slots slots, one per subgroup (slot_offset counts workgroups).
        let slots = slots * sub_slots;
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
        for (z0, snz, info) in slab_specs {
            let planes = (snz + 2) as u64;
            let fields = [
                buffer("Simulation::fields_a", planes * field_plane, st),
                buffer("Simulation::fields_b", planes * field_plane, st),
            ];
            let voxels = buffer("Simulation::voxels", planes * plane_voxels * 4, st);
            let exposure = buffer(
                "Simulation::exposure",
                if exposure_on {
                    EXPOSURE_ENTRIES as u64 * planes * field_plane
                } else {
                    16
                },
                st,
            );
            let segments = buffer(
                "Simulation::segments",
                if with_segments {
                    (planes * plane_voxels).next_multiple_of(16)
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
                    layout: &slab_layout,
                    entries: &[
                        entry(0, &fields[from]),
                        entry(1, &fields[to]),
                        entry(2, &voxels),
                        entry(3, &ledger_buf),
                        entry(4, &info_buf),
                        entry(5, &exposure),
                    ],
                })
            };
            let groups = [group(0, 1), group(1, 0)];
            slabs.push(Slab {
                z0,
                nz: snz,
                dispatch: [groups_x, groups_y, info.chunks * np as u32],
                fields,
                voxels,
                exposure,
                segments,
                info: info_buf,
                groups,
            });
        }
        if let Some(e) = pollster::block_on(scope.pop()) {
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
            layout: &globals_layout,
            entries: &[
                entry(0, &species_buf),
                entry(1, &labels_buf),
                entry(2, &plasma_buf),
                entry(3, &sources_buf),
            ],
        });
        let stage_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("Simulation::stage"),
            layout: &stage_layout,
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
            layout: &reduce_layout,
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

        let region_species_group = device_group(&device, &region_species_layout, &species_buf);
        let mut sim = Simulation {
            z_chunk,
            device,
            queue,
            errors: ctx.errors.clone(),
            adapter_name: ctx.report.name.clone(),
            dims: [nx, ny, nz],
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
            globals_layout,
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
            diffuse,
            diffuse_react,
            react,
            mass,
            reduce,
            initial_amount: Vec::new(),
            time: 0.0,
            steps: 0,
            gpu_bytes,
            source_voxels: Vec::new(),
            depot_kernels: DepotKernels {
                sample: depot_sample,
                update: depot_update,
                sample_groups: Vec::new(),
                update_group: None,
                info_buf: None,
                conc_buf: None,
                cells_buf: None,
                weights_buf: None,
            },
            plasma_kernel: PlasmaKernel {
                pipeline: plasma_update,
                predict: plasma_predict,
                layout: plasma_layout,
                group: None,
                remote_buf: None,
                state_buf: None,
                info_buf: None,
                kin_buf: None,
            },
            region_kernel: RegionKernel {
                stats: region_stats,
                totals: region_totals,
                layout: region_layout,
                species_group: region_species_group,
                buckets,
                totals_buf: region_totals_buf,
            },
            regions: regions(&problem.grid, &problem.segments),
        };
        sim.upload_parameters();
        sim.upload_voxels()?;
        sim.upload_segments();
        sim.build_depot_kernels();
        sim.build_plasma_kernel()?;
        sim.set_fields(&problem.initial)?;
        sim.write_stages()?;
        sim.queue
            .write_buffer(&sim.ledger_buf, 0, &vec![0u8; (ledger_floats * 4) as usize]);
        sim.initial_amount = sim.ledger()?.species.iter().map(|l| l.in_tissue).collect();
        Ok(sim)
    }

    fn upload_parameters(&mut self) {
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
    fn write_species(&mut self) {
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
    fn write_compartments(&mut self) {
        let np = packs(self.n_species);
        let mut data: Vec<f32> =
            bytemuck::cast_slice(&constant_course(&self.problem.plasma)).to_vec();
        let scales = self.problem.depot_scales();
        let mut s: Vec<f32> = scales.iter().map(|&x| x as f32).collect();
        s.resize(scales.len().div_ceil(PACK) * PACK, 0.0);
        data.extend(s);
        let needed = compartments_bytes(np, self.problem.depots.len());
        if needed > self.plasma_buf.size() {
            self.plasma_buf = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("Simulation::compartments"),
                size: needed.next_power_of_two(),
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            self.rebuild_globals();
            self.bind_plasma_kernel();
        }
        self.queue
            .write_buffer(&self.plasma_buf, 0, bytemuck::cast_slice(&data));
    }

    fn rebuild_globals(&mut self) {
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

    /// Writes voxel words (see `common.wgsl`: label, closed faces, flags, source slot) and
    /// the source entries of the fixed source map and the depots.
    fn upload_voxels(&mut self) -> Result<()> {
        let [nx, ny, nz] = self.dims;
        let mut words = voxel_words(&self.problem.grid, &self.problem.labels);
        let np = packs(self.n_species);
        let stride = np + 1;
        let entries = self.problem.source_entries();
        let n_entries: usize = entries.values().map(|e| e.len()).sum();
        if n_entries >= (1 << 21) - 1 {
            return Err(SimError::Problem(format!(
                "{n_entries} source entries: at most 2 million fit the voxel word"
            )));
        }
        let needed = (n_entries.max(1) * stride * 16) as u64;
        if needed > self.sources_buf.size() {
            self.sources_buf = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("Simulation::sources"),
                size: needed.next_power_of_two(),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            self.rebuild_globals();
        }
        let mut table: Vec<f32> = Vec::with_capacity(n_entries * stride * PACK);
        let mut next = 0usize;
        for (&v, list) in &entries {
            words[v] |= ((next + 1) as u32) << consts::SLOT_SHIFT;
            for e in list {
                table.extend([e.depot as f32, list.len() as f32, 0.0, 0.0]);
                table.extend(padded(&e.rates));
            }
            next += list.len();
        }
        if !table.is_empty() {
            self.queue
                .write_buffer(&self.sources_buf, 0, bytemuck::cast_slice(&table));
        }
        self.source_voxels = entries.keys().copied().collect();
        let plane = nx * ny;
        for slab in &self.slabs {
            let mut data = vec![0u32; (slab.nz + 2) * plane];
            for p in 0..slab.nz + 2 {
                let gz = slab.z0 as isize + p as isize - 1;
                if gz < 0 || gz >= nz as isize {
                    continue;
                }
                let g = gz as usize * plane;
                data[p * plane..(p + 1) * plane].copy_from_slice(&words[g..g + plane]);
            }
            self.queue
                .write_buffer(&slab.voxels, 0, bytemuck::cast_slice(&data));
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
            // Dynamic plasma lives on the GPU: keep it as it is now.
            self.problem.plasma = self
                .plasma_state()?
                .0
                .iter()
                .map(|l| l.concentration)
                .collect();
        }
        self.problem.depots = depots.to_vec();
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

    /// Writes the stage parameters of one step: slot 0 the leading reaction half-step,
    /// slots 1..=s the diffusion stages (the last fused with the trailing half-step), slot
    /// s + 1 the last stage also fused with the next step's leading half-step.
    fn write_stages(&mut self) -> Result<()> {
        let s = self.plan.stages();
        if s + 2 > self.stage_capacity {
            self.stage_capacity = (s + 2).next_power_of_two();
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
        let terms = self.problem.terms.bits();
        let tau = (0.5 * self.plan.dt) as f32;
        let mut bytes = vec![0u8; self.stage_stride as usize * (s + 2)];
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
        self.queue.write_buffer(&self.stage_buf, 0, &bytes);
        Ok(())
    }

    /// Copies the edge planes of the buffer `which` into the neighbouring slabs' ghosts.
    fn exchange_ghosts(&self, enc: &mut wgpu::CommandEncoder, which: usize) {
        let plane = (self.dims[0] * self.dims[1] * packs(self.n_species) * 16) as u64;
        for pair in self.slabs.windows(2) {
            let (lo, hi) = (&pair[0], &pair[1]);
            enc.copy_buffer_to_buffer(
                &lo.fields[which],
                lo.nz as u64 * plane,
                &hi.fields[which],
                0,
                plane,
            );
            enc.copy_buffer_to_buffer(
                &hi.fields[which],
                plane,
                &lo.fields[which],
                (lo.nz as u64 + 1) * plane,
                plane,
            );
        }
    }

    fn dispatch_all(
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
    fn encode_step(&mut self, enc: &mut wgpu::CommandEncoder, lead: bool, fuse_next: bool) {
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

    /// Uploads fields (ng/mL, species-major `[s * n_voxels + voxel]`).
    pub fn set_fields(&mut self, fields: &[f32]) -> Result<()> {
        let [nx, ny, nz] = self.dims;
        let n = nx * ny * nz;
        let ns = self.n_species;
        if fields.len() != n * ns {
            return Err(SimError::Problem(format!(
                "{} field values for {ns} species × {n} voxels",
                fields.len()
            )));
        }
        let plane = nx * ny;
        for slab in &self.slabs {
            let np = packs(ns);
            let mut data = vec![0f32; (slab.nz + 2) * plane * np * PACK];
            for p in 0..slab.nz + 2 {
                let gz = slab.z0 as isize + p as isize - 1;
                if gz < 0 || gz >= nz as isize {
                    continue;
                }
                for s in 0..ns {
                    let g = s * n + gz as usize * plane;
                    let o = (p * np + s / PACK) * plane;
                    for (i, &v) in fields[g..g + plane].iter().enumerate() {
                        data[(o + i) * PACK + s % PACK] = v;
                    }
                }
            }
            self.queue
                .write_buffer(&slab.fields[self.cur], 0, bytemuck::cast_slice(&data));
        }
        Ok(())
    }

    /// Reads the current fields back (ng/mL, species-major `[s * n_voxels + voxel]`).
    pub fn read_fields(&self) -> Result<Vec<f32>> {
        let [nx, ny, nz] = self.dims;
        let n = nx * ny * nz;
        let ns = self.n_species;
        let plane = nx * ny;
        self.errors.check()?;
        let mut out = vec![0f32; n * ns];
        for slab in &self.slabs {
            let bytes = read_buffer(
                &self.device,
                &self.queue,
                &slab.fields[self.cur],
                0,
                slab.fields[self.cur].size(),
            )?;
            let data: &[f32] = bytemuck::cast_slice(&bytes);
            for p in 1..=slab.nz {
                let gz = slab.z0 + p - 1;
                for s in 0..ns {
                    let g = s * n + gz * plane;
                    let o = (p * packs(ns) + s / PACK) * plane;
                    for (i, v) in out[g..g + plane].iter_mut().enumerate() {
                        *v = data[(o + i) * PACK + s % PACK];
                    }
                }
            }
        }
        Ok(out)
    }

    /// Writes the AHA segment of every voxel (four to a u32) into each slab, ghosts included.
    fn upload_segments(&mut self) {
        if self.problem.segments.is_empty() {
            return;
        }
        let plane = self.dims[0] * self.dims[1];
        let nz = self.dims[2];
        for slab in &self.slabs {
            let mut data = vec![0u8; ((slab.nz + 2) * plane).next_multiple_of(16)];
            for p in 0..slab.nz + 2 {
                let gz = slab.z0 as isize + p as isize - 1;
                if gz < 0 || gz >= nz as isize {
                    continue;
                }
                let g = gz as usize * plane;
                data[p * plane..(p + 1) * plane]
                    .copy_from_slice(&self.problem.segments[g..g + plane]);
            }
            self.queue.write_buffer(&slab.segments, 0, &data);
        }
    }

    /// Whether the exposure readouts are being accumulated ([`Problem::exposure`]).
    pub fn has_exposure(&self) -> bool {
        self.problem.exposure
    }

    fn require_exposure(&self) -> Result<()> {
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

    fn region_bytes(&self) -> u64 {
        (packs(self.n_species) * REGION_SLOTS * REGION_ENTRY * 4) as u64
    }

    /// Records the regional reduction of the current fields into the totals buffer.
    fn encode_region_stats(&self, enc: &mut wgpu::CommandEncoder) {
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
    fn decode_region_stats(&self, bytes: &[u8]) -> Vec<RegionStat> {
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
        let stride = (2 + 3 * np) as u64 * 16;
        let mut sources = vec![
            (&self.plasma_buf, 0, compartments_bytes(np, nd)),
            (&self.region_kernel.totals_buf, 0, self.region_bytes()),
        ];
        let remote = match &self.plasma_kernel.remote_buf {
            Some(rb) if nr > 0 => {
                sources.push((rb, 0, nr as u64 * stride));
                nr
            }
            _ => 0,
        };
        PendingSnapshot {
            read: PendingRead::start(&self.device, &self.queue, enc, &sources),
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
        let depot_cells = (0..pending.depots)
            .map(|d| {
                comp.get(scale_offset(np) + d + 1)
                    .map_or(0.0, |&v| v as f64)
            })
            .collect();
        let regions = self.decode_region_stats(&parts[1]);
        let remote_cells = match parts.get(2) {
            Some(bytes) => {
                let r: Vec<f32> = bytemuck::pod_collect_to_vec(bytes);
                let stride = (2 + 3 * np) * PACK;
                (0..pending.remote).map(|d| r[d * stride] as f64).collect()
            }
            None => Vec::new(),
        };
        Some(Ok(Snapshot {
            steps: pending.steps,
            time: pending.time,
            plasma,
            depot_cells,
            remote_cells,
            regions,
        }))
    }

    /// Switches the terms of the equations (MODEL.md §2) from the next step on.
    pub fn set_terms(&mut self, terms: crate::sim::Terms) -> Result<()> {
        self.problem.terms = terms;
        self.write_stages()
    }

    /// Replaces the species' parameters from the next step on (diffusion, decay, uptake,
    /// exchange, EC50); the stage count follows the new diffusivities. Secretion lives in the
    /// depots ([`Simulation::set_depots`]).
    pub fn set_species(&mut self, table: &crate::model::SpeciesTable) -> Result<()> {
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

    /// The current fields of each slab, for renderers that sample them (the viewer).
    pub fn field_slabs(&self) -> Vec<FieldSlab<'_>> {
        self.slabs
            .iter()
            .map(|s| FieldSlab {
                fields: &s.fields[self.cur],
                z0: s.z0,
                nz: s.nz,
            })
            .collect()
    }

    /// The GPU buffers that hold the run's state, in a fixed order: every slab's current
    /// fields and exposure, the ledger slots, the compartments (plasma, depot cells), and the
    /// plasma kernel's remote sites and running totals.
    fn state_buffers(&self) -> Vec<&wgpu::Buffer> {
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

    /// Number of z-slabs the grid is cut into.
    pub fn slab_count(&self) -> usize {
        self.slabs.len()
    }

    /// z-planes each invocation of the grid kernels walks.
    pub fn z_chunk(&self) -> u32 {
        self.z_chunk
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

/// Memory the device lets us allocate, bytes, found by allocating blocks until it refuses.
fn probe_memory(device: &wgpu::Device, max_buffer: u64) -> u64 {
    let block = max_buffer.min(1 << 30);
    let mut held = Vec::new();
    let mut total = 0u64;
    for _ in 0..1024 {
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let b = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("memory probe"),
            size: block,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        if pollster::block_on(scope.pop()).is_some() {
            break;
        }
        held.push(b);
        total += block;
    }
    drop(held);
    total
}

/// Per-species values as f32 padded to whole packs of four.
/// A buffer holding `data` (at least 16 bytes, a multiple of 16, so an empty table still binds).
fn buffer_with(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    label: &str,
    data: &[u8],
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    let b = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (data.len() as u64).max(16).next_multiple_of(16),
        usage,
        mapped_at_creation: false,
    });
    queue.write_buffer(&b, 0, data);
    b
}

/// A bind group of one storage buffer at binding 0.
fn device_group(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
    buffer: &wgpu::Buffer,
) -> wgpu::BindGroup {
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("Simulation::single"),
        layout,
        entries: &[entry(0, buffer)],
    })
}

/// z-planes each invocation walks unless the layout says: 32 on a GPU. Through a CPU driver
/// longer walks are faster (llvmpipe, 128³: 128 planes 10–15 % faster than 32, 16 planes
/// 10 % slower), as long as every CPU thread still gets several workgroups.
fn default_z_chunk(cpu: bool, columns: u32, nz: usize) -> u32 {
    if !cpu {
        return consts::Z_CHUNK;
    }
    let threads = std::env::var("LP_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .or_else(|| {
            std::thread::available_parallelism()
                .ok()
                .map(|n| n.get() as u32)
        })
        .unwrap_or(1)
        .max(1);
    [128, 64]
        .into_iter()
        .find(|&z| columns as u64 * nz.div_ceil(z as usize) as u64 >= 8 * threads as u64)
        .unwrap_or(consts::Z_CHUNK)
}

fn pipeline_auto(
    device: &wgpu::Device,
    m: &wgpu::ShaderModule,
    entry: &str,
) -> wgpu::ComputePipeline {
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry),
        layout: None,
        module: m,
        entry_point: Some(entry),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants: &[],
            zero_initialize_workgroup_memory: false,
        },
        cache: None,
    })
}

/// Bytes of the compartments buffer: plasma packs, then the scales of the fixed source map
/// and `depots` depots, four per vec4.
fn compartments_bytes(n_packs: usize, depots: usize) -> u64 {
    ((scale_offset(n_packs) + (depots + 1).next_multiple_of(PACK)) * 4) as u64
}

/// Index, in f32 words, of the first source-group scale (the fixed map's) in the compartments
/// buffer, after one `PlasmaCourse` per pack; depot d's cells follow at `scale_offset + d + 1`.
fn scale_offset(n_packs: usize) -> usize {
    n_packs * std::mem::size_of::<PlasmaCourse>() / 4
}

fn padded(values: &[f64]) -> Vec<f32> {
    let mut v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    v.resize(packs(values.len()) * PACK, 0.0);
    v
}

/// The voxel word of every voxel, without source slots: label (bits 0-2), closed faces
/// (bits 3-8: x−, x+, y−, y+, z−, z+ towards `outside` or the grid edge), FLAG_SIMPLE when every
/// other face opens onto tissue with the voxel's own conductance ε·m_D (so every face's
/// multiplier over ε is the voxel's m_D and the stencil needs no neighbour labels), FLAG_UNIT
/// when that m_D is 1 (no label lookup at all).
pub fn voxel_words(grid: &crate::sim::Grid, table: &crate::model::LabelTable) -> Vec<u32> {
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
                match n.map(|n| grid.labels[n]) {
                    None => w |= 1 << (consts::FACE_SHIFT + f as u32),
                    Some(ln) if ln.kind() == crate::model::LabelKind::Outside => {
                        w |= 1 << (consts::FACE_SHIFT + f as u32)
                    }
                    Some(ln) => simple &= ln.is_tissue() && table.get(ln).conductance() as f32 == g,
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
