// reduce.wgsl — sums the per-workgroup ledger slots into one entry per (species, term).
//
// The ledger holds, for every slot, species and term, a Kahan pair (sum, compensation) whose
// true value is sum - compensation. Workgroup w reduces entry w = species * LEDGER_TERMS + term
// over all slots and writes (Σ sum, Σ compensation); the host subtracts them in f64.

struct ReduceInfo {
    slots: u32,
    entries: u32,   // n_species * LEDGER_TERMS
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> slots: array<f32>;
@group(0) @binding(1) var<storage, read_write> totals: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> info: ReduceInfo;

var<workgroup> part: array<vec2<f32>, 256>;

@compute @workgroup_size(256, 1, 1)
fn reduce_ledger(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let entry = wg.x;
    // Kahan sums of the slot values and of their compensations, strided over slots.
    var hi = vec2<f32>(0.0);
    var lo = vec2<f32>(0.0);
    for (var slot = li; slot < info.slots; slot = slot + 256u) {
        let i = (slot * info.entries + entry) * 2u;
        let v = vec2<f32>(slots[i], slots[i + 1u]);
        let y = v - lo;
        let t = hi + y;
        lo = (t - hi) - y;
        hi = t;
    }
    part[li] = hi - lo;
    workgroupBarrier();
    for (var off = 128u; off > 0u; off = off >> 1u) {
        if (li < off) {
            part[li] = part[li] + part[li + off];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        totals[entry] = part[0];
    }
}
