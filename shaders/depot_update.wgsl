// depot_update.wgsl — the second half of the autocrine step (see depot_sample.wgsl): adds the
// per-slab partial sums into each depot's mean concentration c_d,s, then
//   f_d = a_max · Σ_s w_s c_d,s^n / (K^n + c_d,s^n),   N_d ← N_d · exp(−k_death,d (1 − f_d) dt)
// and writes N_d into the compartments buffer (the depot's source scale).

struct DepotInfo {
    n_depots: u32,
    n_packs: u32,
    n_slabs: u32,
    enabled: u32,     // 1: autocrine feedback on; 0: f = 0
    a_max: f32,       // largest protection, 0..1
    k_half: f32,      // K_auto, ng/mL
    hill: f32,        // n
    dt: f32,          // step, s
}

@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> compartments: array<vec4<f32>>;
// Per depot: x = k_death (1/s).
@group(0) @binding(2) var<storage, read> depot_params: array<vec4<f32>>;
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
    // Scale slot of depot d is d + 1 (slot 0 is the fixed source map).
    let slot = d + 1u;
    let i = info.n_packs + slot / 4u;
    var v = compartments[i];
    v[slot % 4u] = v[slot % 4u] * exp(-depot_params[d].x * (1.0 - f) * info.dt);
    compartments[i] = v;
}
