//! #import common
//! #import ledger_reduce
// diffuse.wgsl — one stage of the RKL1 super-time-stepping scheme for diffusion and secretion
// (Meyer, Balsara & Aslam 2014), optionally ending with the trailing reaction half-step.
//
//   Y_j = mu_j Y_{j-1} + nu_j Y_{j-2} + mu~_j dt F(Y_{j-1}),   mu_j = 1 − nu_j
//   F(c)_v = (1/(ε_v h²)) Σ_faces D_s · hm(ε m_D(v), ε m_D(n)) · (c_n - c_v) + S_v   [ng/mL/s]
//
// c is per mL of interstitial fluid and diffusion moves through the interstitium: a face
// conducts the harmonic mean hm of its two voxels' ε·m_D, and what crosses it changes c over the
// receiving voxel's own fraction ε_v, so the amount ε c ΔV is conserved across labels. A face
// towards `outside` (or the grid edge) carries no flux; a face towards a blood voxel sees
// c_n = C_p (plasma). The
// flux through blood faces is the heart's exchange with the blood pools, and S_v the secretion
// from the source map; each stage adds its share (beta_j dt) of both to the ledger, so the
// step's totals are exact. Keeping S inside F makes the discrete steady state of a source an
// exact fixed point of the scheme whatever dt is.
//
// Y_{j-2} lives in `dst` and is overwritten in place by Y_j (each invocation reads and writes
// only its own voxels there), so the scheme needs two field copies whatever the stage count.
//
// Invocation layout: a workgroup takes four bricks at a time (invocation li: brick li / 16,
// column li % 16 = x + 4 y of it) and walks its run of the slab's own bricks (`brick_run`)
// four by four; wg.y is the pack. Each invocation walks its column's four voxels up z
// with a sliding window, so the voxels above and below come from the previous iteration, and
// looks up the bricks its column touches (across its x face, its y face, below and above)
// once per column. Loads whose value a face code then discards may use an index past the
// data (a missing brick, a voxel that is not tissue): WebGPU keeps such reads inside the
// buffer.

// Pipeline specialisation: the simulator builds this kernel twice, with and without the
// reaction tail, so that the plain stages (most of them) are compiled without its registers.
override REACT_STAGE: bool = true;

// Bricks a workgroup takes at a time, 16 invocations each.
const GROUP_BRICKS: u32 = 4u;

// The slot of the brick across face f of brick b: from the table, or (every brick stored) by
// the slot strides.
fn next_brick(b: u32, f: u32) -> u32 {
    if (ALL_FULL) {
        let stride = select(select(slab.bricks_xy, slab.bricks_x, f < 4u), 1u, f < 2u);
        return select(b - stride, b + stride, (f & 1u) != 0u);
    }
    return bricks[b].neighbours[f];
}

// `t` where `c`, else `f` (WGSL's select takes no structs).
fn pick(f: Head, t: Head, c: bool) -> Head {
    return Head(select(f.base, t.base, c), select(f.lo, t.lo, c), select(f.hi, t.hi, c),
                select(f.planes, t.planes, c));
}

// What one face adds, for a voxel whose neighbours need their labels: its flux
// hm(ε m_D, ε' m_D') · (c_n - c) (per unit tissue volume, not yet over ε), and the part of it
// that crosses a blood face. c_n is the stored value across (read whatever the face's code; a
// blood face takes the plasma instead, a closed face adds nothing), j its stored index.
struct Neighbour {
    flux: vec4<f32>,
    blood: vec4<f32>,
}

fn neighbour(g_self: f32, c: vec4<f32>, code: u32, j: u32, c_n: vec4<f32>, cp: vec4<f32>) -> Neighbour {
    var n: Neighbour;
    n.flux = vec4<f32>(0.0);
    n.blood = vec4<f32>(0.0);
    if (code == FACE_CLOSED) {
        return n;
    }
    if (code != FACE_TISSUE) {
        let g = harmonic(g_self, labels.entries[code - 1u].conductance);
        n.flux = g * (cp - c);
        n.blood = n.flux;
        return n;
    }
    let g = harmonic(g_self, labels.entries[voxels[j] & LABEL_MASK].conductance);
    n.flux = g * (c_n - c);
    return n;
}

fn face(word: u32, f: u32) -> u32 {
    return (word >> (FACE_SHIFT + 2u * f)) & 3u;
}

@compute @workgroup_size(64, 1, 1)
fn diffuse_stage(inv: Invocation) {
    let k = inv.wg.y;
    let col = inv.li & 15u;
    let lx = col & 3u;
    let ly = col >> 2u;
    let zero = vec4<f32>(0.0);
    var secreted = zero;
    var degraded = zero;
    var uptake = zero;
    var capillary = zero;
    var blood_out = zero;
    let react_after = REACT_STAGE && (stage.flags & FLAG_REACT) != 0u;
    let sp = species[k];
    // Blood faces see the plasma's mean over the step, and the reaction half-steps the means
    // over their own halves.
    let cp = plasma(k, PC_STEP_MEAN);
    var cp_trail = zero;
    var cp_next = zero;
    if (react_after) {
        cp_trail = plasma(k, PC_TRAIL);
        cp_next = plasma(k, PC_NEXT);
    }
    let d_inv_h2 = select(zero, sp.diffusion * slab.inv_h2, (stage.terms & TERM_DIFFUSION) != 0u);
    let has_old = (stage.flags & FLAG_HAS_OLD) != 0u;
    let np = slab.n_packs;
    let q = inv.li >> 4u;
    // Work units: single bricks; in a grid of full bricks, whole columns of the slab's own
    // brick layers, walked up z with the window carried from brick to brick (as long a walk as
    // the dense box had).
    var layers = 1u;
    var units = slab.n_bricks;
    if (ALL_FULL) {
        layers = slab.n_bricks / slab.bricks_xy;
        units = slab.bricks_xy;
    }
    let run = unit_run(inv.wg.x, units);
    for (var u4 = run.x; u4 < run.y; u4 = u4 + GROUP_BRICKS) {
      let u = u4 + q;
      if (u >= run.y) {
          continue;
      }
      var j_below = 0u;
      var c_below = zero;
      var i = 0u;
      var c = zero;
      for (var layer = 0u; layer < layers; layer = layer + 1u) {
        let b = slab.first_brick + u + layer * slab.bricks_xy;
        let own = head(b);
        // The bricks across the column's x face (x = 0: x-, x = 3: x+) and y face, or its own
        // brick where the column touches no such face; below and above. A voxel's neighbour
        // in x or y is then voxel (column ± step, same plane) of one of two bricks.
        let xs = select(b, next_brick(b, select(1u, 0u, lx == 0u)), lx == 0u || lx == 3u);
        let ys = select(b, next_brick(b, select(3u, 2u, ly == 0u)), ly == 0u || ly == 3u);
        let xh = head(xs);
        let yh = head(ys);
        let above = head(next_brick(b, 5u));
        let h_xm = pick(xh, own, lx > 0u);
        let col_xm = select(col + 3u, col - 1u, lx > 0u);
        let h_xp = pick(xh, own, lx < 3u);
        let col_xp = select(col - 3u, col + 1u, lx < 3u);
        let h_ym = pick(yh, own, ly > 0u);
        let col_ym = select(col + 12u, col - 4u, ly > 0u);
        let h_yp = pick(yh, own, ly < 3u);
        let col_yp = select(col - 12u, col + 4u, ly < 3u);
        // Window: the voxel below the first (the top of the brick below), then each in turn.
        if (layer == 0u) {
            j_below = at(head(next_brick(b, 4u)), col, 3u);
            c_below = src[j_below * np + k];
            i = at(own, col, 0u);
            c = src[i * np + k];
        }
        for (var lz = 0u; lz < 4u; lz = lz + 1u) {
            let j_above = at(pick(above, own, lz < 3u), col, select(0u, lz + 1u, lz < 3u));
            let c_above = src[j_above * np + k];
            if (is_tissue(own, col, lz)) {
                let fi = i * np + k;
                let word = voxels[i];
                var old = zero;
                if (has_old) {
                    old = dst[fi];
                }
                // In-plane neighbours: in this brick, or across its x or y face.
                let j_xm = at(h_xm, col_xm, lz);
                let j_xp = at(h_xp, col_xp, lz);
                let j_ym = at(h_ym, col_ym, lz);
                let j_yp = at(h_yp, col_yp, lz);
                // Most voxels sit in uniform unit-m_D tissue: skip the label table unless the
                // reaction (which needs it) follows. (The stand-in's ε and ε·m_D are never
                // read: its voxels take the simple path, and sources read their own label.)
                var lp = LabelParams(1.0, 1.0, 1.0, KIND_TISSUE, 1.0, 1.0, 0.0, 0.0);
                if ((word & FLAG_UNIT) == 0u || react_after) {
                    lp = labels.entries[word & LABEL_MASK];
                }
                var flux = zero;
                var blood = zero;
                // The six values across (both paths below read them).
                let c_xm = src[j_xm * np + k];
                let c_xp = src[j_xp * np + k];
                let c_ym = src[j_ym * np + k];
                let c_yp = src[j_yp * np + k];
                if ((word & FLAG_SIMPLE) != 0u) {
                    // Every face is closed or opens onto tissue with this voxel's ε·m_D
                    // (hm / ε = m): no neighbour labels, no branches.
                    let t = FACE_TISSUE;
                    flux = lp.m_diffusion * (select(zero, c_xm - c, face(word, 0u) == t)
                        + select(zero, c_xp - c, face(word, 1u) == t)
                        + select(zero, c_ym - c, face(word, 2u) == t)
                        + select(zero, c_yp - c, face(word, 3u) == t)
                        + select(zero, c_below - c, face(word, 4u) == t)
                        + select(zero, c_above - c, face(word, 5u) == t));
                } else {
                    let g = lp.conductance;
                    let js = array<u32, 6>(j_xm, j_xp, j_ym, j_yp, j_below, j_above);
                    let cs = array<vec4<f32>, 6>(c_xm, c_xp, c_ym, c_yp, c_below, c_above);
                    for (var f = 0u; f < 6u; f = f + 1u) {
                        let n = neighbour(g, c, face(word, f), js[f], cs[f], cp);
                        flux += n.flux;
                        blood += n.blood;
                    }
                    flux = flux / lp.volume_fraction;
                }
                let rate = source_rate(b, word, k, stage.terms);
                // `lp` may be the unit stand-in here; stiffness and the amount secreted
                // (rate × ε) need the voxel's own label.
                var stiff = vec4<bool>(false);
                var eps_source = 0.0;
                if ((word >> SLOT_SHIFT) != 0u) {
                    let own_label = labels.entries[word & LABEL_MASK];
                    stiff = stiff_source(sp, own_label, stage.tau, stage.terms);
                    eps_source = own_label.volume_fraction;
                }
                let secretion = select(rate, zero, stiff);
                let source = select(zero, rate, stiff);
                // mu_j Y_{j-1} + nu_j Y_{j-2} written as Y_{j-1} + nu_j (Y_{j-2} − Y_{j-1})
                // (mu_j + nu_j = 1): the f32 weights' rounding then moves no mass.
                var y_new = c + stage.mu_tilde_dt * (d_inv_h2 * flux + secretion);
                if (has_old) {
                    y_new += stage.nu * (old - c);
                }
                blood_out -= stage.beta_dt * d_inv_h2 * blood;
                secreted += stage.beta_dt * secretion * eps_source;
                if (react_after) {
                    let r = react(y_new, stage.tau, sp, lp, cp_trail, source, stage.terms);
                    var auc = r.integral;
                    var above_ec50 = time_above(y_new, r.c, sp.ec50, stage.tau);
                    var occupied = occupancy_integral(r.integral, stage.tau, sp.kd);
                    y_new = r.c;
                    let eps = lp.volume_fraction;
                    secreted += eps * r.secreted;
                    degraded += eps * r.degraded;
                    uptake += eps * r.uptake;
                    capillary += eps * r.capillary;
                    if ((stage.flags & FLAG_REACT_TWICE) != 0u) {
                        // The next step's leading half-step, fused (same operations, same
                        // order as the separate pass, one memory pass fewer).
                        let r2 = react(y_new, stage.tau, sp, lp, cp_next, source, stage.terms);
                        auc += r2.integral;
                        above_ec50 += time_above(y_new, r2.c, sp.ec50, stage.tau);
                        occupied += occupancy_integral(r2.integral, stage.tau, sp.kd);
                        y_new = r2.c;
                        secreted += eps * r2.secreted;
                        degraded += eps * r2.degraded;
                        uptake += eps * r2.uptake;
                        capillary += eps * r2.capillary;
                    }
                    if (EXPOSURE) {
                        expose(fi, auc, above_ec50, occupied);
                    }
                }
                dst[fi] = y_new;
            }
            c_below = c;
            c = c_above;
            j_below = i;
            i = j_above;
        }
      }
    }
    reduce_into_ledger(inv, ledger_slot(inv.wg), k, secreted, degraded, uptake, capillary, blood_out);
}
