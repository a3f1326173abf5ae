// bricks.wgsl — the brick table of the sparse grid (see the storage layout in common.wgsl),
// shared by the grid kernels and the viewer's field copy. The importing module declares
// `bricks: array<Brick>`, the slab's table.

const BRICK_VOXELS: u32 = 64u;
const NO_BRICK: u32 = 0xffffffffu;

// Pipeline specialisation: every brick of the grid is full (a box of tissue whose sides are
// whole bricks), so voxel l of a brick is at base + l with no counting.
override ALL_FULL: bool = false;

// One stored brick of 4 × 4 × 4 voxels.
struct Brick {
    base: u32,           // slab-local index of its first tissue voxel
    mask_lo: u32,        // tissue voxels l = 0..31 (l = x + 4 y + 16 z)
    mask_hi: u32,        // tissue voxels l = 32..63
    source_base: u32,    // first source entry of its voxels
    origin: u32,         // brick coordinates: bits 0-10 x, 11-21 y, 22-31 z
    neighbours: array<u32, 6>,   // slots of the bricks across x-, x+, y-, y+, z-, z+ (or NO_BRICK)
    planes: u32,         // byte z: its tissue voxels below plane z
}

// What locating a voxel in a brick needs.
struct Head {
    base: u32,
    lo: u32,
    hi: u32,
    planes: u32,
}

fn head(b: u32) -> Head {
    if (ALL_FULL) {
        return Head(64u * b, 0xffffffffu, 0xffffffffu, 0x30201000u);
    }
    return Head(bricks[b].base, bricks[b].mask_lo, bricks[b].mask_hi, bricks[b].planes);
}

// The tissue bits of plane z of a brick (bit x + 4 y).
fn plane_bits(h: Head, z: u32) -> u32 {
    return (select(h.hi, h.lo, z < 2u) >> (16u * (z & 1u))) & 0xffffu;
}

// Whether voxel (column col = x + 4 y, plane z) of a brick is tissue.
fn is_tissue(h: Head, col: u32, z: u32) -> bool {
    return ((plane_bits(h, z) >> col) & 1u) != 0u;
}

// Stored index of voxel (col, z) of a brick, which must be tissue (otherwise an index nearby,
// perhaps one past the slab's last voxel).
fn at(h: Head, col: u32, z: u32) -> u32 {
    if (ALL_FULL) {
        return h.base + 16u * z + col;
    }
    return h.base + ((h.planes >> (8u * z)) & 255u)
        + countOneBits(plane_bits(h, z) & ((1u << col) - 1u));
}

// Stored index of the tissue voxel l of brick b.
fn stored_index(b: u32, l: u32) -> u32 {
    return at(head(b), l & 15u, l >> 4u);
}

// Whether local voxel l of a brick with this mask is tissue.
fn in_mask(lo: u32, hi: u32, l: u32) -> bool {
    return ((select(hi, lo, l < 32u) >> (l & 31u)) & 1u) != 0u;
}
