//! #import common
//! #import workgroup_sum
// mass.wgsl — amount of each species present in tissue voxels (ng = Σ ε c · voxel volume),
// reduced per workgroup into the ledger's L_AMOUNT entry (overwritten, not accumulated). The
// workgroups walk the bricks as the stages do.

// workgroup_sum.wgsl's shape: one vec4 from each of the 64 invocations.
const SUM_LANES: u32 = 64u;
const SUM_ROWS: u32 = 1u;

@compute @workgroup_size(64, 1, 1)
fn tissue_amount(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let k = wg.y;
    var sum = vec4<f32>(0.0);
    let run = brick_run(wg.x);
    for (var b = run.x; b < run.y; b = b + 1u) {
        if (in_mask(bricks[b].mask_lo, bricks[b].mask_hi, li)) {
            let i = stored_index(b, li);
            let lp = labels.entries[voxels[i] & LABEL_MASK];
            sum += lp.volume_fraction * dst[i * slab.n_packs + k];
        }
    }
    sums[li] = sum;
    workgroup_sum(li);
    if (li == 0u) {
        let i = ((ledger_slot(wg) * slab.n_packs + k) * LEDGER_TERMS + L_AMOUNT) * 2u;
        ledger[i] = sums[0] * slab.voxel_ml;
        ledger[i + 1u] = vec4<f32>(0.0);
    }
}
