//! #import common
//! #import column
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
// Invocation layout: `column` (column.wgsl), 8 × 8 columns per workgroup and workgroup
// z = pack * chunks + chunk; each invocation walks slab.z_chunk planes along z with a sliding
// window.

struct Neighbour {
    flux: vec4<f32>,   // hm · (c_n - c)
    blood: vec4<f32>,  // the part of flux that crosses a blood face
}

// g_self: this voxel's ε·m_D; flux and blood are amounts per unit tissue volume (not yet over ε).
fn neighbour(g_self: f32, c: vec4<f32>, word: u32, fi: u32, cp: vec4<f32>) -> Neighbour {
    var n: Neighbour;
    let lp = labels.entries[word & LABEL_MASK];
    if (lp.kind == KIND_OUTSIDE) {
        n.flux = vec4<f32>(0.0);
        n.blood = vec4<f32>(0.0);
        return n;
    }
    let g = harmonic(g_self, lp.conductance);
    if (lp.kind == KIND_BLOOD) {
        n.flux = g * (cp - c);
        n.blood = n.flux;
        return n;
    }
    n.flux = g * (src[fi] - c);
    n.blood = vec4<f32>(0.0);
    return n;
}

// Pipeline specialisation: the simulator builds this kernel twice, with and without the
// reaction tail, so that the plain stages (most of them) are compiled without its registers.
override REACT_STAGE: bool = true;

@compute @workgroup_size(64, 1, 1)
fn diffuse_stage(inv: Invocation) {
    let col = column(inv.wg, inv.li);
    let zero = vec4<f32>(0.0);
    var secreted = zero;
    var degraded = zero;
    var uptake = zero;
    var capillary = zero;
    var blood_out = zero;
    let react_after = REACT_STAGE && (stage.flags & FLAG_REACT) != 0u;
    if (col.inside) {
        let sp = species[col.k];
        // Blood faces see the plasma's mean over the step, blood voxels end at its end value,
        // and the reaction half-steps see the means over their own halves.
        let cp = plasma(col.k, PC_STEP_MEAN);
        let cp_end = plasma(col.k, PC_STEP_END);
        var cp_trail = zero;
        var cp_next = zero;
        if (react_after) {
            cp_trail = plasma(col.k, PC_TRAIL);
            cp_next = plasma(col.k, PC_NEXT);
        }
        let d_inv_h2 = select(zero, sp.diffusion * slab.inv_h2, (stage.terms & TERM_DIFFUSION) != 0u);
        let has_old = (stage.flags & FLAG_HAS_OLD) != 0u;
        let plane = slab.nx * slab.ny;
        let fplane = plane * slab.n_packs;
        // Sliding window along z: the values at p-1 and p come from the previous iteration,
        // and the loads of the next plane (c above it, its voxel word, its Y_{j-2}) are issued
        // before this plane's arithmetic, so a memory round trip overlaps each iteration
        // instead of stalling it.
        var fi = field_index(col.p_begin, col.k, col.y, col.x);
        var vi = voxel_index(col.p_begin, col.y, col.x);
        var c_below = src[fi - fplane];
        var c = src[fi];
        var c_above = src[fi + fplane];
        var word = voxels[vi];
        var old = zero;
        if (has_old) {
            old = dst[fi];
        }
        for (var p = col.p_begin; p < col.p_end; p = p + 1u) {
            var c_next = zero;
            var word_next = 0u;
            var old_next = zero;
            if (p + 1u < col.p_end) {
                c_next = src[fi + 2u * fplane];
                word_next = voxels[vi + plane];
                if (has_old) {
                    old_next = dst[fi + fplane];
                }
            }
            // Most voxels sit in uniform unit-m_D tissue: skip the label table unless the
            // reaction (which needs it) follows. (The stand-in's ε and ε·m_D are never read:
            // its voxels take the simple path, and sources read their own label.)
            var lp = LabelParams(1.0, 1.0, 1.0, KIND_TISSUE, 1.0, 1.0, 0.0, 0.0);
            if ((word & FLAG_UNIT) == 0u || react_after) {
                lp = labels.entries[word & LABEL_MASK];
            }
            var out = zero;
            if (lp.kind == KIND_TISSUE) {
                let m = lp.m_diffusion;
                var flux = zero;
                var blood = zero;
                if ((word & FLAG_SIMPLE) != 0u) {
                    // Every face is closed or opens onto tissue with this voxel's ε·m_D
                    // (hm / ε = m): no neighbour labels, no branches. Closed faces' loads stay
                    // inside the slab buffer and are masked out.
                    let closed = word >> FACE_SHIFT;
                    flux = m * (select(src[fi - 1u] - c, zero, (closed & 1u) != 0u)
                        + select(src[fi + 1u] - c, zero, (closed & 2u) != 0u)
                        + select(src[fi - slab.nx] - c, zero, (closed & 4u) != 0u)
                        + select(src[fi + slab.nx] - c, zero, (closed & 8u) != 0u)
                        + select(c_below - c, zero, (closed & 16u) != 0u)
                        + select(c_above - c, zero, (closed & 32u) != 0u));
                } else {
                    let g = lp.conductance;
                    if (col.x > 0u) {
                        let n = neighbour(g, c, voxels[vi - 1u], fi - 1u, cp);
                        flux += n.flux; blood += n.blood;
                    }
                    if (col.x + 1u < slab.nx) {
                        let n = neighbour(g, c, voxels[vi + 1u], fi + 1u, cp);
                        flux += n.flux; blood += n.blood;
                    }
                    if (col.y > 0u) {
                        let n = neighbour(g, c, voxels[vi - slab.nx], fi - slab.nx, cp);
                        flux += n.flux; blood += n.blood;
                    }
                    if (col.y + 1u < slab.ny) {
                        let n = neighbour(g, c, voxels[vi + slab.nx], fi + slab.nx, cp);
                        flux += n.flux; blood += n.blood;
                    }
                    let gz = slab.z0 + p - 1u;
                    if (gz > 0u) {
                        let n = neighbour(g, c, voxels[vi - plane], fi - fplane, cp);
                        flux += n.flux; blood += n.blood;
                    }
                    if (gz + 1u < slab.nz_total) {
                        let n = neighbour(g, c, voxels[vi + plane], fi + fplane, cp);
                        flux += n.flux; blood += n.blood;
                    }
                    flux = flux / lp.volume_fraction;
                }
                let rate = source_rate(word, col.k, stage.terms);
                // `lp` may be the unit stand-in here; stiffness and the amount secreted
                // (rate × ε) need the voxel's own label.
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
                        // The next step's leading half-step, fused (same operations, same
                        // order as the separate pass, one memory pass fewer).
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
                out = y_new;
            } else if (lp.kind == KIND_BLOOD) {
                out = cp_end;
            }
            dst[fi] = out;
            c_below = c;
            c = c_above;
            c_above = c_next;
            word = word_next;
            old = old_next;
            fi += fplane;
            vi += plane;
        }
    }
    reduce_into_ledger(inv, ledger_slot(inv.wg, col.chunk), col.k, secreted, degraded, uptake, capillary, blood_out);
}
