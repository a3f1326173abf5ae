//! #import common
//! #import workgroup_sum
// ledger_reduce_tree.wgsl — the grid kernels' ledger reduction on devices without subgroup
// operations, imported as `ledger_reduce` in place of ledger_reduce_subgroup.wgsl: a workgroup
// tree reduction in shared memory; invocation 0 adds the sums to the workgroup's first slot.

// The builtins a grid kernel reads (1-D workgroups of 64 invocations).
struct Invocation {
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
}

// workgroup_sum.wgsl's shape: the five terms of 64 invocations.
const SUM_LANES: u32 = 64u;
const SUM_ROWS: u32 = 5u;

// Must be called in uniform control flow by the whole workgroup.
fn reduce_into_ledger(inv: Invocation, slot: u32, k: u32, secreted: vec4<f32>, degraded: vec4<f32>,
                      uptake: vec4<f32>, capillary: vec4<f32>, blood: vec4<f32>) {
    let li = inv.li;
    sums[li] = secreted;
    sums[SUM_LANES + li] = degraded;
    sums[2u * SUM_LANES + li] = uptake;
    sums[3u * SUM_LANES + li] = capillary;
    sums[4u * SUM_LANES + li] = blood;
    workgroup_sum(li);
    if (li == 0u) {
        ledger_add_terms(slot, k, sums[0], sums[SUM_LANES], sums[2u * SUM_LANES],
                         sums[3u * SUM_LANES], sums[4u * SUM_LANES]);
    }
}
