// The viewer's copy of one species' current field into the 3D texture its renderer samples:
// one dispatch per z-slab (the solver's fields, read only; nothing here changes them).

struct ExtractInfo {
    nx: u32,
    ny: u32,
    z0: u32,        // global z of the slab's first own plane
    nz: u32,        // own planes in the slab
    n_packs: u32,   // species packs of four
    species: u32,   // the species copied
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> fields: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> info: ExtractInfo;
@group(0) @binding(2) var field_out: texture_storage_3d<r32float, write>;

@compute @workgroup_size(8, 8, 1)
fn extract(@builtin(global_invocation_id) id: vec3<u32>) {
    if (id.x >= info.nx || id.y >= info.ny || id.z >= info.nz) {
        return;
    }
    // Plane p = z + 1 of the slab: plane 0 is the lower ghost.
    let p = id.z + 1u;
    let k = info.species / 4u;
    let i = ((p * info.n_packs + k) * info.ny + id.y) * info.nx + id.x;
    let v = fields[i][info.species % 4u];
    textureStore(field_out, vec3<u32>(id.x, id.y, info.z0 + id.z), vec4<f32>(v, 0.0, 0.0, 0.0));
}
