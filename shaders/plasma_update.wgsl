//! #import ledger
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
//
// The plasma in step with the tissue (MODEL.md §4). The tissue kernels of a step read the
// plasma of that same step, not of the one before: after advancing plasma to the end of step n
// (with the heart's actual exchange over it), this kernel predicts its course over the next
// step and a half from the same equations, with the heart's inflow held at its last rate, and
// writes the means the tissue kernels need into the step's `PlasmaCourse`:
//   lead  — the mean over [t, t + dt/2] (the leading reaction half-step; predicted one step
//           earlier, as `next`, and kept, so a fused and an unfused step read the same value),
//   trail — the mean over [t + dt/2, t + dt] (the trailing half-step),
//   next  — the mean over [t + dt, t + 3dt/2] (the next step's leading half-step, which runs
//           fused into this step's last stage),
//   step_mean — the mean over the whole step (the blood faces of the diffusion stages),
//   step_end  — C(t + dt) as predicted (no kernel reads it: blood voxels are not stored, and
//               read back they hold the plasma `now` once the step has advanced it).
// Only the heart's own feedback on plasma is predicted (the prediction is exact for a bolus
// and for remote depots); the plasma itself always takes the heart's actual exchange, so the
// ledger closes as before. The means are 5-point Gauss–Legendre sums of the exact course
// C(s) (error ~(k dt/2)^10 · 4e-14 for a decay rate k).

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

// What the tissue kernels read of plasma in one step, per pack (ng/mL); the twin of Rust's
// `PlasmaCourse`. Packs are followed in the same buffer by the source-group scales, which this
// kernel does not touch.
struct PlasmaCourse {
    now: vec4<f32>,         // plasma at the current time (the end of the last step)
    step_mean: vec4<f32>,   // mean over the coming step
    step_end: vec4<f32>,    // predicted at its end
    lead: vec4<f32>,        // mean over its first half
    trail: vec4<f32>,       // mean over its second half
    next: vec4<f32>,        // mean over the first half of the step after
}

// Ledger totals as the reduce kernel writes them: per (pack, term) a (sum, compensation) pair.
@group(0) @binding(0) var<storage, read> totals: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> compartments: array<PlasmaCourse>;
// One pack of species at a remote site; the twin of Rust's `RemotePack`.
struct RemotePack {
    amount: vec4<f32>,      // A, ng
    secretion: vec4<f32>,   // σ, ng/cell/s
    k_local: vec4<f32>,     // k_loc, 1/s
}

// A remote depot (lungs, muscle, skin); the twin of Rust's `RemoteSite`. cells = n0 exp(−L),
// L = Σ k_death (1 − f) dt summed with compensation (log_sum, log_comp) since n0 was set (as the
// depots in the heart, depot_update.wgsl).
struct RemoteSite {
    cells: f32,
    k_death: f32,           // 1/s
    k_abs: f32,             // 1/s
    bioavailability: f32,   // F
    volume_ml: f32,         // V_site
    n0: f32,
    log_sum: f32,
    log_comp: f32,
    packs: array<RemotePack, MAX_PACKS>,
}

// A running sum and its compensation; the twin of Rust's `KahanSum`.
struct KahanSum {
    sum: vec4<f32>,
    comp: vec4<f32>,
}

// The plasma kernel's running totals per pack; the twin of Rust's `PlasmaTotals`.
struct PlasmaTotals {
    heart_exchange: vec4<f32>,   // the heart's exchange total at the last step, ng
    cleared: KahanSum,
    absorbed: KahanSum,          // from remote depots
    remote_secreted: KahanSum,
    remote_lost: KahanSum,
    inflow: vec4<f32>,           // the heart's inflow over the last step, ng/s (the prediction's)
}

@group(0) @binding(2) var<storage, read_write> remote: array<RemoteSite>;
@group(0) @binding(3) var<storage, read_write> pstate: array<PlasmaTotals>;
// Per pack, stride 2: plasma clearance rate k_e (1/s), autocrine weight w_s.
@group(0) @binding(4) var<storage, read> kinetics: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> info: PlasmaInfo;

// The ledger terms (LEDGER_TERMS, L_CAPILLARY, L_BLOOD) come from ledger.wgsl.
const MAX_PACKS: u32 = 8u;

// (1 − e^{−x t}) / x, with its limit t at x → 0.
fn phi(x: vec4<f32>, t: f32) -> vec4<f32> {
    let xt = x * t;
    let series = t * (1.0 - xt * (0.5 - xt * (1.0 / 6.0 - xt / 24.0)));
    let safe = select(x, vec4<f32>(1.0), xt < vec4<f32>(1e-3));
    return select((1.0 - exp(-x * t)) / safe, series, xt < vec4<f32>(1e-3));
}

// (e^{−a s} − e^{−k s}) / (k − a) = e^{−m s} · 2 sinh(δ s/2)/δ with m = (a + k)/2, δ = k − a:
// the plasma's response at s to a unit absorption rate decaying at a (no cancellation at a ≈ k).
fn response(a: vec4<f32>, k: vec4<f32>, s: f32) -> vec4<f32> {
    let d = k - a;
    let y = 0.5 * d * s;
    let near = abs(y) < vec4<f32>(0.1);
    let direct = (exp(-a * s) - exp(-k * s)) / select(d, vec4<f32>(1.0), near);
    let y2 = y * y;
    let series = exp(-0.5 * (a + k) * s) * s * (1.0 + y2 / 6.0 * (1.0 + y2 / 20.0));
    return select(direct, series, near);
}

// `k` with `v` added (Kahan summation).
fn kahan(k: KahanSum, v: vec4<f32>) -> KahanSum {
    let y = v - k.comp;
    let s = k.sum;
    let t = s + y;
    var out: KahanSum;
    out.comp = (t - s) - y;
    out.sum = t;
    return out;
}

// Plasma of pack k at time s after a state with plasma c0, the heart's inflow `inflow` (ng/s,
// held constant) and the remote depots as they are in `remote` now (cells held constant):
//   C(s) = c0 e^{−k_e s} + inflow φ(k_e, s)/V + Σ_d F k_abs [A∞ φ(k_e, s) + (A0 − A∞) R(a, k_e, s)]/V
fn plasma_at(k: u32, c0: vec4<f32>, inflow: vec4<f32>, s: f32) -> vec4<f32> {
    let zero = vec4<f32>(0.0);
    let ke = kinetics[k * 2u];
    let pe = phi(ke, s);
    var gain = inflow * pe;
    for (var d = 0u; d < info.n_remote; d = d + 1u) {
        let k_abs = remote[d].k_abs;
        let a = vec4<f32>(k_abs) + remote[d].packs[k].k_local;
        let has_a = a > zero;
        let r = remote[d].cells * remote[d].packs[k].secretion;
        let a_inf = select(zero, r / select(vec4<f32>(1.0), a, has_a), has_a);
        let a0 = remote[d].packs[k].amount;
        gain += select(zero, remote[d].bioavailability * k_abs * (a_inf * pe + (a0 - a_inf) * response(a, ke, s)), has_a);
    }
    return c0 * exp(-ke * s) + gain / info.volume_ml;
}

// Mean of the predicted course over [s0, s0 + h] (5-point Gauss–Legendre).
fn plasma_mean(k: u32, c0: vec4<f32>, inflow: vec4<f32>, s0: f32, h: f32) -> vec4<f32> {
    let x = array<f32, 5>(0.0, 0.5384693101056831, -0.5384693101056831, 0.9061798459386640, -0.9061798459386640);
    let w = array<f32, 5>(0.5688888888888889, 0.4786286704993665, 0.4786286704993665, 0.2369268850561891, 0.2369268850561891);
    var sum = vec4<f32>(0.0);
    for (var i = 0u; i < 5u; i = i + 1u) {
        sum += w[i] * plasma_at(k, c0, inflow, s0 + 0.5 * h * (1.0 + x[i]));
    }
    return 0.5 * sum;
}

// The course of the coming step from the plasma `now` and the inflow of the last step; `lead`
// is given when it was predicted before (as the last step's `next`), else predicted here.
fn predict(k: u32, now: vec4<f32>, lead_known: bool, lead_before: vec4<f32>) -> PlasmaCourse {
    let tau = 0.5 * info.dt;
    let inflow = pstate[k].inflow;
    var out: PlasmaCourse;
    out.now = now;
    out.lead = select(plasma_mean(k, now, inflow, 0.0, tau), lead_before, lead_known);
    out.trail = plasma_mean(k, now, inflow, tau, tau);
    out.next = plasma_mean(k, now, inflow, 2.0 * tau, tau);
    out.step_mean = 0.5 * (out.lead + out.trail);
    out.step_end = plasma_at(k, now, inflow, info.dt);
    return out;
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
        heart[k] = total - pstate[k].heart_exchange;
        pstate[k].heart_exchange = total;
        pstate[k].inflow = heart[k] / dt;
        gain[k] = zero;
        absorbed[k] = zero;
    }
    for (var d = 0u; d < info.n_remote; d = d + 1u) {
        let n_cells = remote[d].cells;
        let k_abs = remote[d].k_abs;
        let f_bio = remote[d].bioavailability;
        let v_site = remote[d].volume_ml;
        var protect = 0.0;
        for (var k = 0u; k < info.n_packs; k = k + 1u) {
            let ke = kinetics[k * 2u];
            let a0 = remote[d].packs[k].amount;
            let r = n_cells * remote[d].packs[k].secretion;      // secretion, ng/s
            let a = vec4<f32>(k_abs) + remote[d].packs[k].k_local;
            let has_a = a > zero;
            let a_safe = select(one, a, has_a);
            let pa = phi(a, dt);
            let decay = exp(-a * dt);
            let a_inf = select(zero, r / a_safe, has_a);
            let a1 = select(a0 + r * dt, a0 * decay + r * pa, has_a);
            // ∫ A dt over the step.
            let integral = select(a0 * dt + 0.5 * r * dt * dt, a0 * pa + (r * dt - r * pa) / a_safe, has_a);
            // ∫ e^{−k_e (dt − s)} A(s) ds = A∞ φ_e + (A0 − A∞)(e^{−a dt} − e^{−k_e dt})/(k_e − a).
            let conv = a_inf * phi(ke, dt) + (a0 - a_inf) * response(a, ke, dt);
            let taken = f_bio * k_abs * integral;
            gain[k] += f_bio * k_abs * conv;
            absorbed[k] += taken;
            remote[d].packs[k].amount = a1;
            pstate[k].remote_secreted = kahan(pstate[k].remote_secreted, r * dt);
            pstate[k].remote_lost = kahan(pstate[k].remote_lost, (a0 + r * dt - a1) - taken);
            let cn = pow(max(a1 / v_site, zero), vec4<f32>(info.hill));
            protect += dot(kinetics[k * 2u + 1u], cn / (vec4<f32>(pow(info.k_half, info.hill)) + cn));
        }
        let f = select(0.0, info.a_max * protect, info.autocrine == 1u);
        let log_sum = remote[d].log_sum;
        let y = remote[d].k_death * (1.0 - f) * dt - remote[d].log_comp;
        let t = log_sum + y;
        let comp = (t - log_sum) - y;
        remote[d].log_comp = comp;
        remote[d].log_sum = t;
        remote[d].cells = remote[d].n0 * exp(-(t - comp));
    }
    for (var k = 0u; k < info.n_packs; k = k + 1u) {
        let ke = kinetics[k * 2u];
        let c0 = compartments[k].now;
        let c1 = max(c0 * exp(-ke * dt) + (heart[k] / dt * phi(ke, dt) + gain[k]) / v_p, zero);
        pstate[k].cleared = kahan(pstate[k].cleared, v_p * c0 + heart[k] + absorbed[k] - v_p * c1);
        pstate[k].absorbed = kahan(pstate[k].absorbed, absorbed[k]);
        // The next step's course, from the plasma and remote sites just advanced; its first
        // half was predicted (as `next`) before this step's last stage used it.
        compartments[k] = predict(k, c1, true, compartments[k].next);
    }
}

// The course of the coming step predicted afresh from the plasma now (after the host set the
// plasma, the remote depots, the step or the species).
@compute @workgroup_size(1, 1, 1)
fn plasma_predict() {
    for (var k = 0u; k < info.n_packs; k = k + 1u) {
        compartments[k] = predict(k, compartments[k].now, false, vec4<f32>(0.0));
    }
}
