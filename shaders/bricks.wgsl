// bricks.wgsl — the brick table of the sparse grid (see the storage layout in common.wgsl),
// shared by the grid kernels and the viewer's field copy. The importing module declares
// `bricks: array<Brick>`, the slab's table.

const BRICK_VOXELS: u32 = 64u;
const NO_BRICK: u32 = 0xffffffffu;

// One stored brick of 4 × 4 × 4 voxels.
struct Brick {
    base: u32,           // slab-local index of its first tissue voxel
    mask_lo: u32,        // tissue voxels l = 0..31
    mask_hi: u32,        // tissue voxels l = 32..63
    source_base: u32,    // first source entry of its voxels
    origin: u32,         // brick coordinates: bits 0-10 x, 11-21 y, 22-31 z
    neighbours: array<u32, 6>,   // slots of the bricks across x-, x+, y-, y+, z-, z+ (or NO_BRICK)
    _pad0: u32,
}

// Tissue voxels of a brick's mask below local index l.
fn rank_below(lo: u32, hi: u32, l: u32) -> u32 {
    let below = (1u << (l & 31u)) - 1u;
    return countOneBits(lo & select(0xffffffffu, below, l < 32u))
        + countOneBits(hi & select(0u, below, l >= 32u));
}

// Whether local voxel l of a brick with this mask is tissue.
fn in_mask(lo: u32, hi: u32, l: u32) -> bool {
    return ((select(hi, lo, l < 32u) >> (l & 31u)) & 1u) != 0u;
}

// Slab-local index of the tissue voxel l of brick b (a full brick needs no count).
fn stored_index(b: u32, l: u32) -> u32 {
    let lo = bricks[b].mask_lo;
    let hi = bricks[b].mask_hi;
    if ((lo & hi) == 0xffffffffu) {
        return bricks[b].base + l;
    }
    return bricks[b].base + rank_below(lo, hi, l);
}

// The stored index of the tissue voxel across face f (x-, x+, y-, y+, z-, z+) of local voxel l
// of brick b, whose own stored index is i.
fn across(b: u32, l: u32, i: u32, f: u32) -> u32 {
    let axis = f >> 1u;
    let step = 1u << (2u * axis);                 // 1, 4, 16
    let coord = (l >> (2u * axis)) & 3u;
    let up = (f & 1u) != 0u;
    if ((up && coord < 3u) || (!up && coord > 0u)) {
        let lo = bricks[b].mask_lo;
        let hi = bricks[b].mask_hi;
        if ((lo & hi) == 0xffffffffu) {
            return select(i - step, i + step, up);
        }
        return bricks[b].base + rank_below(lo, hi, select(l - step, l + step, up));
    }
    // The brick next door: the same voxel at the opposite side along this axis.
    let n = bricks[b].neighbours[f];
    return stored_index(n, select(l + 3u * step, l - 3u * step, up));
}

