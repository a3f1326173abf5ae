// depot_update.wgsl — the second half of the autocrine step (see depot_sample.wgsl): adds the
// per-slab partial sums into each depot's mean concentration c_d,s, then
//   f_d = a_max · Σ_s w_s c_d,s^n / (K^n + c_d,s^n),   N_d ← N_d · exp(−k_death,d (1 − f_d) dt)
// and writes N_d into the compartments buffer (the depot's source scale).
//
// One invocation per depot, and every word it writes is its own: its `DepotCells` record and
// its one f32 cell count in the compartments buffer (bound here as an array of f32, not of the
// vec4 the grid kernels read). Writing a whole vec4 that four depots share would let one
// invocation overwrite the others' updates.
//
// N_d is kept as N0 · exp(−L) with L = Σ k_death (1 − f) dt summed with compensation since the
// host last set the cells, so that a thousand steps lose no more precision than one (an f32
// product N ← N · e^{−x} per step drifts by ~1e-7 per step).

struct DepotInfo {
    n_depots: u32,
    n_packs: u32,
    n_slabs: u32,
    enabled: u32,       // 1: autocrine feedback on; 0: f = 0
    a_max: f32,         // largest protection, 0..1
    k_half: f32,        // K_auto, ng/mL
    hill: f32,          // n
    dt: f32,            // step, s
    scale_offset: u32,  // f32 index of source group 0's scale in the compartments buffer
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

// One depot's cells: N = n0 · exp(−(log_sum − log_comp)).
struct DepotCells {
    n0: f32,        // cells when the host last set them
    k_death: f32,   // death rate without protection, 1/s
    log_sum: f32,   // L = Σ k_death (1 − f) dt since then (Kahan sum) ...
    log_comp: f32,  // ... and its compensation
}

@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>;
// The compartments buffer as f32 words: depot d's cells at scale_offset + d + 1.
@group(0) @binding(1) var<storage, read_write> compartments: array<f32>;
@group(0) @binding(2) var<storage, read_write> cells: array<DepotCells>;
// Autocrine weight w_s per pack.
@group(0) @binding(3) var<storage, read> auto_weights: array<vec4<f32>>;
// Per depot and pack: the sampled mean concentration (ng/mL), for readouts.
@group(0) @binding(4) var<storage, read_write> depot_conc: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> info: DepotInfo;

@compute @workgroup_size(64, 1, 1)
fn depot_update(@builtin(global_invocation_id) gid: vec3<u32>) {
    let d = gid.x;
    if (d >= info.n_depots) {
        return;
    }
    var f = 0.0;
    for (var k = 0u; k < info.n_packs; k = k + 1u) {
        var c = vec4<f32>(0.0);
        for (var s = 0u; s < info.n_slabs; s = s + 1u) {
            c += partials[(s * info.n_depots + d) * info.n_packs + k];
        }
        depot_conc[d * info.n_packs + k] = c;
        let cn = pow(max(c, vec4<f32>(0.0)), vec4<f32>(info.hill));
        let kn = pow(info.k_half, info.hill);
        f += dot(auto_weights[k], cn / (vec4<f32>(kn) + cn));
    }
    if (info.enabled == 0u) {
        f = 0.0;
    }
    f = info.a_max * f;
    var rec = cells[d];
    let y = rec.k_death * (1.0 - f) * info.dt - rec.log_comp;
    let t = rec.log_sum + y;
    rec.log_comp = (t - rec.log_sum) - y;
    rec.log_sum = t;
    cells[d] = rec;
    // Scale slot of depot d is d + 1 (slot 0 is the fixed source map).
    compartments[info.scale_offset + d + 1u] = rec.n0 * exp(-(rec.log_sum - rec.log_comp));
}
