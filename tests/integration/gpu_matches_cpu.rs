//! The GPU solver and its double-precision CPU twin agree on the same discrete problem
//! (MODEL.md §7, last case), with every term of the equation switched on; so do their
//! readouts (exposure per voxel, statistics per label and AHA segment).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{assert_ledgers_match, gpu, max_rel_diff, twin_problem, with_compartments};
use secretome::sim::LayoutOptions;
use secretome::{CpuReference, Problem, Simulation};

fn compare(opts: LayoutOptions, min_slabs: usize) {
    let p = with_compartments(twin_problem());
    let mut cpu = CpuReference::new(&p).unwrap();
    let mut sim = Simulation::with_layout(gpu(), &p, opts).unwrap();
    assert!(sim.slab_count() >= min_slabs, "{} slabs", sim.slab_count());
    assert!(
        sim.plan().stages() >= 3,
        "the test must exercise several RKL1 stages"
    );
    cpu.step(100);
    sim.step(100);
    let g = sim.read_fields().unwrap();
    // Tolerance: 1e-4 of the field maximum (f32 on the GPU vs f64 on the CPU, 100 steps).
    let err = max_rel_diff(&g, cpu.fields());
    assert!(
        err <= 1e-4,
        "GPU vs CPU max difference {err:e} of the field maximum"
    );

    // The ledgers agree term by term (1e-4 of the largest term) and both close.
    assert_ledgers_match(
        &sim.ledger().unwrap(),
        &cpu.ledger(),
        sim.initial_amounts(),
        cpu.initial_amounts(),
    );
    // Every depot's cells and concentrations, the plasma the next step reads, the lungs.
    crate::common::assert_compartments_match(
        &sim.compartments().unwrap(),
        &cpu.compartments(),
        1e-4,
    );
    compare_readouts(&p, &sim, &cpu);
}

/// Exposure per voxel agrees with the CPU twin; the GPU's regional statistics agree with the
/// same statistics computed on the host from the GPU's own fields (f64 sums) and with the
/// CPU twin's.
fn compare_readouts(p: &Problem, sim: &Simulation, cpu: &CpuReference) {
    let e = sim.exposure().unwrap();
    let ce = cpu.exposure();
    let (auc, above) = (ce.auc, ce.above);
    let t = sim.time();
    assert!((t - cpu.time()).abs() < 1e-9);
    // AUC: f32 accumulation of 200 exact sub-step integrals, 1e-4 of the largest.
    let err = max_rel_diff(&e.auc, auc);
    assert!(err <= 1e-4, "AUC GPU vs CPU: {err:e}");
    // Time above EC50: continuous in c (crossings interpolated), so it differs only as much
    // as the fields do; 1e-3 of the run.
    let worst = e
        .above
        .iter()
        .zip(above)
        .fold(0.0f64, |m, (a, b)| m.max((*a as f64 - b).abs()));
    assert!(
        worst <= 1e-3 * t,
        "time above GPU vs CPU: {worst} s of {t} s"
    );
    let partly = above.iter().filter(|&&a| a > 0.0 && a < t).count();
    assert!(
        partly > 100,
        "only {partly} voxels cross EC50: the test needs crossings"
    );
    // Occupancy's integral: a smooth function of the sub-steps' mean c, 1e-4 of the largest.
    let err = max_rel_diff(&e.occupancy, ce.occupancy);
    assert!(err <= 1e-4, "occupancy integral GPU vs CPU: {err:e}");

    let gpu_stats = sim.region_stats().unwrap();
    let fields: Vec<f64> = sim
        .read_fields()
        .unwrap()
        .iter()
        .map(|&v| v as f64)
        .collect();
    let a64: Vec<f64> = e.auc.iter().map(|&v| v as f64).collect();
    let b64: Vec<f64> = e.above.iter().map(|&v| v as f64).collect();
    let o64: Vec<f64> = e.occupancy.iter().map(|&v| v as f64).collect();
    let ec50: Vec<f64> = p.species.species.iter().map(|s| s.ec50.value).collect();
    let kd: Vec<f64> = p.species.species.iter().map(|s| s.kd.value).collect();
    let host = secretome::sim::readouts::region_stats_from(
        &p.grid,
        &p.segments,
        &fields,
        Some(secretome::sim::readouts::ExposureView {
            auc: &a64,
            above: &b64,
            occupancy: &o64,
        }),
        &ec50,
        &kd,
    );
    let twin = cpu.region_stats();
    // Every tissue and blood label and all 17 segments are reported.
    assert_eq!(
        gpu_stats.len(),
        4 + 17,
        "{:?}",
        gpu_stats
            .iter()
            .map(|r| r.region.name())
            .collect::<Vec<_>>()
    );
    assert_eq!(gpu_stats.len(), host.len());
    let close = |a: f64, b: f64, rel: f64| (a - b).abs() <= rel * b.abs().max(1e-12);
    for ((g, h), c) in gpu_stats.iter().zip(&host).zip(&twin) {
        assert_eq!(g.region, h.region);
        assert_eq!(g.voxels, h.voxels);
        let name = g.region.name();
        for s in 0..p.n_species() {
            let (a, b, w) = (g.species[s], h.species[s], c.species[s]);
            // f32 atomic sums over ≤ 10⁴ voxels vs f64: 1e-5.
            assert!(
                close(a.mean, b.mean, 1e-5),
                "{name} species {s} mean {a:?} vs {b:?}"
            );
            assert!(
                close(a.auc, b.auc, 1e-5),
                "{name} species {s} AUC {a:?} vs {b:?}"
            );
            assert!(
                close(a.time_above, b.time_above, 1e-5),
                "{name} {s} time above {a:?} vs {b:?}"
            );
            assert!(
                close(a.occupancy, b.occupancy, 1e-5)
                    && close(a.occupancy_auc, b.occupancy_auc, 1e-5),
                "{name} {s} occupancy {a:?} vs {b:?}"
            );
            assert!(
                close(a.occupancy, w.occupancy, 1e-4)
                    && close(a.occupancy_auc, w.occupancy_auc, 1e-4),
                "{name} {s} occupancy vs CPU twin {a:?} vs {w:?}"
            );
            assert_eq!(a.max, b.max, "{name} species {s} max");
            assert_eq!(
                a.fraction_above, b.fraction_above,
                "{name} species {s} fraction"
            );
            assert!(
                close(a.mean, w.mean, 1e-4),
                "{name} species {s} mean vs CPU twin"
            );
            assert!(
                close(a.max, w.max, 1e-4),
                "{name} species {s} max vs CPU twin"
            );
            assert!(
                close(a.auc, w.auc, 1e-4),
                "{name} species {s} AUC vs CPU twin"
            );
            // A voxel sitting on EC50 may fall either side in f32 and f64.
            assert!(
                (a.fraction_above - w.fraction_above).abs() <= 2.0 / g.voxels as f64,
                "{name} species {s} fraction vs CPU twin"
            );
        }
    }
}

#[test]
fn gpu_matches_cpu_on_one_slab() {
    compare(LayoutOptions::default(), 1);
}

#[test]
fn gpu_matches_cpu_across_slabs() {
    // Cap a slab's largest binding (the exposure, three times the fields) at 14 planes' worth
    // so the grid is cut into slabs of one brick layer (4 planes) with a ghost layer each side.
    let plane = 26 * 22 * 4 * 4 * 3;
    compare(
        LayoutOptions {
            max_slab_bytes: Some(plane * 14),
            ..Default::default()
        },
        3,
    );
}

#[test]
fn gpu_matches_cpu_with_few_workgroups_across_slabs() {
    // Three workgroups per slab and pack (`bench --groups 3`): each walks every third brick,
    // so one workgroup's ledger slot sums many bricks.
    let plane = 26 * 22 * 4 * 4 * 3;
    compare(
        LayoutOptions {
            max_slab_bytes: Some(plane * 14),
            groups: Some(3),
            ..Default::default()
        },
        3,
    );
}

#[test]
fn gpu_matches_cpu_with_the_workgroup_tree_reduction() {
    // The ledger reduction for devices without subgroup operations, forced where they exist
    // (lavapipe has them, so the tests above run the subgroup reduction there).
    compare(
        LayoutOptions {
            tree_reduction: true,
            ..Default::default()
        },
        1,
    );
}

#[test]
fn sources_and_plasma_changed_mid_run_take_effect_at_the_next_step() {
    let mut p = twin_problem();
    let sources = std::mem::replace(&mut p.sources, secretome::SourceMap::new(4));
    let mut cpu = CpuReference::new(&p).unwrap();
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    cpu.step(10);
    sim.step(10);
    // Steering: switch the depots on and raise the plasma, as the viewer will.
    cpu.set_sources(&sources).unwrap();
    sim.set_sources(&sources).unwrap();
    cpu.set_plasma(&[2.0, 1.0, 0.5, 8.0]).unwrap();
    sim.set_plasma(&[2.0, 1.0, 0.5, 8.0]).unwrap();
    cpu.step(20);
    sim.step(20);
    let err = max_rel_diff(&sim.read_fields().unwrap(), cpu.fields());
    assert!(err <= 1e-4, "GPU vs CPU after steering: {err:e}");
    let l = sim.ledger().unwrap();
    let expected: f64 = sources
        .total_amount(|v| p.interstitial_ml(v))
        .iter()
        .sum::<f64>()
        * 20.0
        * p.dt;
    let got: f64 = l.species.iter().map(|s| s.secreted).sum();
    // Secretion only during the 20 steps after the change (f32 ledger: 1e-5).
    assert!(
        (got - expected).abs() < 1e-5 * expected,
        "{got} vs {expected}"
    );
    // Bad steering input is refused with a message, and the run goes on.
    let mut bad = sources.clone();
    bad.add_rate(0, 0, 1.0); // voxel 0 is outside the tissue
    assert!(sim.set_sources(&bad).is_err());
    assert!(sim.set_plasma(&[1.0, -1.0, 0.0, 0.0]).is_err());
    sim.step(1);
    sim.finish().unwrap();
}

#[test]
fn batching_steps_does_not_change_the_fields() {
    // step(n) fuses each step's trailing reaction half-step with the next one's leading
    // half-step; the operations are the same, so the fields must be bit-identical.
    let p = twin_problem();
    let mut batched = Simulation::new(gpu(), &p).unwrap();
    let mut single = Simulation::new(gpu(), &p).unwrap();
    batched.step(6);
    for _ in 0..6 {
        single.step(1);
    }
    assert_eq!(
        batched.read_fields().unwrap(),
        single.read_fields().unwrap()
    );
    assert_eq!(batched.time(), single.time());
}

#[test]
fn voxel_words_mark_closed_faces_and_simple_voxels() {
    use secretome::base::TissueLabel;
    use secretome::gpu::layout::consts;
    use secretome::sim::simulation::voxel_words;
    let mut g = secretome::Grid::filled([4, 3, 3], 0.1, TissueLabel::Myocardium);
    let table = secretome::LabelTable::default();
    let blood = g.index(3, 1, 1);
    g.labels[blood] = TissueLabel::BloodLv;
    let outside = g.index(1, 0, 1);
    g.labels[outside] = TissueLabel::Outside;
    let w = voxel_words(&g, &table);
    // Face f's two-bit code: tissue, closed, or 1 + the blood label.
    let face = |v: usize, f: u32| (w[v] >> (consts::FACE_SHIFT + 2 * f)) & 3;
    let faces = |v: usize| (0..6).map(|f| face(v, f)).collect::<Vec<_>>();
    let (t, c) = (consts::FACE_TISSUE, consts::FACE_CLOSED);
    // Corner (0,0,0): x−, y−, z− at the grid edge.
    assert_eq!(faces(0), [c, t, c, t, c, t]);
    assert!(w[0] & consts::FLAG_SIMPLE != 0 && w[0] & consts::FLAG_UNIT != 0);
    // (1,1,1): y− faces `outside` (closed), x+ is tissue (2,1,1): simple.
    let v = g.index(1, 1, 1);
    assert_eq!(faces(v), [t, t, c, t, t, t]);
    assert!(w[v] & consts::FLAG_SIMPLE != 0);
    // (2,1,1) touches the blood pool at x+: not simple (its face sees the plasma value), and
    // the face names the pool's label.
    let v = g.index(2, 1, 1);
    assert_eq!(w[v] & consts::FLAG_SIMPLE, 0);
    assert_eq!(face(v, 1), TissueLabel::BloodLv as u32 + 1);
    // Non-tissue voxels carry only their label.
    assert_eq!(w[blood], TissueLabel::BloodLv as u32);
    assert_eq!(w[outside], TissueLabel::Outside as u32);
}
