//! #import common
//! #import column
//! #import workgroup_sum
// mass.wgsl — amount of each species present in tissue voxels (ng = Σ ε c · voxel volume),
// reduced per workgroup into the ledger's L_AMOUNT entry (overwritten, not accumulated).

// workgroup_sum.wgsl's shape: one vec4 from each of the 8 × 8 invocations.
const SUM_LANES: u32 = 64u;
const SUM_ROWS: u32 = 1u;

@compute @workgroup_size(8, 8, 1)
fn tissue_amount(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let col = column(wg, li);
    var sum = vec4<f32>(0.0);
    if (col.inside) {
        for (var p = col.p_begin; p < col.p_end; p = p + 1u) {
            let word = voxels[voxel_index(p, col.y, col.x)];
            let lp = labels.entries[word & LABEL_MASK];
            if (lp.kind == KIND_TISSUE) {
                sum += lp.volume_fraction * dst[field_index(p, col.k, col.y, col.x)];
            }
        }
    }
    sums[li] = sum;
    workgroup_sum(li);
    if (li == 0u) {
        let i = ((ledger_slot(wg, col.chunk) * slab.n_packs + col.k) * LEDGER_TERMS + L_AMOUNT) * 2u;
        ledger[i] = sums[0] * slab.voxel_ml;
        ledger[i + 1u] = vec4<f32>(0.0);
    }
}
