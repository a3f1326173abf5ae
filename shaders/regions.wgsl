//! #import common
// regions.wgsl — the regional readouts of MODEL.md §5, reduced on the GPU: for every label and
// every AHA segment, and every species, Σc, max c, Σ AUC, Σ time above EC50, the number of
// voxels above EC50, Σ receptor occupancy c/(c + K_d) and Σ its time integral (the host divides
// by the region's voxel count).
//
// Regions: r = label (0..7), then r = 8 + s for AHA segment s = 1..17 (segment 0 = none).
// Only tissue voxels are stored: the host adds the blood voxels, which all hold the plasma.
//
// The sums are reproducible: the same fields give the same bits on any run of the same device,
// whatever order its invocations run in (no floating-point atomics). `region_stats` runs on the
// grid kernels' dispatch (workgroups walking the bricks, one pack per workgroup y). Each
// invocation adds its voxel of every brick into its own totals per region, then the workgroup
// combines its 64 invocations' totals of each region it touched by a fixed tree and writes them
// to its own slot (one per workgroup of every slab, the ledger's numbering). `region_totals`
// sums the slots in slot order.

// A refined problem (issue 17): each voxel weighs its volume in coarse voxels (`slab.weight`),
// and the count above EC50 becomes that weight summed as f32 (the host reads it so).
override WEIGHTED: bool = false;

const REGIONS: u32 = 26u;
// 0 Σc, 1 max c, 2 Σ AUC, 3 Σ time above, 4 count above, 5 Σ occupancy, 6 Σ its integral
const STATS: u32 = 7u;
const ENTRY: u32 = 28u;       // STATS × 4 lanes

// AHA segment per voxel, four voxels per word (byte i % 4 of word i / 4), slab-local index as
// the voxel words; a 16-byte stub (all none) when the problem has no segments.
@group(0) @binding(9) var<storage, read> segments: array<u32>;
// One slot per workgroup: workgroups × n_packs × REGIONS × ENTRY partial totals (f32 bits,
// count as u32). Every workgroup writes all of its slot, so it needs no clearing.
@group(0) @binding(7) var<storage, read_write> slots: array<u32>;
// n_packs × REGIONS × ENTRY totals (f32 bits, count as u32).
@group(0) @binding(8) var<storage, read_write> totals: array<u32>;

// The workgroup's tree: one row of STATS vec4 per invocation.
var<workgroup> tree: array<array<vec4<f32>, 7>, 64>;
var<workgroup> touched_any: atomic<u32>;
var<workgroup> touched_all: u32;

@compute @workgroup_size(64, 1, 1)
fn region_stats(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let k = wg.y;
    if (li == 0u) {
        atomicStore(&touched_any, 0u);
    }
    // No invocation may add its regions before the clearing: with more than one subgroup per
    // workgroup, another could otherwise finish its walk first.
    workgroupBarrier();
    let e = species[k].ec50;
    let kd = species[k].kd;
    // This invocation's totals: REGIONS × STATS.
    var part: array<vec4<f32>, 182>;
    var touched = 0u;
    let run = brick_run(wg.x);
    for (var b = run.x; b < run.y; b = b + 1u) {
        if (!in_mask(bricks[b].mask_lo, bricks[b].mask_hi, li)) {
            continue;
        }
        let vi = stored_index(b, li);
        let fi = vi * slab.n_packs + k;
        let label = voxels[vi] & LABEL_MASK;
        var seg = 0u;
        if (vi / 4u < arrayLength(&segments)) {
            seg = (segments[vi / 4u] >> (8u * (vi % 4u))) & 255u;
        }
        let c = src[fi];
        var auc = vec4<f32>(0.0);
        var above = vec4<f32>(0.0);
        var occupied = vec4<f32>(0.0);
        if (EXPOSURE) {
            let x = EXPOSURE_ENTRIES * fi;
            auc = exposure[x];
            above = exposure[x + 1u];
            occupied = exposure[x + 2u];
        }
        var over = select(vec4<f32>(0.0), vec4<f32>(1.0), c > e);
        let cc = max(c, vec4<f32>(0.0));
        var occupancy = cc / (cc + kd);
        var cw = c;
        if (WEIGHTED) {
            let w = slab.weight;
            cw = c * w;
            auc = auc * w;
            above = above * w;
            over = over * w;
            occupancy = occupancy * w;
            occupied = occupied * w;
        }
        var r = label;
        for (var twice = 0u; twice < 2u; twice = twice + 1u) {
            if (r < REGIONS) {
                touched |= 1u << r;
                let p = r * STATS;
                part[p] += cw;
                part[p + 1u] = max(part[p + 1u], cc);
                part[p + 2u] += auc;
                part[p + 3u] += above;
                part[p + 4u] += over;
                part[p + 5u] += occupancy;
                part[p + 6u] += occupied;
            }
            r = select(REGIONS, 8u + seg, seg > 0u && seg < 18u);
        }
    }
    atomicOr(&touched_any, touched);
    workgroupBarrier();
    if (li == 0u) {
        touched_all = atomicLoad(&touched_any);
    }
    let mask = workgroupUniformLoad(&touched_all);
    let out = ((slab.slot_offset + wg.x) * slab.n_packs + k) * REGIONS * ENTRY;
    for (var r = 0u; r < REGIONS; r = r + 1u) {
        if ((mask & (1u << r)) == 0u) {
            if (li < ENTRY) {
                slots[out + r * ENTRY + li] = 0u;
            }
            continue;
        }
        for (var s = 0u; s < STATS; s = s + 1u) {
            tree[li][s] = part[r * STATS + s];
        }
        workgroupBarrier();
        for (var half = 32u; half > 0u; half = half >> 1u) {
            if (li < half) {
                for (var s = 0u; s < STATS; s = s + 1u) {
                    if (s == 1u) {
                        tree[li][s] = max(tree[li][s], tree[li + half][s]);
                    } else {
                        tree[li][s] = tree[li][s] + tree[li + half][s];
                    }
                }
            }
            workgroupBarrier();
        }
        if (li < ENTRY) {
            let v = tree[0][li / 4u][li % 4u];
            slots[out + r * ENTRY + li] = select(bitcast<u32>(v), u32(v), li / 4u == 4u && !WEIGHTED);
        }
        workgroupBarrier();
    }
}

// One invocation per total entry: sums the workgroups' slots in slot order.
@compute @workgroup_size(64, 1, 1)
fn region_totals(@builtin(global_invocation_id) gid: vec3<u32>) {
    let entries = slab.n_packs * REGIONS * ENTRY;
    let i = gid.x;
    if (i >= entries) {
        return;
    }
    let stat = (i % ENTRY) / 4u;
    let n = arrayLength(&slots) / entries;
    var sum = 0.0;
    var comp = 0.0;
    var bits = 0u;
    for (var w = 0u; w < n; w = w + 1u) {
        let v = slots[w * entries + i];
        if (stat == 1u) {
            bits = max(bits, v);
        } else if (stat == 4u && !WEIGHTED) {
            bits += v;
        } else {
            // Kahan summation of the workgroups' totals.
            let yv = bitcast<f32>(v) - comp;
            let t = sum + yv;
            comp = (t - sum) - yv;
            sum = t;
        }
    }
    if (stat == 1u || (stat == 4u && !WEIGHTED)) {
        totals[i] = bits;
    } else {
        totals[i] = bitcast<u32>(sum);
    }
}
