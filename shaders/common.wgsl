//! #import ledger
//! #import bricks
// common.wgsl — structs and functions shared by every Secretome grid kernel.
//
// Every struct here has exactly one Rust twin in `src/gpu/layout.rs`, with the same name,
// field order and padding; `tests/integration/shader_layout.rs` checks their offsets with naga.
//
// Units: length mm, time s, concentration ng per mL of interstitial fluid, amounts ng.
//
// Species are processed four at a time: a "pack" is a vec4<f32> holding species 4k..4k+3
// (a table of 5 species has 2 packs, the last padded with inert zeros). Each voxel's label
// work is then shared by four species, and every load moves four values.
//
// Storage: the brick grid. The grid is cut into bricks of 4 × 4 × 4 voxels, and only bricks
// holding tissue are stored, in slabs of whole brick layers along z (so that no binding
// exceeds the adapter's limit); each slab's buffers also hold the bricks of the layer below
// and above it (ghosts, refreshed by copies after every stage). Within a slab only tissue
// voxels are stored, brick after brick, each brick's in local order l = x + 4 y + 16 z: voxel
// l of brick b is at index bricks[b].base + (tissue voxels of the brick's mask below l). Fields:
// vec4 index i * n_packs + k. Voxel words: index i; bits 0-2 = tissue label; bits 3-14 = six
// two-bit face codes (x-, x+, y-, y+, z-, z+): FACE_TISSUE, FACE_CLOSED (`outside` or the
// grid edge), or 1 + the label of the blood voxel there; bit 15 = FLAG_SIMPLE (every open
// face opens onto tissue with this voxel's ε·m_D, so the stencil needs no neighbour labels);
// bit 16 = FLAG_UNIT (FLAG_SIMPLE and m_D = 1: no label lookup at all); bits 17-31 = source
// slot, counted from the brick's source_base (0 = none). Blood and outside voxels are not
// stored: a blood face reads the plasma, a closed face carries no flux.

const LABEL_MASK: u32 = 7u;
const FACE_SHIFT: u32 = 3u;
const FACE_TISSUE: u32 = 0u;
const FACE_CLOSED: u32 = 1u;
const FLAG_SIMPLE: u32 = 32768u;
const FLAG_UNIT: u32 = 65536u;
const SLOT_SHIFT: u32 = 17u;

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
const FLAG_REACT_TWICE: u32 = 4u; // ... followed by the next step's leading half-step
const FLAG_TRAIL: u32 = 8u;     // a reaction half-step pass that is the step's trailing one

// The ledger terms (LEDGER_TERMS, L_*) come from ledger.wgsl.

// Kinetics of four species (one pack).
struct SpeciesPack {
    diffusion: vec4<f32>,     // D, mm²/s
    decay: vec4<f32>,         // k, 1/s
    vmax: vec4<f32>,          // V, ng/mL/s
    km: vec4<f32>,            // K, ng/mL
    permeability: vec4<f32>,  // P, 1/s
    ec50: vec4<f32>,          // effective concentration of the exposure readouts, ng/mL
    kd: vec4<f32>,            // K_d of the occupancy readout c/(c + K_d), ng/mL
}

// Per-label properties. Concentrations are per mL of interstitial fluid: a voxel holds
// volume_fraction · c · voxel_ml ng, so every amount the ledger counts is weighted by it.
struct LabelParams {
    m_diffusion: f32,
    m_uptake: f32,
    m_perfusion: f32,
    kind: u32,
    volume_fraction: f32,   // ε, mL interstitium / mL tissue
    conductance: f32,       // ε · m_D: a face carries D · hm(ε m_D, ε' m_D') · Δc / h per area
    _pad0: f32,
    _pad1: f32,
}

struct LabelTable {
    entries: array<LabelParams, 8>,
}

struct SlabInfo {
    nx: u32,             // the grid's voxels along x, y, z
    ny: u32,
    nz: u32,
    n_packs: u32,        // ceil(n_species / 4)
    first_brick: u32,    // slab-local slot of the first own brick (ghosts below come first)
    n_bricks: u32,       // own bricks
    groups: u32,         // workgroups per pack: each walks an equal run of own bricks (brick_run)
    slot_offset: u32,    // first ledger slot of this slab, in workgroups
    sub_slots: u32,      // ledger slots per workgroup (one per subgroup, or 1: see below)
    inv_h2: f32,         // 1/h², 1/mm²
    voxel_ml: f32,       // voxel volume, mL
    bricks_x: u32,       // bricks along x, and in a brick layer: the slot strides of a grid
    bricks_xy: u32,      // whose bricks are all stored (ALL_FULL)
    weight: f32,         // a voxel's volume in coarse voxels (8^-level): its regional weight
    _pad1: u32,
    _pad2: u32,
}

struct StageParams {
    nu: f32,             // RKL1 weight of Y_{j-2} (that of Y_{j-1} is 1 − nu)
    mu_tilde_dt: f32,    // RKL1 weight of F(Y_{j-1}), times dt (s)
    beta_dt: f32,        // weight of this stage's fluxes in the step's total, times dt (s)
    tau: f32,            // reaction half-step, s
    flags: u32,
    terms: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> voxels: array<u32>;
@group(0) @binding(3) var<storage, read_write> ledger: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> slab: SlabInfo;
// Exposure per voxel and pack (MODEL.md §5), laid out as the fields with EXPOSURE_ENTRIES vec4
// per entry: [3 i] = AUC ∫c dt (ng·s/mL), [3 i + 1] = time above EC50 (s), [3 i + 2] = receptor
// occupancy's integral ∫ c/(c + K_d) dt (s). Tissue voxels only.
@group(0) @binding(5) var<storage, read_write> exposure: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> bricks: array<Brick>;
@group(1) @binding(0) var<storage, read> species: array<SpeciesPack>;
@group(1) @binding(1) var<uniform> labels: LabelTable;
// Compartments: per pack, the plasma of the step (a `PlasmaCourse`, plasma_update.wgsl: its
// PLASMA_ENTRIES vec4s in the order of the PC_* constants), then the scale of every source group
// (1 for the fixed source map, then each depot's cells), four per vec4.
@group(1) @binding(2) var<storage, read> compartments: array<vec4<f32>>;
@group(1) @binding(3) var<storage, read> sources: array<vec4<f32>>;
@group(2) @binding(0) var<uniform> stage: StageParams;

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
struct Relax {
    phi: vec4<f32>,
    psi: vec4<f32>,
}

fn relax(b: vec4<f32>, tau: f32) -> Relax {
    let x = b * tau;
    let small = x < vec4<f32>(0.1);
    let phi_s = tau * (1.0 - x * (0.5 - x * (1.0 / 6.0 - x * (1.0 / 24.0 - x * (1.0 / 120.0 - x / 720.0)))));
    let psi_s = tau * tau * (0.5 - x * (1.0 / 6.0 - x * (1.0 / 24.0 - x * (1.0 / 120.0 - x * (1.0 / 720.0 - x / 5040.0)))));
    let bb = select(b, vec4<f32>(1.0), small);
    let phi_l = (1.0 - exp(-x)) / bb;
    let psi_l = (tau - phi_l) / bb;
    var r: Relax;
    r.phi = select(phi_l, phi_s, small);
    r.psi = select(psi_l, psi_s, small);
    return r;
}

// Per mL of interstitial fluid: the ledger counts each term times ε and the voxel volume.
struct Reacted {
    c: vec4<f32>,
    integral: vec4<f32>,    // ∫c dt over the sub-step, ng·s/mL
    secreted: vec4<f32>,    // ng/mL secreted within the sub-step (stiff lanes only)
    degraded: vec4<f32>,    // ng/mL
    uptake: vec4<f32>,      // ng/mL
    capillary: vec4<f32>,   // tissue -> plasma, ng/mL
}

// One reaction sub-step of length tau at a tissue voxel, four species at once:
//   dc/dt = P m_P (C_p - c) - k c - m_U V c / (K + c) + S_stiff
// solved exactly for the linear part with the Michaelis–Menten coefficient lagged
// (predictor at c0, corrector at the midpoint), so every step is unconditionally stable and
// c stays non-negative. The ledger terms add up exactly to c0 - c.
// Where secretion goes: a lane whose loss rate at c → 0 (k + P m_P + m_U V/K) times the
// half-step exceeds 1 takes its secretion in the reaction half-steps, which relax c exactly
// towards the local equilibrium S/b; the others take it in the diffusion stages, where a
// steady source profile is an exact fixed point. (Put in the diffusion stages, a source whose
// species is consumed within a fraction of the step would be eaten by the next half-step
// before it is ever seen.)
fn stiff_source(sp: SpeciesPack, lp: LabelParams, tau: f32, terms: u32) -> vec4<bool> {
    let zero = vec4<f32>(0.0);
    let b = select(zero, sp.decay, (terms & TERM_DECAY) != 0u)
        + select(zero, sp.permeability * lp.m_perfusion, (terms & TERM_EXCHANGE) != 0u)
        + select(zero, sp.vmax * lp.m_uptake / sp.km, (terms & TERM_UPTAKE) != 0u);
    return b * tau > vec4<f32>(1.0);
}

fn react(c0: vec4<f32>, tau: f32, sp: SpeciesPack, lp: LabelParams, cp: vec4<f32>, source: vec4<f32>, terms: u32) -> Reacted {
    let zero = vec4<f32>(0.0);
    let k = select(zero, sp.decay, (terms & TERM_DECAY) != 0u);
    let pex = select(zero, sp.permeability * lp.m_perfusion, (terms & TERM_EXCHANGE) != 0u);
    let vu = select(zero, sp.vmax * lp.m_uptake, (terms & TERM_UPTAKE) != 0u);
    let a = pex * cp + source;
    let has_uptake = vu > zero;
    var u = select(zero, vu / (sp.km + max(c0, zero)), has_uptake);
    var b = k + pex + u;
    var r = relax(b, tau);
    if (any(has_uptake)) {
        // Corrector: the uptake coefficient at the midpoint of the predicted step.
        let c1 = c0 - b * c0 * r.phi + a * r.phi;
        u = select(zero, vu / (sp.km + max(0.5 * (c0 + c1), zero)), has_uptake);
        b = k + pex + u;
        r = relax(b, tau);
    }
    let integral = c0 * r.phi + a * r.psi;
    var out: Reacted;
    out.c = c0 - b * c0 * r.phi + a * r.phi;
    out.integral = integral;
    out.secreted = source * tau;
    out.degraded = k * integral;
    out.uptake = u * integral;
    out.capillary = pex * (integral - cp * tau);
    return out;
}

// Pipeline specialisation: the reaction kernels accumulate the exposure readouts only when the
// simulator is built with them (the buffer is a stub otherwise).
override EXPOSURE: bool = false;

// Time within a reaction sub-step of length tau that c spends above e, for c going
// monotonically from c0 to c1 (the sub-step relaxes towards a fixed equilibrium); a crossing
// is placed by linear interpolation.
fn time_above(c0: vec4<f32>, c1: vec4<f32>, e: vec4<f32>, tau: f32) -> vec4<f32> {
    let a0 = c0 > e;
    let a1 = c1 > e;
    let d = select(c0 - c1, vec4<f32>(1.0), c0 == c1);
    let crossing = select((c1 - e) / -d, (c0 - e) / d, a0) * tau;
    return select(select(vec4<f32>(0.0), crossing, a0 != a1), vec4<f32>(tau), a0 & a1);
}

const EXPOSURE_ENTRIES: u32 = 3u;

// Receptor occupancy c/(c + K_d) integrated over a reaction sub-step of length tau whose
// ∫c dt is `integral`, at the sub-step's mean concentration (s).
fn occupancy_integral(integral: vec4<f32>, tau: f32, kd: vec4<f32>) -> vec4<f32> {
    let c = max(integral / tau, vec4<f32>(0.0));
    return tau * c / (c + kd);
}

// Adds sub-steps' exposure (AUC, time above EC50, occupancy integral) at field index fi.
fn expose(fi: u32, auc: vec4<f32>, above: vec4<f32>, occupancy: vec4<f32>) {
    let e = EXPOSURE_ENTRIES * fi;
    exposure[e] += auc;
    exposure[e + 1u] += above;
    exposure[e + 2u] += occupancy;
}

// The plasma of this step as the tissue sees it (MODEL.md §4: the same step's plasma, not the
// last step's), ng/mL: which = PC_STEP_MEAN for the diffusion stages' blood faces,
// PC_LEAD / PC_TRAIL for the reaction half-steps,
// PC_NEXT for the next step's leading half-step fused into this step's last stage.
const PLASMA_ENTRIES: u32 = 6u;
const PC_NOW: u32 = 0u;
const PC_STEP_MEAN: u32 = 1u;
const PC_STEP_END: u32 = 2u;
const PC_LEAD: u32 = 3u;
const PC_TRAIL: u32 = 4u;
const PC_NEXT: u32 = 5u;

fn plasma(k: u32, which: u32) -> vec4<f32> {
    return compartments[k * PLASMA_ENTRIES + which];
}

// Scale of source group d: 1 for the fixed map (d = 0), the cells of depot d - 1 otherwise.
fn depot_scale(d: u32) -> f32 {
    return compartments[PLASMA_ENTRIES * slab.n_packs + d / 4u][d % 4u];
}

// Secretion rate (ng/mL/s) of pack k at a voxel word of brick b, zero when sources are
// switched off. The voxel's slot (from the brick's source_base) points at its first source
// entry; an entry is a header vec4 (x = source group, y = the voxel's entry count, both small
// integers held exactly as f32) followed by one rate vec4 per pack (ng/mL/s per unit of the
// group's scale).
fn source_rate(b: u32, word: u32, k: u32, terms: u32) -> vec4<f32> {
    let slot = word >> SLOT_SHIFT;
    if (slot == 0u || (terms & TERM_SOURCES) == 0u) {
        return vec4<f32>(0.0);
    }
    let stride = slab.n_packs + 1u;
    let first = bricks[b].source_base + slot - 1u;
    let count = u32(sources[first * stride].y);
    var rate = vec4<f32>(0.0);
    for (var e = first; e < first + count; e = e + 1u) {
        let group = u32(sources[e * stride].x);
        rate += depot_scale(group) * sources[e * stride + 1u + k];
    }
    return rate;
}

// The own bricks workgroup g walks: an equal run of consecutive bricks (neighbours in x are
// then next to each other in memory), as [first, end).
fn brick_run(g: u32) -> vec2<u32> {
    return slab.first_brick + unit_run(g, slab.n_bricks);
}

// Workgroup g's equal run of `units` work units, as [first, end) counted from 0.
fn unit_run(g: u32, units: u32) -> vec2<u32> {
    let per = (units + slab.groups - 1u) / slab.groups;
    let first = min(g * per, units);
    return vec2<u32>(first, min(first + per, units));
}

// The first ledger slot of a workgroup (wg.x: which of the slab's `groups`; wg.y: the pack).
// With subgroup operations each subgroup of the 64 invocations owns one of the workgroup's
// slab.sub_slots slots (64 / the adapter's smallest subgroup), so `reduce_into_ledger`
// (ledger_reduce_*.wgsl) needs no workgroup barrier; the workgroup tree reduction uses one slot.
fn ledger_slot(wg: vec3<u32>) -> u32 {
    return (slab.slot_offset + wg.x) * slab.sub_slots;
}

// Compensated (Kahan) accumulation of v into ledger entry (slot, pack, term).
fn ledger_add(slot: u32, k: u32, term: u32, v: vec4<f32>) {
    let i = ((slot * slab.n_packs + k) * LEDGER_TERMS + term) * 2u;
    let sum = ledger[i];
    let y = v - ledger[i + 1u];
    let t = sum + y;
    ledger[i + 1u] = (t - sum) - y;
    ledger[i] = t;
}

// Adds a stage's five terms, summed over the invocations of a workgroup (or of a subgroup), to
// ledger slot `slot`: they come as amounts per mL of voxel (ε c, ng/mL) and go in as ng.
fn ledger_add_terms(slot: u32, k: u32, secreted: vec4<f32>, degraded: vec4<f32>, uptake: vec4<f32>,
                    capillary: vec4<f32>, blood: vec4<f32>) {
    let vol = slab.voxel_ml;
    ledger_add(slot, k, L_SECRETED, secreted * vol);
    ledger_add(slot, k, L_DEGRADED, degraded * vol);
    ledger_add(slot, k, L_UPTAKE, uptake * vol);
    ledger_add(slot, k, L_CAPILLARY, capillary * vol);
    ledger_add(slot, k, L_BLOOD, blood * vol);
}
