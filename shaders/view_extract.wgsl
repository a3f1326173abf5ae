//! #import bricks
// The viewer's copy of one species' current field into the 3D texture its renderer samples:
// one dispatch per slab of the brick grid, one workgroup per own brick (the solver's fields,
// read only; nothing here changes them). Only tissue voxels are written: the renderer reads
// the field nowhere else.
//
// On a refined problem (issue 17) a slab of level l > 0 writes each of its leaves into the
// fine texture (the finest edge over the box of the finer levels: `scale` texels per edge),
// and the leaf whose low corner is a coarse voxel's low corner into that coarse voxel, which
// finer levels cover (so the coarse texture has a leaf's value everywhere).

struct ExtractInfo {
    first_brick: u32,   // slab-local slot of the slab's first own brick
    n_bricks: u32,      // own bricks
    n_packs: u32,       // species packs of four
    species: u32,       // the species copied
    level: vec4<u32>,   // xyz: the level grid's corner in its voxels from the problem's; w: level
    fine: vec4<i32>,    // xyz: the fine texel of the level grid's first voxel; w: texels per edge
}

@group(0) @binding(0) var<storage, read> fields: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> info: ExtractInfo;
@group(0) @binding(2) var field_out: texture_storage_3d<r32float, write>;
@group(0) @binding(3) var<storage, read> bricks: array<Brick>;
@group(0) @binding(4) var fine_out: texture_storage_3d<r32float, write>;

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
    let l = info.level.w;
    if (l == 0u) {
        textureStore(field_out, at, vec4<f32>(v, 0.0, 0.0, 0.0));
        return;
    }
    let g = at + info.level.xyz;
    let corner = (1u << l) - 1u;
    if (all((g & vec3<u32>(corner)) == vec3<u32>(0u))) {
        textureStore(field_out, g >> vec3<u32>(l), vec4<f32>(v, 0.0, 0.0, 0.0));
    }
    let s = info.fine.w;
    let base = vec3<i32>(at) * s + info.fine.xyz;
    for (var z = 0; z < s; z = z + 1) {
        for (var y = 0; y < s; y = y + 1) {
            for (var x = 0; x < s; x = x + 1) {
                textureStore(fine_out, base + vec3<i32>(x, y, z), vec4<f32>(v, 0.0, 0.0, 0.0));
            }
        }
    }
}
