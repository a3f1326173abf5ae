//! #import bricks
// The viewer's copy of one species' current field into the 3D texture its renderer samples:
// one dispatch per slab of the brick grid, one workgroup per own brick (the solver's fields,
// read only; nothing here changes them). Only tissue voxels are written: the renderer reads
// the field nowhere else.

struct ExtractInfo {
    first_brick: u32,   // slab-local slot of the slab's first own brick
    n_bricks: u32,      // own bricks
    n_packs: u32,       // species packs of four
    species: u32,       // the species copied
}

@group(0) @binding(0) var<storage, read> fields: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> info: ExtractInfo;
@group(0) @binding(2) var field_out: texture_storage_3d<r32float, write>;
@group(0) @binding(3) var<storage, read> bricks: array<Brick>;

@compute @workgroup_size(64, 1, 1)
fn extract(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let n = wg.y * 65535u + wg.x;
    if (n >= info.n_bricks) {
        return;
    }
    let b = info.first_brick + n;
    if (!in_mask(bricks[b].mask_lo, bricks[b].mask_hi, li)) {
        return;
    }
    let i = stored_index(b, li);
    let v = fields[i * info.n_packs + info.species / 4u][info.species % 4u];
    let o = bricks[b].origin;
    let at = 4u * vec3<u32>(o & 2047u, (o >> 11u) & 2047u, o >> 22u)
        + vec3<u32>(li & 3u, (li >> 2u) & 3u, li >> 4u);
    textureStore(field_out, at, vec4<f32>(v, 0.0, 0.0, 0.0));
}
