// common.wgsl — structs and functions shared by every Secretome kernel.
//
// Every struct here has exactly one Rust twin in `src/gpu/layout.rs`, with the same name,
// field order and padding; `tests/shader_layout.rs` checks their offsets with naga.
//
// Units: length mm, time s, concentration ng/mL, amounts ng.
//
// Storage layout of a slab (the grid is cut into z-slabs so that no binding exceeds the
// adapter's limit): planes p = 0 ..= nz+1, where p = 0 and p = nz+1 are ghost copies of the
// neighbouring slabs' edge planes and p = 1..nz are this slab's own planes (global
// z = z0 + p - 1). Fields: index ((p * n_species + s) * ny + y) * nx + x. Voxel words:
// index (p * ny + y) * nx + x; bits 0-3 = tissue label, bit 7 = FLAG_UNIFORM (all six face
// neighbours are tissue with this voxel's m_D, so the stencil needs no neighbour labels),
// bits 8-31 = source slot (0 = none).

const LABEL_MASK: u32 = 15u;
const FLAG_UNIFORM: u32 = 128u;

const KIND_OUTSIDE: u32 = 0u;
const KIND_BLOOD: u32 = 1u;
const KIND_TISSUE: u32 = 2u;

// Term switches (StageParams.terms).
const TERM_DIFFUSION: u32 = 1u;
const TERM_DECAY: u32 = 2u;
const TERM_UPTAKE: u32 = 4u;
const TERM_EXCHANGE: u32 = 8u;
const TERM_SOURCES: u32 = 16u;

// Stage flags (StageParams.flags).
const FLAG_HAS_OLD: u32 = 1u;   // the stage reads Y_{j-2} (nu != 0)
const FLAG_REACT: u32 = 2u;     // the stage ends with the trailing reaction half-step

// Ledger terms per (slot, species), each a Kahan pair (sum, compensation).
const LEDGER_TERMS: u32 = 6u;
const L_SECRETED: u32 = 0u;
const L_DEGRADED: u32 = 1u;
const L_UPTAKE: u32 = 2u;
const L_CAPILLARY: u32 = 3u;  // tissue -> plasma through capillaries
const L_BLOOD: u32 = 4u;      // tissue -> blood pools through faces
const L_AMOUNT: u32 = 5u;     // amount present (overwritten by the mass kernel)

// z-planes handled by one invocation.
const Z_CHUNK: u32 = 32u;

struct SpeciesParams {
    diffusion: f32,     // D, mm²/s
    decay: f32,         // k, 1/s
    vmax: f32,          // V, ng/mL/s
    km: f32,            // K, ng/mL
    permeability: f32,  // P, 1/s
    _pad0: f32,
    _pad1: f32,
    _pad2: f32,
}

struct LabelParams {
    m_diffusion: f32,
    m_uptake: f32,
    m_perfusion: f32,
    kind: u32,
}

struct LabelTable {
    entries: array<LabelParams, 8>,
}

struct SlabInfo {
    nx: u32,
    ny: u32,
    nz_total: u32,       // planes in the whole grid
    z0: u32,             // global z of this slab's first own plane
    nz: u32,             // own planes in this slab
    chunks: u32,         // ceil(nz / Z_CHUNK)
    n_species: u32,
    slot_offset: u32,    // first ledger slot of this slab
    groups_x: u32,
    groups_y: u32,
    _pad0: u32,
    _pad1: u32,
    inv_h2: f32,         // 1/h², 1/mm²
    voxel_ml: f32,       // voxel volume, mL
    _pad2: f32,
    _pad3: f32,
}

struct StageParams {
    mu: f32,             // RKL1 weight of Y_{j-1}
    nu: f32,             // RKL1 weight of Y_{j-2}
    mu_tilde_dt: f32,    // RKL1 weight of L(Y_{j-1}), times dt (s)
    beta_dt: f32,        // weight of this stage's boundary flux in the step's total, times dt (s)
    tau: f32,            // reaction half-step, s
    flags: u32,
    terms: u32,
    _pad0: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> voxels: array<u32>;
@group(0) @binding(3) var<storage, read_write> ledger: array<f32>;
@group(0) @binding(4) var<uniform> slab: SlabInfo;
@group(1) @binding(0) var<storage, read> species: array<SpeciesParams>;
@group(1) @binding(1) var<uniform> labels: LabelTable;
@group(1) @binding(2) var<storage, read> plasma: array<f32>;
@group(1) @binding(3) var<storage, read> sources: array<f32>;
@group(2) @binding(0) var<uniform> stage: StageParams;

var<workgroup> red4: array<vec4<f32>, 64>;
var<workgroup> red1: array<f32, 64>;

fn voxel_index(p: u32, y: u32, x: u32) -> u32 {
    return (p * slab.ny + y) * slab.nx + x;
}

fn field_index(p: u32, s: u32, y: u32, x: u32) -> u32 {
    return ((p * slab.n_species + s) * slab.ny + y) * slab.nx + x;
}

fn harmonic(a: f32, b: f32) -> f32 {
    if (a + b > 0.0) {
        return 2.0 * a * b / (a + b);
    }
    return 0.0;
}

// Integrals of the linear relaxation dc/dt = a - b c over a step tau:
//   phi = (1 - e^{-b tau}) / b,   psi = (tau - phi) / b,
// so that c(tau) = c0 (1 - b phi) + a phi and ∫c dt = c0 phi + a psi. Series for small b tau
// avoid the cancellation of 1 - e^{-x}.
fn relax(b: f32, tau: f32) -> vec2<f32> {
    let x = b * tau;
    if (x < 0.1) {
        let phi = tau * (1.0 - x * (0.5 - x * (1.0 / 6.0 - x * (1.0 / 24.0 - x * (1.0 / 120.0 - x / 720.0)))));
        let psi = tau * tau * (0.5 - x * (1.0 / 6.0 - x * (1.0 / 24.0 - x * (1.0 / 120.0 - x * (1.0 / 720.0 - x / 5040.0)))));
        return vec2<f32>(phi, psi);
    }
    let phi = (1.0 - exp(-x)) / b;
    return vec2<f32>(phi, (tau - phi) / b);
}

struct Reacted {
    c: f32,
    // (unused here: secretion is counted by the diffusion stages), degraded, taken up,
    // exchanged tissue -> plasma; ng/mL, multiplied by the voxel volume in the ledger.
    terms: vec4<f32>,
}

// One reaction sub-step of length tau at a tissue voxel:
//   dc/dt = P m_P (C_p - c) - k c - m_U V c / (K + c)
// solved exactly for the linear part with the Michaelis–Menten coefficient lagged
// (predictor at c0, corrector at the midpoint), so every step is unconditionally stable and
// c stays non-negative. The returned ledger terms add up exactly to c0 - c.
fn react(c0: f32, tau: f32, sp: SpeciesParams, lp: LabelParams, cp: f32, terms: u32) -> Reacted {
    let k = select(0.0, sp.decay, (terms & TERM_DECAY) != 0u);
    let pex = select(0.0, sp.permeability * lp.m_perfusion, (terms & TERM_EXCHANGE) != 0u);
    let vu = select(0.0, sp.vmax * lp.m_uptake, (terms & TERM_UPTAKE) != 0u);
    let a = pex * cp;
    var u = 0.0;
    if (vu > 0.0) {
        u = vu / (sp.km + max(c0, 0.0));
    }
    var b = k + pex + u;
    var r = relax(b, tau);
    if (vu > 0.0) {
        let c1 = c0 - b * c0 * r.x + a * r.x;
        u = vu / (sp.km + max(0.5 * (c0 + c1), 0.0));
        b = k + pex + u;
        r = relax(b, tau);
    }
    let integral = c0 * r.x + a * r.y;
    var out: Reacted;
    out.c = c0 - b * c0 * r.x + a * r.x;
    out.terms = vec4<f32>(0.0, k * integral, u * integral, pex * (integral - cp * tau));
    return out;
}

// Secretion rate (ng/mL/s) of species s at a voxel word, zero when sources are switched off.
fn source_rate(word: u32, s: u32, terms: u32) -> f32 {
    let slot = word >> 8u;
    if (slot == 0u || (terms & TERM_SOURCES) == 0u) {
        return 0.0;
    }
    return sources[(slot - 1u) * slab.n_species + s];
}

fn ledger_slot(wg: vec3<u32>, chunk: u32) -> u32 {
    return slab.slot_offset + (chunk * slab.groups_y + wg.y) * slab.groups_x + wg.x;
}

// Compensated (Kahan) accumulation of v into ledger entry (slot, s, term).
fn ledger_add(slot: u32, s: u32, term: u32, v: f32) {
    let i = ((slot * slab.n_species + s) * LEDGER_TERMS + term) * 2u;
    let sum = ledger[i];
    let y = v - ledger[i + 1u];
    let t = sum + y;
    ledger[i + 1u] = (t - sum) - y;
    ledger[i] = t;
}

// Workgroup tree reduction of the per-invocation contributions; invocation 0 adds them to the
// ledger. Must be called in uniform control flow by the whole workgroup.
fn reduce_into_ledger(li: u32, slot: u32, s: u32, v4: vec4<f32>, v1: f32, with4: bool, with1: bool) {
    red4[li] = v4;
    red1[li] = v1;
    workgroupBarrier();
    for (var off = 32u; off > 0u; off = off >> 1u) {
        if (li < off) {
            red4[li] = red4[li] + red4[li + off];
            red1[li] = red1[li] + red1[li + off];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        let vol = slab.voxel_ml;
        if (with4) {
            ledger_add(slot, s, L_SECRETED, red4[0].x * vol);
            ledger_add(slot, s, L_DEGRADED, red4[0].y * vol);
            ledger_add(slot, s, L_UPTAKE, red4[0].z * vol);
            ledger_add(slot, s, L_CAPILLARY, red4[0].w * vol);
        }
        if (with1) {
            ledger_add(slot, s, L_BLOOD, red1[0] * vol);
        }
    }
}
