//! Slab planning and the memory budget: how a grid is cut into z-slabs so that no storage
//! binding exceeds the adapter's limit, and whether it fits at all (no GPU needed).

use super::*;

/// Bytes of GPU memory per voxel for `n_species` fields (two copies of each field, species in
/// packs of four, one voxel word), not counting ghost planes and the ledger.
pub fn bytes_per_voxel(n_species: usize) -> usize {
    32 * packs(n_species) + 4
}

/// Bytes of GPU memory per voxel of `problem`'s grid: the fields (`bytes_per_voxel`), the
/// exposure readouts when on (EXPOSURE_ENTRIES vec4 per pack), the AHA segment (one byte) when
/// the problem has segments; ghost planes, the ledger and the compartments not counted.
pub fn grid_bytes_per_voxel(problem: &Problem) -> u64 {
    let np = packs(problem.n_species());
    bytes_per_voxel(problem.n_species()) as u64
        + if problem.exposure {
            (EXPOSURE_ENTRIES * 16 * np) as u64
        } else {
            0
        }
        + u64::from(!problem.segments.is_empty())
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

/// Available system memory (bytes) from /proc/meminfo, for CPU adapters.
pub(super) fn system_memory_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Largest cube side whose grid fits `bytes` at `per_voxel` bytes per voxel.
pub(super) fn largest_cube(bytes: u64, per_voxel: u64) -> u64 {
    let mut n = ((bytes / per_voxel.max(1)) as f64).cbrt() as u64;
    while (n + 1).pow(3) * per_voxel <= bytes {
        n += 1;
    }
    while n > 0 && n.pow(3) * per_voxel > bytes {
        n -= 1;
    }
    n
}

/// z-planes each invocation walks unless the layout says: 32 on a GPU. Through a CPU driver
/// longer walks are faster (llvmpipe, 128³: 128 planes 10–15 % faster than 32, 16 planes
/// 10 % slower), as long as every CPU thread still gets several workgroups.
pub(super) fn default_z_chunk(cpu: bool, columns: u32, nz: usize) -> u32 {
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

/// What the adapter offers that the layout depends on.
#[derive(Clone, Debug)]
pub(super) struct DeviceLimits {
    /// The adapter's name, for messages.
    pub(super) name: String,
    /// Largest storage binding, bytes.
    pub(super) max_binding: u64,
    /// Most workgroups along one dispatch dimension.
    pub(super) max_workgroups: u32,
    /// A CPU driver (lavapipe, llvmpipe): the memory budget is the system's.
    pub(super) cpu: bool,
    /// Ledger slots per workgroup: one per subgroup with subgroup operations, else 1.
    pub(super) sub_slots: u32,
}

/// How a grid lies on the GPU: its z-slabs (first plane, planes, their `SlabInfo`), the
/// dispatch, and the sizes the buffers are made from.
#[derive(Clone, Debug)]
pub(super) struct SlabPlan {
    /// Bytes of one z-plane of fields (every pack).
    pub(super) field_plane: u64,
    /// Voxels in one z-plane.
    pub(super) plane_voxels: u64,
    /// Bytes per voxel of everything the grid holds.
    pub(super) per_voxel: u64,
    pub(super) groups_x: u32,
    pub(super) groups_y: u32,
    pub(super) z_chunk: u32,
    /// (first plane, own planes, slab uniforms) per slab.
    pub(super) slabs: Vec<(usize, usize, SlabInfo)>,
    /// Ledger slots in all (every workgroup's `sub_slots`).
    pub(super) slots: u32,
}

/// Plans the slabs of `problem`'s grid for a device with `limits`, or says in one line why the
/// grid does not fit (memory, one plane larger than a third of a binding, too many workgroups).
pub(super) fn plan_slabs(
    problem: &Problem,
    limits: &DeviceLimits,
    opts: &LayoutOptions,
) -> Result<SlabPlan> {
    let [nx, ny, nz] = problem.grid.dims;
    let ns = problem.n_species();
    let np = packs(ns);
    let plane_voxels = (nx * ny) as u64;
    let field_plane = plane_voxels * np as u64 * 16;
    let max_slab = opts
        .max_slab_bytes
        .unwrap_or(u64::MAX)
        .min(limits.max_binding);
    let exposure_on = problem.exposure;
    let per_voxel = grid_bytes_per_voxel(problem);

    // Memory budget first: a clear error instead of an allocation failure half-way.
    let need = problem.grid.voxel_count() as u64 * per_voxel;
    let budget = opts.memory_budget.or_else(|| {
        if limits.cpu {
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
                limits.name,
                budget as f64 / (1u64 << 30) as f64
            )));
        }
    }
    // One z-plane (with its ghosts) must fit in one binding; the exposure buffer,
    // EXPOSURE_ENTRIES times a field buffer, is the largest.
    let binding_plane = if exposure_on {
        EXPOSURE_ENTRIES as u64 * field_plane
    } else {
        field_plane
    };
    if 3 * binding_plane > max_slab {
        return Err(SimError::TooLarge(format!(
            "one z-plane of {nx}×{ny} voxels × {ns} species is {} MiB, more than a third of the largest storage binding on '{}' ({} MiB): use fewer voxels in x and y",
            binding_plane >> 20,
            limits.name,
            max_slab >> 20
        )));
    }
    let planes_per_slab = (max_slab / binding_plane - 2) as usize;
    let n_slabs = nz.div_ceil(planes_per_slab);
    let slab_nz = nz.div_ceil(n_slabs);

    let groups_x = nx.div_ceil(consts::GROUP_XY as usize) as u32;
    let groups_y = ny.div_ceil(consts::GROUP_XY as usize) as u32;
    let max_groups = limits.max_workgroups;
    let z_chunk = opts
        .z_chunk
        .unwrap_or_else(|| default_z_chunk(limits.cpu, groups_x * groups_y * np as u32, slab_nz))
        .max(1);
    let chunks_max = slab_nz.div_ceil(z_chunk as usize) as u32;
    if groups_x > max_groups
        || groups_y > max_groups
        || chunks_max as u64 * np as u64 > max_groups as u64
    {
        return Err(SimError::TooLarge(format!(
            "a {nx}×{ny}×{nz} grid with {ns} species needs more than {max_groups} workgroups along one dimension on '{}'",
            limits.name
        )));
    }

    // Slabs and ledger slots: with subgroup operations one slot per subgroup of a
    // workgroup's 64 invocations, else one per workgroup.
    let sub_slots = limits.sub_slots.max(1);
    let mut slabs = Vec::new();
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
        slabs.push((z0, snz, info));
        z0 += snz;
    }
    Ok(SlabPlan {
        field_plane,
        plane_voxels,
        per_voxel,
        groups_x,
        groups_y,
        z_chunk,
        slabs,
        // Each workgroup owns sub_slots slots, one per subgroup (slot_offset counts workgroups).
        slots: slots * sub_slots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::{Grid, Species, SpeciesTable, TissueLabel};

    fn problem(dims: [usize; 3], exposure: bool) -> Problem {
        let species = SpeciesTable {
            species: (0..4)
                .map(|i| Species::simple(&format!("s{i}"), 1e-4, 1e-4))
                .collect(),
        };
        let mut p = Problem::new(
            Grid::filled(dims, 0.1, TissueLabel::Myocardium),
            species,
            60.0,
        );
        p.exposure = exposure;
        p
    }

    fn gpu(max_binding: u64) -> DeviceLimits {
        DeviceLimits {
            name: "test".into(),
            max_binding,
            max_workgroups: 65535,
            cpu: false,
            sub_slots: 2,
        }
    }

    #[test]
    fn slabs_cover_the_grid_and_each_fits_one_binding() {
        let p = problem([40, 24, 300], true);
        let max = 3 << 20;
        let plan = plan_slabs(&p, &gpu(max), &LayoutOptions::default()).unwrap();
        assert!(plan.slabs.len() > 1, "{} slabs", plan.slabs.len());
        let mut z = 0;
        let mut slot = 0;
        for (z0, nz, info) in &plan.slabs {
            assert_eq!((*z0, info.z0 as usize, info.nz as usize), (z, z, *nz));
            // The largest binding: the exposure, with a ghost plane on either side.
            let binding = (*nz as u64 + 2) * plan.field_plane * EXPOSURE_ENTRIES as u64;
            assert!(binding <= max, "slab at {z0}: {binding} bytes");
            assert_eq!(info.slot_offset, slot);
            slot += plan.groups_x * plan.groups_y * info.chunks;
            z += nz;
        }
        assert_eq!(z, 300);
        assert_eq!(plan.slots, slot * 2);
        assert_eq!(plan.per_voxel, 36 + 48);
    }

    #[test]
    fn grids_that_do_not_fit_are_refused_in_one_line() {
        let p = problem([64, 64, 64], false);
        let opts = LayoutOptions {
            memory_budget: Some(1 << 20),
            ..Default::default()
        };
        let e = plan_slabs(&p, &gpu(128 << 20), &opts)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("64×64×64 grid with 4 species needs") && e.contains("is 30³"),
            "{e}"
        );
        let e = plan_slabs(&p, &gpu(100_000), &LayoutOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("one z-plane of 64×64 voxels"), "{e}");
        let mut few = gpu(128 << 20);
        few.max_workgroups = 4;
        let e = plan_slabs(&p, &few, &LayoutOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than 4 workgroups"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn the_largest_cube_is_the_largest_that_fits() {
        assert_eq!(largest_cube(27 * 36, 36), 3);
        assert_eq!(largest_cube(27 * 36 - 1, 36), 2);
        assert_eq!(largest_cube(0, 36), 0);
    }
}
