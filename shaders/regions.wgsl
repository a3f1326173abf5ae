//! #import common
// regions.wgsl — the regional readouts of MODEL.md §5, reduced on the GPU: for every label and
// every AHA segment, and every species, Σc, max c, Σ AUC, Σ time above EC50, the number of
// voxels above EC50, Σ receptor occupancy c/(c + K_d) and Σ its time integral (the host divides
// by the region's voxel count).
//
// Regions: r = label (0..7), then r = 8 + s for AHA segment s = 1..17 (segment 0 = none).
// Only tissue voxels are stored: the host adds the blood voxels, which all hold the plasma.
// `region_stats` runs on the grid kernels' dispatch (workgroups walking the bricks, one pack per
// workgroup y). Each invocation walks its voxel of every brick keeping a running total for the
// region it is in (label and segment separately) and flushes it only when the region changes, into
// workgroup atomics; the workgroup then adds its totals into one of BUCKETS global copies
// (spreading the contention), and `region_totals` sums the buckets. f32 sums are atomic
// compare-and-swap loops on the bit pattern; max c is atomicMax on the bit pattern, which orders
// non-negative floats correctly (NaN sorts above every number, so it shows).

const REGIONS: u32 = 26u;
// 0 Σc, 1 max c, 2 Σ AUC, 3 Σ time above, 4 count above (u32), 5 Σ occupancy, 6 Σ its integral
const STATS: u32 = 7u;
const ENTRY: u32 = 28u;       // STATS × 4 lanes
const BUCKETS: u32 = 128u;
const NO_REGION: u32 = 0xffffffffu;

// AHA segment per voxel, four voxels per word (byte i % 4 of word i / 4), slab-local index as
// the voxel words; a 16-byte stub (all none) when the problem has no segments.
@group(0) @binding(9) var<storage, read> segments: array<u32>;
// BUCKETS × n_packs × REGIONS × ENTRY partial totals.
@group(0) @binding(7) var<storage, read_write> buckets: array<atomic<u32>>;
// n_packs × REGIONS × ENTRY totals (f32 bits, count as u32).
@group(0) @binding(8) var<storage, read_write> totals: array<u32>;

var<workgroup> acc: array<atomic<u32>, 728>;   // REGIONS × ENTRY

// Workgroup running totals of one region run: Σc, max c, Σ AUC, Σ time above, count above,
// Σ occupancy, Σ occupancy integral.
struct Run {
    region: u32,
    sum: vec4<f32>,
    max_c: vec4<f32>,
    auc: vec4<f32>,
    above: vec4<f32>,
    count: vec4<f32>,
    occupancy: vec4<f32>,
    occupied: vec4<f32>,
}

fn empty_run(region: u32) -> Run {
    let z = vec4<f32>(0.0);
    return Run(region, z, z, z, z, z, z, z);
}

fn add_acc(i: u32, v: f32) {
    if (v == 0.0) {
        return;
    }
    var old = atomicLoad(&acc[i]);
    loop {
        let r = atomicCompareExchangeWeak(&acc[i], old, bitcast<u32>(bitcast<f32>(old) + v));
        if (r.exchanged) {
            break;
        }
        old = r.old_value;
    }
}

fn add_bucket(i: u32, v: f32) {
    var old = atomicLoad(&buckets[i]);
    loop {
        let r = atomicCompareExchangeWeak(&buckets[i], old, bitcast<u32>(bitcast<f32>(old) + v));
        if (r.exchanged) {
            break;
        }
        old = r.old_value;
    }
}

fn flush(run: Run) {
    if (run.region == NO_REGION) {
        return;
    }
    let base = run.region * ENTRY;
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
        add_acc(base + lane, run.sum[lane]);
        atomicMax(&acc[base + 4u + lane], bitcast<u32>(max(run.max_c[lane], 0.0)));
        add_acc(base + 8u + lane, run.auc[lane]);
        add_acc(base + 12u + lane, run.above[lane]);
        atomicAdd(&acc[base + 16u + lane], u32(run.count[lane]));
        add_acc(base + 20u + lane, run.occupancy[lane]);
        add_acc(base + 24u + lane, run.occupied[lane]);
    }
}

// One voxel's values: c, its exposure (AUC, time above, occupancy integral), whether it is
// above EC50, and its occupancy now.
struct Sample {
    c: vec4<f32>,
    auc: vec4<f32>,
    above: vec4<f32>,
    over: vec4<f32>,
    occupancy: vec4<f32>,
    occupied: vec4<f32>,
}

fn take(run: ptr<function, Run>, v: Sample) {
    (*run).sum += v.c;
    (*run).max_c = max((*run).max_c, v.c);
    (*run).auc += v.auc;
    (*run).above += v.above;
    (*run).count += v.over;
    (*run).occupancy += v.occupancy;
    (*run).occupied += v.occupied;
}

@compute @workgroup_size(64, 1, 1)
fn region_stats(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let k = wg.y;
    for (var i = li; i < REGIONS * ENTRY; i = i + 64u) {
        atomicStore(&acc[i], 0u);
    }
    workgroupBarrier();
    let e = species[k].ec50;
    let kd = species[k].kd;
    var by_label = empty_run(NO_REGION);
    var by_segment = empty_run(NO_REGION);
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
        var v: Sample;
        v.c = src[fi];
        v.auc = vec4<f32>(0.0);
        v.above = vec4<f32>(0.0);
        v.occupied = vec4<f32>(0.0);
        if (EXPOSURE) {
            let x = EXPOSURE_ENTRIES * fi;
            v.auc = exposure[x];
            v.above = exposure[x + 1u];
            v.occupied = exposure[x + 2u];
        }
        v.over = select(vec4<f32>(0.0), vec4<f32>(1.0), v.c > e);
        let cc = max(v.c, vec4<f32>(0.0));
        v.occupancy = cc / (cc + kd);
        if (label != by_label.region) {
            flush(by_label);
            by_label = empty_run(label);
        }
        take(&by_label, v);
        let region = select(NO_REGION, 8u + seg, seg > 0u && seg < 18u);
        if (region != by_segment.region) {
            flush(by_segment);
            by_segment = empty_run(region);
        }
        if (region != NO_REGION) {
            take(&by_segment, v);
        }
    }
    flush(by_label);
    flush(by_segment);
    workgroupBarrier();
    let bucket = (ledger_slot(wg) / slab.sub_slots) % BUCKETS;
    for (var i = li; i < REGIONS * ENTRY; i = i + 64u) {
        let v = atomicLoad(&acc[i]);
        if (v == 0u) {
            continue;
        }
        let g = (bucket * slab.n_packs + k) * REGIONS * ENTRY + i;
        let stat = (i % ENTRY) / 4u;
        if (stat == 1u) {
            atomicMax(&buckets[g], v);
        } else if (stat == 4u) {
            atomicAdd(&buckets[g], v);
        } else {
            add_bucket(g, bitcast<f32>(v));
        }
    }
}

// One invocation per total entry: combines the BUCKETS partial copies.
@compute @workgroup_size(64, 1, 1)
fn region_totals(@builtin(global_invocation_id) gid: vec3<u32>) {
    let entries = slab.n_packs * REGIONS * ENTRY;
    let i = gid.x;
    if (i >= entries) {
        return;
    }
    let stat = (i % ENTRY) / 4u;
    var sum = 0.0;
    var comp = 0.0;
    var bits = 0u;
    for (var b = 0u; b < BUCKETS; b = b + 1u) {
        let v = atomicLoad(&buckets[b * entries + i]);
        if (stat == 1u) {
            bits = max(bits, v);
        } else if (stat == 4u) {
            bits += v;
        } else {
            // Kahan summation of the bucket totals.
            let yv = bitcast<f32>(v) - comp;
            let t = sum + yv;
            comp = (t - sum) - yv;
            sum = t;
        }
    }
    if (stat == 1u || stat == 4u) {
        totals[i] = bits;
    } else {
        totals[i] = bitcast<u32>(sum);
    }
}
