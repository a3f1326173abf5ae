//! #import common
// ledger_reduce_subgroup.wgsl — the grid kernels' ledger reduction on devices with subgroup
// operations (wgpu's SUBGROUP feature), imported as `ledger_reduce`. Each subgroup sums its
// invocations' contributions with subgroupAdd, and its first invocation adds them to the
// subgroup's own ledger slot. There is no workgroup barrier: llvmpipe compiles a kernel with
// one as a coroutine, which cost 8-12 % of a diffusion stage and most of its compile time
// (README, Benchmark). ledger_reduce_tree.wgsl is the same function for other devices.

// The builtins a grid kernel reads (1-D workgroups of 64 invocations: naga accepts
// `subgroup_id` only there).
struct Invocation {
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(subgroup_id) sub: u32,
    @builtin(subgroup_invocation_id) lane: u32,
}

// Must be called in uniform control flow by the whole workgroup.
fn reduce_into_ledger(inv: Invocation, slot: u32, k: u32, secreted: vec4<f32>, degraded: vec4<f32>,
                      uptake: vec4<f32>, capillary: vec4<f32>, blood: vec4<f32>) {
    let s = subgroupAdd(secreted);
    let d = subgroupAdd(degraded);
    let u = subgroupAdd(uptake);
    let c = subgroupAdd(capillary);
    let b = subgroupAdd(blood);
    if (inv.lane == 0u) {
        ledger_add_terms(slot + inv.sub, k, s, d, u, c, b);
    }
}
