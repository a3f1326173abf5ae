// workgroup_sum.wgsl — the workgroup tree reduction in shared memory, written once for every
// kernel that sums over its workgroup (the ledger's tree variant, the mass, the ledger's reduce,
// the depot sampling).
//
// The importing file declares the shape:
//   const SUM_LANES: u32 = 64u;   // invocations of the workgroup, a power of two
//   const SUM_ROWS: u32 = 1u;     // vec4 quantities each invocation contributes
// Invocation li puts row r at sums[r * SUM_LANES + li] and calls `workgroup_sum(li)`; row r's
// total is then at sums[r * SUM_LANES]. Each level adds entry li + off into entry li
// (off = SUM_LANES / 2, ..., 1), all rows under one barrier per level.

var<workgroup> sums: array<vec4<f32>, SUM_ROWS * SUM_LANES>;

// Must be called in uniform control flow by the whole workgroup, after each invocation has
// written its own entries.
fn workgroup_sum(li: u32) {
    workgroupBarrier();
    for (var off = SUM_LANES / 2u; off > 0u; off = off >> 1u) {
        if (li < off) {
            for (var r = 0u; r < SUM_ROWS; r = r + 1u) {
                let i = r * SUM_LANES + li;
                sums[i] += sums[i + off];
            }
        }
        workgroupBarrier();
    }
}
