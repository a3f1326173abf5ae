//! #import common
// levels.wgsl — the faces between levels of a refined problem (issue 17; the problem's side is
// src/problem/levels.rs). Each level is its own brick grid run by the ordinary kernels at its
// own spacing; its faces towards another level are closed there. The flux through each face
// between a fine voxel and a coarse one,
//
//   F = D_s · hm(ε m_D, ε' m_D') · Σ_i w_i c_i        [mm³/s · ng/mL]
//
// (a second-order stencil over both levels' voxels), goes into the fine voxel and out of the
// coarse one. Each RKL1 stage adds it to both sides after the diffusion kernel:
//
//   Y_j += mu~_j dt · F(Y_{j-1}) / (ε ΔV)      (ΔV the receiving voxel's own volume)
//
// The stencil's voxels may lie in any slab of any level, and no binding spans two slabs, so
// this runs in two kernels: `level_gather` (per slab) copies the stencil voxels it owns from
// `src` = Y_{j-1} into one compact table, `level_apply` (per slab) adds to each of its voxels
// that meets a face the faces' fluxes read from that table. Both sides of a face compute F
// from the same values in the same order, so what one gains the other loses.
//
// `level_plan` holds, for one slab, u32 words (f32 as bits):
//   gather entries   [gather_at + 2 e]:      slab-local index, table slot
//   receivers        [receivers_at + 3 r]:   slab-local index, first receiver-face, count
//   receiver-faces   [rfaces_at + 2 i]:      face (in this slab's face list), ±1/(ε ΔV) (1/mm³)
//   faces            [faces_at + 3 f]:       first stencil entry, count, hm(ε m_D, ε' m_D')
//   stencil entries  [stencil_at + 2 e]:     table slot, weight (mm)

struct LevelSlabInfo {
    n_gather: u32,
    n_receivers: u32,
    gather_at: u32,
    receivers_at: u32,
    rfaces_at: u32,
    faces_at: u32,
    stencil_at: u32,
    _pad0: u32,
}

// The stencil voxels' values, one vec4 per (slot, pack).
@group(3) @binding(0) var<storage, read_write> level_values: array<vec4<f32>>;
@group(3) @binding(1) var<storage, read> level_plan: array<u32>;
@group(3) @binding(2) var<uniform> level: LevelSlabInfo;

@compute @workgroup_size(64, 1, 1)
fn level_gather(@builtin(global_invocation_id) id: vec3<u32>) {
    let e = id.x;
    let k = id.y;
    if (e >= level.n_gather) {
        return;
    }
    let at = level.gather_at + 2u * e;
    let local = level_plan[at];
    let slot = level_plan[at + 1u];
    level_values[slot * slab.n_packs + k] = src[local * slab.n_packs + k];
}

@compute @workgroup_size(64, 1, 1)
fn level_apply(@builtin(global_invocation_id) id: vec3<u32>) {
    let r = id.x;
    let k = id.y;
    if (r >= level.n_receivers) {
        return;
    }
    let np = slab.n_packs;
    let at = level.receivers_at + 3u * r;
    let local = level_plan[at];
    let first = level_plan[at + 1u];
    let count = level_plan[at + 2u];
    var acc = vec4<f32>(0.0);
    for (var i = 0u; i < count; i = i + 1u) {
        let rf = level.rfaces_at + 2u * (first + i);
        let fb = level.faces_at + 3u * level_plan[rf];
        let s0 = level_plan[fb];
        let n = level_plan[fb + 1u];
        var sum = vec4<f32>(0.0);
        for (var j = 0u; j < n; j = j + 1u) {
            let sb = level.stencil_at + 2u * (s0 + j);
            sum += bitcast<f32>(level_plan[sb + 1u]) * level_values[level_plan[sb] * np + k];
        }
        acc += bitcast<f32>(level_plan[rf + 1u]) * (bitcast<f32>(level_plan[fb + 2u]) * sum);
    }
    let d = select(vec4<f32>(0.0), species[k].diffusion, (stage.terms & TERM_DIFFUSION) != 0u);
    let fi = local * np + k;
    dst[fi] = dst[fi] + stage.mu_tilde_dt * d * acc;
}
