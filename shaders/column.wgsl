//! #import common
// column.wgsl — which column of voxels an invocation of a grid kernel walks (the diffusion
// stages, the reaction half-step, the mass and the regional statistics).
//
// A workgroup covers 8 × 8 columns, x fastest: invocation li (local_invocation_index of a
// 64-invocation workgroup, 1-D or 8 × 8 × 1) takes x = 8 wg.x + li % 8, y = 8 wg.y + li / 8.
// Workgroup z = pack * chunks + chunk picks the species pack k and the chunk of slab.z_chunk
// planes the column walks, planes p_begin .. p_end - 1 (slab-local: 1 = the first own plane).

struct Column {
    k: u32,          // species pack
    chunk: u32,      // chunk of planes along z
    x: u32,
    y: u32,
    p_begin: u32,    // first plane walked
    p_end: u32,      // one past the last
    inside: bool,    // (x, y) lies in the grid (the last workgroups may overhang it)
}

fn column(wg: vec3<u32>, li: u32) -> Column {
    var c: Column;
    c.k = wg.z / slab.chunks;
    c.chunk = wg.z % slab.chunks;
    c.x = wg.x * 8u + (li & 7u);
    c.y = wg.y * 8u + (li >> 3u);
    c.p_begin = c.chunk * slab.z_chunk + 1u;
    c.p_end = min(c.p_begin + slab.z_chunk, slab.nz + 1u);
    c.inside = c.x < slab.nx && c.y < slab.ny;
    return c;
}
