//! #import workgroup_sum
// reduce.wgsl — sums the per-workgroup ledger slots into one entry per (pack, term).
//
// The ledger holds, for every slot, pack of four species and term, a Kahan pair
// (sum, compensation) of vec4 whose true value is sum - compensation. Workgroup w reduces
// entry w = pack * LEDGER_TERMS + term over all slots and writes (Σ sum, Σ compensation);
// the host subtracts them in f64.

struct ReduceInfo {
    slots: u32,
    entries: u32,   // n_packs * LEDGER_TERMS
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> slots: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> totals: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> info: ReduceInfo;

// workgroup_sum.wgsl's shape: row 0 the slot sums, row 1 their compensations.
const SUM_LANES: u32 = 256u;
const SUM_ROWS: u32 = 2u;

@compute @workgroup_size(256, 1, 1)
fn reduce_ledger(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let entry = wg.x;
    // Kahan sums of the slot sums and of their compensations, strided over slots.
    var sum = vec4<f32>(0.0);
    var sum_c = vec4<f32>(0.0);
    var comp = vec4<f32>(0.0);
    var comp_c = vec4<f32>(0.0);
    for (var slot = li; slot < info.slots; slot = slot + 256u) {
        let i = (slot * info.entries + entry) * 2u;
        let y = slots[i] - sum_c;
        let t = sum + y;
        sum_c = (t - sum) - y;
        sum = t;
        let y2 = slots[i + 1u] - comp_c;
        let t2 = comp + y2;
        comp_c = (t2 - comp) - y2;
        comp = t2;
    }
    sums[li] = sum - sum_c;
    sums[SUM_LANES + li] = comp - comp_c;
    workgroup_sum(li);
    if (li == 0u) {
        totals[entry * 2u] = sums[0];
        totals[entry * 2u + 1u] = sums[SUM_LANES];
    }
}
