//! #import common
//! #import ledger_reduce
// react.wgsl — the leading reaction half-step of a time step (Strang splitting:
// react tau, diffuse dt, react tau with tau = dt/2), in place on the current field `dst`; or,
// with FLAG_TRAIL, the trailing one (on refined problems, where the faces between levels
// come after the last diffusion stage).
//
//   dc/dt = P m_P (C_p - c) - k c - m_U V c / (K + c)        [ng/mL/s]
//
// solved by `react` in common.wgsl, four species at a time; the degraded, taken-up and
// exchanged amounts (ng) go to the ledger. Without levels the trailing half-step is fused into
// the last diffusion stage. Secretion is here only for lanes that `stiff_source` says are consumed
// within the half-step; the others secrete in the diffusion stages, where a steady source
// profile is a fixed point of the step.

@compute @workgroup_size(64, 1, 1)
fn react_half_step(inv: Invocation) {
    let k = inv.wg.y;
    let l = inv.li;
    let zero = vec4<f32>(0.0);
    var secreted = zero;
    var degraded = zero;
    var uptake = zero;
    var capillary = zero;
    let sp = species[k];
    // The plasma's mean over this half-step.
    let cp = plasma(k, select(PC_LEAD, PC_TRAIL, (stage.flags & FLAG_TRAIL) != 0u));
    let run = brick_run(inv.wg.x);
    for (var b = run.x; b < run.y; b = b + 1u) {
        if (!in_mask(bricks[b].mask_lo, bricks[b].mask_hi, l)) {
            continue;
        }
        let i = stored_index(b, l);
        let word = voxels[i];
        let lp = labels.entries[word & LABEL_MASK];
        let fi = i * slab.n_packs + k;
        let stiff = stiff_source(sp, lp, stage.tau, stage.terms);
        let source = select(vec4<f32>(0.0), source_rate(b, word, k, stage.terms), stiff);
        let c0 = dst[fi];
        let r = react(c0, stage.tau, sp, lp, cp, source, stage.terms);
        dst[fi] = r.c;
        if (EXPOSURE) {
            expose(
                fi,
                r.integral,
                time_above(c0, r.c, sp.ec50, stage.tau),
                occupancy_integral(r.integral, stage.tau, sp.kd),
            );
        }
        // Amounts per voxel volume: ε times the change of c.
        let eps = lp.volume_fraction;
        secreted += eps * r.secreted;
        degraded += eps * r.degraded;
        uptake += eps * r.uptake;
        capillary += eps * r.capillary;
    }
    reduce_into_ledger(inv, ledger_slot(inv.wg), k, secreted, degraded, uptake, capillary, zero);
}
