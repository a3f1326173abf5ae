// plasma_update.wgsl — the endocrine axis (MODEL.md §4), advanced once per step on the GPU
// after the heart's fields: one well-mixed plasma compartment per species, and the remote
// depots (lungs, skeletal muscle, skin) that feed it.
//
//   remote depot d:  dA/dt = N σ − (k_abs + k_loc) A               (A: amount at the site, ng)
//   plasma:          V dC/dt = J_heart + Σ_d F k_abs A_d − k_e V C  (C: ng/mL)
//   remote cells:    N ← N exp(−k_death (1 − f(A/V_site)) dt)       (the autocrine feedback)
//
// J_heart is the net flux from the heart's tissue and blood pools into plasma over the step,
// taken from the ledger totals the reduce kernel has just written (their change since the last
// step). Within the step every input is held constant except A_d, whose exponential course
// is integrated exactly into the plasma equation, so a plasma bolus decays exactly and a
// subcutaneous depot follows the Bateman curve. The amount cleared is what balances the books,
// so the plasma ledger closes by construction.

struct PlasmaInfo {
    n_packs: u32,
    n_remote: u32,
    autocrine: u32,    // 1: remote cells read their own factors
    _pad0: u32,
    dt: f32,           // s
    volume_ml: f32,    // plasma volume V, mL
    a_max: f32,
    k_half: f32,       // ng/mL
    hill: f32,
    _pad1: f32,
    _pad2: f32,
    _pad3: f32,
}

// Ledger totals as the reduce kernel writes them: per (pack, term) a (sum, compensation) pair.
@group(0) @binding(0) var<storage, read> totals: array<vec4<f32>>;
// Plasma concentration per pack in entries 0..n_packs (the compartments buffer).
@group(0) @binding(1) var<storage, read_write> compartments: array<vec4<f32>>;
// Remote depot d, stride 2 + 3 n_packs: [0] = (N cells, k_death 1/s, k_abs 1/s, F),
// [1] = (V_site mL, N0, L, L's compensation), then per pack: A (ng), σ (ng/cell/s), k_loc (1/s).
// N = N0 exp(−L), L = Σ k_death (1 − f) dt summed with compensation since N0 was set (as the
// depots in the heart, depot_update.wgsl).
@group(0) @binding(2) var<storage, read_write> remote: array<vec4<f32>>;
// Per pack, stride 9: heart exchange total at the last step, then Kahan pairs (sum, comp) of
// cleared, absorbed from remote depots, secreted at remote depots, lost at remote depots.
@group(0) @binding(3) var<storage, read_write> pstate: array<vec4<f32>>;
// Per pack, stride 2: plasma clearance rate k_e (1/s), autocrine weight w_s.
@group(0) @binding(4) var<storage, read> kinetics: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> info: PlasmaInfo;

// The ledger terms (LEDGER_TERMS, L_CAPILLARY, L_BLOOD) come from ledger.wgsl, prepended.
const MAX_PACKS: u32 = 8u;

// (1 − e^{−x t}) / x, with its limit t at x → 0.
fn phi(x: vec4<f32>, t: f32) -> vec4<f32> {
    let xt = x * t;
    let series = t * (1.0 - xt * (0.5 - xt * (1.0 / 6.0 - xt / 24.0)));
    let safe = select(x, vec4<f32>(1.0), xt < vec4<f32>(1e-3));
    return select((1.0 - exp(-x * t)) / safe, series, xt < vec4<f32>(1e-3));
}

fn kahan_add(i: u32, v: vec4<f32>) {
    let y = v - pstate[i + 1u];
    let s = pstate[i];
    let t = s + y;
    pstate[i + 1u] = (t - s) - y;
    pstate[i] = t;
}

@compute @workgroup_size(1, 1, 1)
fn plasma_update() {
    let dt = info.dt;
    let v_p = info.volume_ml;
    let zero = vec4<f32>(0.0);
    let one = vec4<f32>(1.0);
    // Per pack: ng from the heart over the step; plasma gain from remote depots (their
    // absorption seen through the plasma's decay, ng); ng absorbed from remote depots.
    var heart: array<vec4<f32>, MAX_PACKS>;
    var gain: array<vec4<f32>, MAX_PACKS>;
    var absorbed: array<vec4<f32>, MAX_PACKS>;
    for (var k = 0u; k < info.n_packs; k = k + 1u) {
        let c = (k * LEDGER_TERMS + L_CAPILLARY) * 2u;
        let b = (k * LEDGER_TERMS + L_BLOOD) * 2u;
        let total = (totals[c] - totals[c + 1u]) + (totals[b] - totals[b + 1u]);
        heart[k] = total - pstate[k * 9u];
        pstate[k * 9u] = total;
        gain[k] = zero;
        absorbed[k] = zero;
    }
    let stride = 2u + 3u * info.n_packs;
    for (var d = 0u; d < info.n_remote; d = d + 1u) {
        let base = d * stride;
        let head = remote[base];
        let n_cells = head.x;
        let k_abs = head.z;
        let f_bio = head.w;
        let v_site = remote[base + 1u].x;
        var protect = 0.0;
        for (var k = 0u; k < info.n_packs; k = k + 1u) {
            let ke = kinetics[k * 2u];
            let a0 = remote[base + 2u + 3u * k];
            let r = n_cells * remote[base + 3u + 3u * k];      // secretion, ng/s
            let a = vec4<f32>(k_abs) + remote[base + 4u + 3u * k];
            let has_a = a > zero;
            let a_safe = select(one, a, has_a);
            let pa = phi(a, dt);
            let decay = exp(-a * dt);
            let a_inf = select(zero, r / a_safe, has_a);
            let a1 = select(a0 + r * dt, a0 * decay + r * pa, has_a);
            // ∫ A dt over the step.
            let integral = select(a0 * dt + 0.5 * r * dt * dt, a0 * pa + (r * dt - r * pa) / a_safe, has_a);
            // ∫ e^{−k_e (dt − s)} A(s) ds = A∞ φ_e + (A0 − A∞)(e^{−a dt} − e^{−k_e dt})/(k_e − a).
            let pe = phi(ke, dt);
            let g = ke - a;
            let near = abs(g * dt) < vec4<f32>(1e-4);
            let tail = select((decay - exp(-ke * dt)) / select(g, one, near), dt * decay, near);
            let conv = a_inf * pe + (a0 - a_inf) * tail;
            let taken = f_bio * k_abs * integral;
            gain[k] += f_bio * k_abs * conv;
            absorbed[k] += taken;
            remote[base + 2u + 3u * k] = a1;
            kahan_add(k * 9u + 5u, r * dt);
            kahan_add(k * 9u + 7u, (a0 + r * dt - a1) - taken);
            let cn = pow(max(a1 / v_site, zero), vec4<f32>(info.hill));
            protect += dot(kinetics[k * 2u + 1u], cn / (vec4<f32>(pow(info.k_half, info.hill)) + cn));
        }
        let f = select(0.0, info.a_max * protect, info.autocrine == 1u);
        var rec = remote[base + 1u];
        let y = head.y * (1.0 - f) * dt - rec.w;
        let t = rec.z + y;
        rec.w = (t - rec.z) - y;
        rec.z = t;
        remote[base + 1u] = rec;
        remote[base].x = rec.y * exp(-(rec.z - rec.w));
    }
    for (var k = 0u; k < info.n_packs; k = k + 1u) {
        let ke = kinetics[k * 2u];
        let c0 = compartments[k];
        let c1 = max(c0 * exp(-ke * dt) + (heart[k] / dt * phi(ke, dt) + gain[k]) / v_p, zero);
        compartments[k] = c1;
        kahan_add(k * 9u + 1u, v_p * c0 + heart[k] + absorbed[k] - v_p * c1);
        kahan_add(k * 9u + 3u, absorbed[k]);
    }
}
