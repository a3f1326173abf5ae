//! #import common
// ledger_reduce_tree.wgsl — the grid kernels' ledger reduction on devices without subgroup
// operations, imported as `ledger_reduce` in place of ledger_reduce_subgroup.wgsl: a workgroup
// tree reduction in shared memory; invocation 0 adds the sums to the workgroup's first slot.

// The builtins a grid kernel reads (1-D workgroups of 64 invocations).
struct Invocation {
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
}

var<workgroup> red_secreted: array<vec4<f32>, 64>;
var<workgroup> red_degraded: array<vec4<f32>, 64>;
var<workgroup> red_uptake: array<vec4<f32>, 64>;
var<workgroup> red_capillary: array<vec4<f32>, 64>;
var<workgroup> red_blood: array<vec4<f32>, 64>;

// Must be called in uniform control flow by the whole workgroup.
fn reduce_into_ledger(inv: Invocation, slot: u32, k: u32, secreted: vec4<f32>, degraded: vec4<f32>,
                      uptake: vec4<f32>, capillary: vec4<f32>, blood: vec4<f32>) {
    let li = inv.li;
    red_secreted[li] = secreted;
    red_degraded[li] = degraded;
    red_uptake[li] = uptake;
    red_capillary[li] = capillary;
    red_blood[li] = blood;
    workgroupBarrier();
    for (var off = 32u; off > 0u; off = off >> 1u) {
        if (li < off) {
            red_secreted[li] += red_secreted[li + off];
            red_degraded[li] += red_degraded[li + off];
            red_uptake[li] += red_uptake[li + off];
            red_capillary[li] += red_capillary[li + off];
            red_blood[li] += red_blood[li + off];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        let vol = slab.voxel_ml;
        ledger_add(slot, k, L_SECRETED, red_secreted[0] * vol);
        ledger_add(slot, k, L_DEGRADED, red_degraded[0] * vol);
        ledger_add(slot, k, L_UPTAKE, red_uptake[0] * vol);
        ledger_add(slot, k, L_CAPILLARY, red_capillary[0] * vol);
        ledger_add(slot, k, L_BLOOD, red_blood[0] * vol);
    }
}
