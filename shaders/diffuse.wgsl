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
// only its own voxel there), so the scheme needs two field copies whatever the stage count.
// Invocation layout: one brick at a time per workgroup (invocation li on local voxel li),
// workgroup wg.x walking the slab's own bricks wg.x, wg.x + groups, ... and wg.y the pack.

// Pipeline specialisation: the simulator builds this kernel twice, with and without the
// reaction tail, so that the plain stages (most of them) are compiled without its registers.
override REACT_STAGE: bool = true;

// What one open face adds: its flux hm · (c_n - c) (per unit tissue volume, not yet over ε),
// and the part of it that crosses a blood face.
struct Neighbour {
    flux: vec4<f32>,
    blood: vec4<f32>,
}

// Face f (code `code`, see common.wgsl) of the voxel at stored index i (local l of brick b):
// g_self is the voxel's ε·m_D.
fn neighbour(g_self: f32, c: vec4<f32>, code: u32, b: u32, l: u32, i: u32, f: u32, k: u32,
             cp: vec4<f32>) -> Neighbour {
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
    let j = across(b, l, i, f);
    let g = harmonic(g_self, labels.entries[voxels[j] & LABEL_MASK].conductance);
    n.flux = g * (src[j * slab.n_packs + k] - c);
    return n;
}

@compute @workgroup_size(64, 1, 1)
fn diffuse_stage(inv: Invocation) {
    let k = inv.wg.y;
    let l = inv.li;
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
    let end = slab.first_brick + slab.n_bricks;
    for (var b = slab.first_brick + inv.wg.x; b < end; b = b + slab.groups) {
        let lo = bricks[b].mask_lo;
        let hi = bricks[b].mask_hi;
        if (!in_mask(lo, hi, l)) {
            continue;
        }
        var i = bricks[b].base + l;
        if ((lo & hi) != 0xffffffffu) {
            i = bricks[b].base + rank_below(lo, hi, l);
        }
        let fi = i * np + k;
        let word = voxels[i];
        let c = src[fi];
        var old = zero;
        if (has_old) {
            old = dst[fi];
        }
        // Most voxels sit in uniform unit-m_D tissue: skip the label table unless the
        // reaction (which needs it) follows. (The stand-in's ε and ε·m_D are never read: its
        // voxels take the simple path, and sources read their own label.)
        var lp = LabelParams(1.0, 1.0, 1.0, KIND_TISSUE, 1.0, 1.0, 0.0, 0.0);
        if ((word & FLAG_UNIT) == 0u || react_after) {
            lp = labels.entries[word & LABEL_MASK];
        }
        var flux = zero;
        var blood = zero;
        if ((word & FLAG_SIMPLE) != 0u) {
            // Every face is closed or opens onto tissue with this voxel's ε·m_D (hm / ε = m):
            // no neighbour labels. A closed face adds nothing.
            var sum = zero;
            for (var f = 0u; f < 6u; f = f + 1u) {
                if (((word >> (FACE_SHIFT + 2u * f)) & 3u) == FACE_TISSUE) {
                    sum += src[across(b, l, i, f) * np + k] - c;
                }
            }
            flux = lp.m_diffusion * sum;
        } else {
            let g = lp.conductance;
            for (var f = 0u; f < 6u; f = f + 1u) {
                let n = neighbour(g, c, (word >> (FACE_SHIFT + 2u * f)) & 3u, b, l, i, f, k, cp);
                flux += n.flux;
                blood += n.blood;
            }
            flux = flux / lp.volume_fraction;
        }
        let rate = source_rate(b, word, k, stage.terms);
        // `lp` may be the unit stand-in here; stiffness and the amount secreted (rate × ε)
        // need the voxel's own label.
        var stiff = vec4<bool>(false);
        var eps_source = 0.0;
        if ((word >> SLOT_SHIFT) != 0u) {
            let own = labels.entries[word & LABEL_MASK];
            stiff = stiff_source(sp, own, stage.tau, stage.terms);
            eps_source = own.volume_fraction;
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
            var above = time_above(y_new, r.c, sp.ec50, stage.tau);
            var occupied = occupancy_integral(r.integral, stage.tau, sp.kd);
            y_new = r.c;
            let eps = lp.volume_fraction;
            secreted += eps * r.secreted;
            degraded += eps * r.degraded;
            uptake += eps * r.uptake;
            capillary += eps * r.capillary;
            if ((stage.flags & FLAG_REACT_TWICE) != 0u) {
                // The next step's leading half-step, fused (same operations, same order as
                // the separate pass, one memory pass fewer).
                let r2 = react(y_new, stage.tau, sp, lp, cp_next, source, stage.terms);
                auc += r2.integral;
                above += time_above(y_new, r2.c, sp.ec50, stage.tau);
                occupied += occupancy_integral(r2.integral, stage.tau, sp.kd);
                y_new = r2.c;
                secreted += eps * r2.secreted;
                degraded += eps * r2.degraded;
                uptake += eps * r2.uptake;
                capillary += eps * r2.capillary;
            }
            if (EXPOSURE) {
                expose(fi, auc, above, occupied);
            }
        }
        dst[fi] = y_new;
    }
    reduce_into_ledger(inv, ledger_slot(inv.wg), k, secreted, degraded, uptake, capillary, blood_out);
}
