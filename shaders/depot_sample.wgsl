//! #import workgroup_sum
// depot_sample.wgsl — the autocrine axis on the GPU (MODEL.md §3): each step, every depot reads the
// concentrations at its own voxels and its cells survive accordingly, with no round trip to
// the host.
//
//   c_d,s = Σ_v w_v c_v,s                      (the depot's weighted mean, ng/mL)
//   f_d   = a_max · Σ_s w_s c_d,s^n / (K^n + c_d,s^n)
//   N_d  ← N_d · exp(−k_death,d · (1 − f_d) · dt)
//
// the exact solution of dN/dt = −k_death (1 − f) N over one step with f frozen at the step's
// end state. This kernel, `depot_sample`, runs once per slab (a depot may straddle slabs) and writes one
// partial sum per (slab, depot, pack); `depot_update` adds them up and writes N_d into the
// compartments buffer, where the diffusion kernel reads it as the depot's source scale.

struct DepotSlabInfo {
    n_packs: u32,
    slab: u32,        // index of this slab
    n_depots: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<storage, read> fields: array<vec4<f32>>;
// Per (slab, depot): first entry and count in `depot_voxels` / `depot_weights`.
@group(0) @binding(1) var<storage, read> ranges: array<vec2<u32>>;
// Slab-local stored index of each (tissue) voxel of the depot.
@group(0) @binding(2) var<storage, read> depot_voxels: array<u32>;
@group(0) @binding(3) var<storage, read> depot_weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> partial: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> sinfo: DepotSlabInfo;

// workgroup_sum.wgsl's shape: one vec4 from each of the 64 invocations.
const SUM_LANES: u32 = 64u;
const SUM_ROWS: u32 = 1u;

@compute @workgroup_size(64, 1, 1)
fn depot_sample(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let d = wg.x;
    let k = wg.y;
    let r = ranges[sinfo.slab * sinfo.n_depots + d];
    var sum = vec4<f32>(0.0);
    for (var e = r.x + li; e < r.x + r.y; e = e + 64u) {
        sum += depot_weights[e] * fields[depot_voxels[e] * sinfo.n_packs + k];
    }
    sums[li] = sum;
    workgroup_sum(li);
    if (li == 0u) {
        partial[(sinfo.slab * sinfo.n_depots + d) * sinfo.n_packs + k] = sums[0];
    }
}

