//! The brick grid and its slabs: which 4 × 4 × 4 bricks of the grid hold tissue (only those
//! are stored), how their brick layers are cut into slabs so that no storage binding exceeds
//! the adapter's limit, and whether it fits at all (no GPU needed).

use super::*;

use crate::base::Grid;

/// Bytes of GPU memory per stored (tissue) voxel for `n_species` fields: two copies of each
/// field (species in packs of four) and one voxel word; not counting the exposure, the brick
/// table, ghost layers and the ledger.
pub fn bytes_per_voxel(n_species: usize) -> usize {
    32 * packs(n_species) + 4
}

/// Bytes of GPU memory per stored (tissue) voxel of `problem`: the fields
/// (`bytes_per_voxel`), the exposure readouts when on (EXPOSURE_ENTRIES vec4 per pack), the AHA
/// segment (one byte) when the problem has segments.
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

/// Bytes of one brick's record in the brick table.
pub const BRICK_BYTES: u64 = std::mem::size_of::<Brick>() as u64;

/// GPU memory the grid of `problem` needs, bytes: its tissue voxels (`grid_bytes_per_voxel`)
/// and its brick table, without ghosts (a layer per slab boundary) and the ledger.
pub fn grid_bytes(problem: &Problem) -> u64 {
    problem
        .level_grids()
        .into_iter()
        .map(|g| {
            let tissue = g.labels.iter().filter(|l| l.is_tissue()).count() as u64;
            tissue * grid_bytes_per_voxel(problem) + stored_bricks(g) as u64 * BRICK_BYTES
        })
        .sum()
}

/// The bricks of 4³ voxels of `grid` that hold tissue: the bricks the solver stores.
pub fn stored_bricks(grid: &Grid) -> usize {
    BrickGrid::of(grid).bricks.len()
}

/// The bricks of a grid that hold tissue, in storage order (z, then y, then x), and where
/// their tissue voxels lie in it.
#[derive(Clone, Debug)]
pub(super) struct BrickGrid {
    /// Bricks along x, y, z.
    pub(super) nb: [usize; 3],
    /// (brick index in the box, z-major; tissue mask, bit l = x + 4 y + 16 z).
    pub(super) bricks: Vec<(usize, u64)>,
    /// Index in `bricks` of the first brick of each brick layer z (and one past the last).
    pub(super) layer_start: Vec<usize>,
    /// Storage index of each brick's first tissue voxel (and one past the last voxel).
    pub(super) voxel_start: Vec<usize>,
    /// Box voxel of each stored voxel, in storage order.
    pub(super) order: Vec<u32>,
    /// `bricks` index of each brick of the box, or NO_BRICK.
    pub(super) slot: Vec<u32>,
}

impl BrickGrid {
    pub(super) fn of(grid: &Grid) -> BrickGrid {
        let b = consts::BRICK;
        let [nx, ny, nz] = grid.dims;
        let nb = [nx.div_ceil(b), ny.div_ceil(b), nz.div_ceil(b)];
        let mut masks = vec![0u64; nb[0] * nb[1] * nb[2]];
        for z in 0..nz {
            for y in 0..ny {
                let row = grid.index(0, y, z);
                for x in 0..nx {
                    if grid.labels[row + x].is_tissue() {
                        let brick = ((z / b) * nb[1] + y / b) * nb[0] + x / b;
                        masks[brick] |= 1 << (x % b + b * (y % b) + b * b * (z % b));
                    }
                }
            }
        }
        let mut bricks = Vec::new();
        let mut layer_start = Vec::with_capacity(nb[2] + 1);
        let mut voxel_start = vec![0];
        let mut order = Vec::new();
        let mut slot = vec![consts::NO_BRICK; masks.len()];
        for (i, &m) in masks.iter().enumerate() {
            if i % (nb[0] * nb[1]) == 0 {
                layer_start.push(bricks.len());
            }
            if m == 0 {
                continue;
            }
            slot[i] = bricks.len() as u32;
            bricks.push((i, m));
            let [bx, by, bz] = [i % nb[0], i / nb[0] % nb[1], i / (nb[0] * nb[1])];
            for l in 0..64 {
                if m >> l & 1 != 0 {
                    let (x, y, z) = (b * bx + l % 4, b * by + l / 4 % 4, b * bz + l / 16);
                    order.push(grid.index(x, y, z) as u32);
                }
            }
            voxel_start.push(order.len());
        }
        while layer_start.len() <= nb[2] {
            layer_start.push(bricks.len());
        }
        BrickGrid {
            nb,
            bricks,
            layer_start,
            voxel_start,
            order,
            slot,
        }
    }

    /// Stored voxels (the tissue voxels).
    #[cfg(test)]
    pub(super) fn voxels(&self) -> usize {
        self.order.len()
    }

    /// Storage index of box voxel `v` of a grid `dims`, if it is stored (tissue).
    pub(super) fn stored(&self, dims: [usize; 3], v: usize) -> Option<usize> {
        let b = consts::BRICK;
        let (x, y, z) = (v % dims[0], v / dims[0] % dims[1], v / (dims[0] * dims[1]));
        let brick = ((z / b) * self.nb[1] + y / b) * self.nb[0] + x / b;
        let g = *self.slot.get(brick)?;
        if g == consts::NO_BRICK {
            return None;
        }
        let m = self.bricks[g as usize].1;
        let l = x % b + b * (y % b) + b * b * (z % b);
        (m >> l & 1 != 0)
            .then(|| self.voxel_start[g as usize] + (m & ((1u64 << l) - 1)).count_ones() as usize)
    }

    /// Storage indices of the voxels of brick layer `l`.
    pub(super) fn layer_range(&self, l: usize) -> std::ops::Range<usize> {
        self.voxel_start[self.layer_start[l]]..self.voxel_start[self.layer_start[l + 1]]
    }

    /// Stored voxels of brick layers `a..b`.
    fn layer_voxels(&self, a: usize, b: usize) -> usize {
        self.voxel_start[self.layer_start[b]] - self.voxel_start[self.layer_start[a]]
    }

    /// The brick records of the bricks `held` (a range of `bricks`), as a slab holding them
    /// stores them: bases from the range's first voxel, neighbours as slots within the range.
    pub(super) fn records(&self, held: std::ops::Range<usize>) -> Vec<Brick> {
        let [nbx, nby, nbz] = self.nb;
        let v0 = self.voxel_start[held.start];
        held.clone()
            .map(|g| {
                let (i, m) = self.bricks[g];
                let [bx, by, bz] = [i % nbx, i / nbx % nby, i / (nbx * nby)];
                let mut neighbours = [consts::NO_BRICK; 6];
                let steps: [(bool, isize); 6] = [
                    (bx > 0, -1),
                    (bx + 1 < nbx, 1),
                    (by > 0, -(nbx as isize)),
                    (by + 1 < nby, nbx as isize),
                    (bz > 0, -((nbx * nby) as isize)),
                    (bz + 1 < nbz, (nbx * nby) as isize),
                ];
                for (f, (ok, step)) in steps.into_iter().enumerate() {
                    if ok {
                        let s = self.slot[(i as isize + step) as usize];
                        if s != consts::NO_BRICK && held.contains(&(s as usize)) {
                            neighbours[f] = s - held.start as u32;
                        }
                    }
                }
                Brick {
                    base: (self.voxel_start[g] - v0) as u32,
                    mask_lo: m as u32,
                    mask_hi: (m >> 32) as u32,
                    source_base: 0,
                    origin: (bx | by << 11 | bz << 22) as u32,
                    neighbours,
                    planes: plane_ranks(m),
                }
            })
            .collect()
    }
}

/// One grid's bricks (level 0's, or a patch of a finer level), and where its voxels lie in the problem's numbering and in storage.
#[derive(Clone, Debug)]
pub(super) struct LevelBricks {
    pub(super) bricks: BrickGrid,
    pub(super) dims: [usize; 3],
    /// First voxel of the level in the problem's numbering (all levels one after the other).
    pub(super) voxel_from: usize,
    /// First brick of the level in the numbering of every level's bricks.
    pub(super) brick_from: usize,
    /// Storage index of the level's first stored voxel.
    pub(super) storage_from: usize,
}

/// The stored bricks and voxels of every grid of a problem (one without refinement): level 0's
/// bricks and voxels first, then each finer level's patches', in the same order.
#[derive(Clone, Debug)]
pub(super) struct Layout {
    pub(super) levels: Vec<LevelBricks>,
    /// The voxel (problem numbering) of each storage index.
    pub(super) order: Vec<u32>,
    /// Storage index of each brick's first voxel (bricks of all levels), and one past the last.
    pub(super) voxel_start: Vec<usize>,
}

impl Layout {
    pub(super) fn of(problem: &Problem) -> Layout {
        let mut levels = Vec::new();
        let mut order = Vec::new();
        let mut voxel_start = vec![0];
        let mut voxel_from = 0;
        for grid in problem.level_grids() {
            let bricks = BrickGrid::of(grid);
            let storage_from = order.len();
            order.extend(bricks.order.iter().map(|&v| v + voxel_from as u32));
            voxel_start.extend(bricks.voxel_start[1..].iter().map(|&s| s + storage_from));
            levels.push(LevelBricks {
                brick_from: voxel_start.len() - 1 - bricks.bricks.len(),
                bricks,
                dims: grid.dims,
                voxel_from,
                storage_from,
            });
            voxel_from += grid.voxel_count();
        }
        Layout {
            levels,
            order,
            voxel_start,
        }
    }

    /// Stored voxels of every level.
    pub(super) fn voxels(&self) -> usize {
        self.order.len()
    }

    /// Stored bricks of every level.
    pub(super) fn bricks(&self) -> usize {
        self.voxel_start.len() - 1
    }

    /// One level whose bricks are all full: the kernels may step by slot strides.
    pub(super) fn all_full(&self) -> bool {
        self.levels.len() == 1
            && self.levels[0]
                .bricks
                .bricks
                .iter()
                .all(|&(_, m)| m == u64::MAX)
    }

    /// Storage index of voxel `v` (problem numbering), if it is stored (tissue).
    pub(super) fn stored(&self, v: usize) -> Option<usize> {
        let level = self.levels.iter().rposition(|l| l.voxel_from <= v)?;
        let l = &self.levels[level];
        let local = v - l.voxel_from;
        if local >= l.dims[0] * l.dims[1] * l.dims[2] {
            return None;
        }
        Some(l.storage_from + l.bricks.stored(l.dims, local)?)
    }

    /// Storage indices of the voxels of brick layer `layer` of level `level`.
    pub(super) fn layer_range(&self, level: usize, layer: usize) -> std::ops::Range<usize> {
        let l = &self.levels[level];
        let r = l.bricks.layer_range(layer);
        r.start + l.storage_from..r.end + l.storage_from
    }

    /// The brick records of the bricks `held` (bricks of all levels) of level `level`, as a
    /// slab holding them stores them.
    pub(super) fn records(&self, level: usize, held: std::ops::Range<usize>) -> Vec<Brick> {
        let l = &self.levels[level];
        l.bricks
            .records(held.start - l.brick_from..held.end - l.brick_from)
    }
}

/// A brick's tissue voxels below each of its four planes of 16, one byte per plane
/// (`Brick::planes`).
pub(super) fn plane_ranks(mask: u64) -> u32 {
    (1..4).fold(0, |acc, z| {
        acc | ((mask & ((1u64 << (16 * z)) - 1)).count_ones() << (8 * z))
    })
}

/// Options that change how the grid is laid out on the GPU (for tests of large-grid paths).
#[derive(Clone, Copy, Debug, Default)]
pub struct LayoutOptions {
    /// Cap on one slab buffer, bytes (default: the adapter's binding limit).
    pub max_slab_bytes: Option<u64>,
    /// Memory the grid may use, bytes (default: system memory for CPU adapters, otherwise
    /// whatever the device lets us allocate).
    pub memory_budget: Option<u64>,
    /// Workgroups per pack of a slab's dispatch (default: the slab's bricks, at most 4096 on a
    /// GPU or 16 per thread through a CPU driver); each walks an equal run of its bricks.
    pub groups: Option<u32>,
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

/// Workgroups per pack of a dispatch over `units` diffusion work units unless the layout says:
/// at least `consts::GROUP_UNITS` units each, so that no invocation of a pass idles (on an H200, 1 unit
/// per workgroup ran P1 at 256³ 3.3× slower than 4), enough to keep every core busy, few enough
/// that the ledger (a slot per workgroup) stays small. A CPU driver runs one workgroup per
/// thread at a time.
pub(super) fn default_groups(cpu: bool, units: usize) -> u32 {
    let cap = if cpu {
        let threads = std::env::var("LP_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
            .unwrap_or(1)
            .max(1);
        16 * threads
    } else {
        4096
    };
    units.div_ceil(consts::GROUP_UNITS).clamp(1, cap) as u32
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

/// One slab as planned: its grid, the brick layers it owns, the bricks and voxels it holds
/// (its own and the ghost layers on either side), and its uniforms.
#[derive(Clone, Debug)]
pub(super) struct SlabSpan {
    /// The grid whose bricks it holds (`Problem::level_grids`: 0 the problem's, then the finer
    /// levels' patches).
    pub(super) grid: usize,
    /// Own brick layers of its grid.
    pub(super) layers: std::ops::Range<usize>,
    /// Bricks held (the numbering of every level's bricks), ghosts included.
    pub(super) held: std::ops::Range<usize>,
    /// Storage indices (over every level) of the voxels held, ghosts included, and own.
    pub(super) voxels: std::ops::Range<usize>,
    pub(super) own_voxels: std::ops::Range<usize>,
    pub(super) info: SlabInfo,
}

/// How a problem lies on the GPU: its bricks, its slabs and the ledger slots.
#[derive(Clone, Debug)]
pub(super) struct SlabPlan {
    pub(super) layout: Layout,
    /// Bytes per stored voxel of everything the grid holds.
    pub(super) per_voxel: u64,
    /// The slabs of level 0, then those of each finer level's patches.
    pub(super) slabs: Vec<SlabSpan>,
    /// Ledger slots in all (every workgroup's `sub_slots`).
    pub(super) slots: u32,
}

/// Plans the slabs of `problem`'s grids (every level's) for a device with `limits`, or says in
/// one line why they do not fit (memory, one brick layer larger than a third of a binding, too
/// many workgroups).
pub(super) fn plan_slabs(
    problem: &Problem,
    limits: &DeviceLimits,
    opts: &LayoutOptions,
) -> Result<SlabPlan> {
    let [nx, ny, nz] = problem.grid.dims;
    let ns = problem.n_species();
    let np = packs(ns);
    let max_slab = opts
        .max_slab_bytes
        .unwrap_or(u64::MAX)
        .min(limits.max_binding);
    let per_voxel = grid_bytes_per_voxel(problem);
    let layout = Layout::of(problem);
    for l in &layout.levels {
        let nb = l.bricks.nb;
        if nb[0] > 2048 || nb[1] > 2048 || nb[2] > 1024 {
            let [x, y, z] = l.dims;
            return Err(SimError::TooLarge(format!(
                "a {x}×{y}×{z} grid has more bricks along one axis than the brick table holds (2048 along x and y, 1024 along z: at most 8192 × 8192 × 4096 voxels)"
            )));
        }
    }

    // Memory budget first: a clear error instead of an allocation failure half-way.
    let need = layout.voxels() as u64 * per_voxel + layout.bricks() as u64 * BRICK_BYTES;
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
            let levels = if problem.finest_level() > 0 {
                format!(" on {} levels", problem.finest_level() + 1)
            } else {
                String::new()
            };
            return Err(SimError::TooLarge(format!(
                "a {nx}×{ny}×{nz} grid{levels} with {} tissue voxels and {ns} species needs {:.1} GiB of GPU memory, but '{}' has about {:.1} GiB for it: the largest cubic grid of tissue that fits is {side}³",
                layout.voxels(),
                need as f64 / (1u64 << 30) as f64,
                limits.name,
                budget as f64 / (1u64 << 30) as f64
            )));
        }
    }
    // Slabs and ledger slots: with subgroup operations one slot per subgroup of a
    // workgroup's 64 invocations, else one per workgroup.
    let sub_slots = limits.sub_slots.max(1);
    let max_groups = limits.max_workgroups.max(1);
    if np as u64 > max_groups as u64 {
        return Err(SimError::TooLarge(format!(
            "{ns} species need more than {max_groups} workgroups along one dimension on '{}'",
            limits.name
        )));
    }
    let all_full = layout.all_full();
    let grids = problem.level_grids();
    let mut slabs = Vec::new();
    let mut slots = 0u32;
    for (k, lb) in layout.levels.iter().enumerate() {
        let bricks = &lb.bricks;
        if k > 0 && bricks.bricks.is_empty() {
            continue;
        }
        let grid = grids[k];
        let level = problem.grid_level(k);
        let [gx, gy, gz] = grid.dims;
        // The largest binding: per stored voxel the exposure (EXPOSURE_ENTRIES times the
        // fields) when on, else the fields; or the brick table where tissue is very sparse.
        let binding_voxel = 16
            * np as u64
            * if problem.exposure {
                EXPOSURE_ENTRIES as u64
            } else {
                1
            };
        let binding = |a: usize, b: usize| {
            let table = (bricks.layer_start[b] - bricks.layer_start[a]) as u64 * BRICK_BYTES;
            (bricks.layer_voxels(a, b) as u64 * binding_voxel).max(table)
        };
        let nbz = bricks.nb[2];
        let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
        let mut l0 = 0;
        while l0 < nbz {
            // One own layer and its ghosts must fit; then as many more as fit.
            let held = |l1: usize| binding(l0.saturating_sub(1), (l1 + 1).min(nbz));
            if held(l0 + 1) > max_slab {
                return Err(SimError::TooLarge(format!(
                    "one layer of bricks ({gx}×{gy}×4 voxels, {ns} species) with its neighbours needs {} MiB, more than the largest storage binding on '{}' ({} MiB): use fewer voxels in x and y",
                    held(l0 + 1) >> 20,
                    limits.name,
                    max_slab >> 20
                )));
            }
            let mut l1 = l0 + 1;
            while l1 < nbz && held(l1 + 1) <= max_slab {
                l1 += 1;
            }
            spans.push(l0..l1);
            l0 = l1;
        }
        if spans.is_empty() {
            spans.push(0..0);
        }
        let layer = |l: usize| bricks.layer_start[l.min(nbz)];
        for layers in spans {
            let held = layer(layers.start.saturating_sub(1))..layer(layers.end + 1);
            let own = layer(layers.start)..layer(layers.end);
            // The diffusion stages' work units: bricks, or columns of bricks when all are full.
            let units = if all_full {
                bricks.nb[0] * bricks.nb[1]
            } else {
                own.len()
            };
            let groups = opts
                .groups
                .unwrap_or_else(|| default_groups(limits.cpu, units))
                .clamp(1, max_groups);
            let vs = &bricks.voxel_start;
            let info = SlabInfo {
                nx: gx as u32,
                ny: gy as u32,
                nz: gz as u32,
                n_packs: np as u32,
                first_brick: (own.start - held.start) as u32,
                n_bricks: own.len() as u32,
                groups,
                slot_offset: slots,
                sub_slots,
                inv_h2: (1.0 / (grid.spacing * grid.spacing)) as f32,
                voxel_ml: grid.voxel_ml() as f32,
                bricks_x: bricks.nb[0] as u32,
                bricks_xy: (bricks.nb[0] * bricks.nb[1]) as u32,
                // 8^−level: an exact power of two.
                weight: 0.125f32.powi(level as i32),
                ..SlabInfo::zeroed()
            };
            slots += groups;
            let (sf, bf) = (lb.storage_from, lb.brick_from);
            slabs.push(SlabSpan {
                grid: k,
                voxels: vs[held.start] + sf..vs[held.end] + sf,
                own_voxels: vs[own.start] + sf..vs[own.end] + sf,
                layers,
                held: held.start + bf..held.end + bf,
                info,
            });
        }
    }
    Ok(SlabPlan {
        layout,
        per_voxel,
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
        let bg = &plan.layout.levels[0].bricks;
        // A full box: every brick is stored, all of its voxels.
        assert_eq!(bg.bricks.len(), 10 * 6 * 75);
        assert_eq!(bg.voxels(), 40 * 24 * 300);
        let mut layer = 0;
        let mut slot = 0;
        for s in &plan.slabs {
            assert_eq!(s.layers.start, layer);
            // The largest binding: the exposure of the voxels held, ghost layers included.
            let binding = s.voxels.len() as u64 * 16 * EXPOSURE_ENTRIES as u64;
            assert!(binding <= max, "slab at layer {layer}: {binding} bytes");
            // It holds the layer below and above its own.
            let lo = s.layers.start.saturating_sub(1);
            let hi = (s.layers.end + 1).min(75);
            assert_eq!(
                s.voxels,
                bg.layer_range(lo).start..bg.layer_range(hi - 1).end
            );
            assert_eq!(
                s.own_voxels,
                bg.layer_range(s.layers.start).start..bg.layer_range(s.layers.end - 1).end
            );
            assert_eq!(
                s.info.n_bricks as usize,
                (s.layers.end - s.layers.start) * 60
            );
            assert_eq!(s.info.slot_offset, slot);
            slot += s.info.groups;
            layer = s.layers.end;
        }
        assert_eq!(layer, 75);
        assert_eq!(plan.slots, slot * 2);
        assert_eq!(plan.per_voxel, 36 + 48);
    }

    #[test]
    fn only_bricks_holding_tissue_are_stored_and_found() {
        use crate::base::TissueLabel;
        let mut p = problem([9, 5, 6], false);
        // Tissue only at three voxels; blood around one.
        p.grid.labels.fill(TissueLabel::Outside);
        let dims = p.grid.dims;
        let tissue = [
            p.grid.index(0, 0, 0),
            p.grid.index(8, 4, 5),
            p.grid.index(5, 1, 4),
        ];
        for &v in &tissue {
            p.grid.labels[v] = TissueLabel::Myocardium;
        }
        let blood = p.grid.index(6, 1, 4);
        p.grid.labels[blood] = TissueLabel::BloodLv;
        let bg = BrickGrid::of(&p.grid);
        assert_eq!(bg.nb, [3, 2, 2]);
        assert_eq!(bg.bricks.len(), 3);
        assert_eq!(bg.voxels(), 3);
        // Storage order: z, y, x of the bricks.
        assert_eq!(
            bg.order,
            [tissue[0] as u32, tissue[2] as u32, tissue[1] as u32]
        );
        for (i, &v) in bg.order.iter().enumerate() {
            assert_eq!(bg.stored(dims, v as usize), Some(i));
        }
        assert_eq!(bg.stored(dims, p.grid.index(6, 1, 4)), None);
        assert_eq!(bg.stored(dims, p.grid.index(1, 0, 0)), None);
        // Bricks (1,0,1) and (2,1,1) are not face neighbours; none has a stored neighbour.
        for r in bg.records(0..3) {
            assert_eq!(r.neighbours, [consts::NO_BRICK; 6]);
        }
        let r = bg.records(0..3);
        assert_eq!(
            (
                r[1].origin & 2047,
                r[1].origin >> 11 & 2047,
                r[1].origin >> 22
            ),
            (1, 0, 1)
        );
        assert_eq!((r[1].mask_lo, r[1].mask_hi), (1 << (1 + 4), 0));
        assert_eq!((r[2].mask_lo, r[2].mask_hi), (1 << 16, 0));
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
            e.contains("64×64×64 grid with 262144 tissue voxels and 4 species needs")
                && e.contains("is 30³"),
            "{e}"
        );
        let e = plan_slabs(&p, &gpu(100_000), &LayoutOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("one layer of bricks (64×64×4 voxels"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn the_largest_cube_is_the_largest_that_fits() {
        assert_eq!(largest_cube(27 * 36, 36), 3);
        assert_eq!(largest_cube(27 * 36 - 1, 36), 2);
        assert_eq!(largest_cube(0, 36), 0);
    }
}
