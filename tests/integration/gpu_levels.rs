//! The GPU solver on levels (issue 17) against its double-precision CPU twin: a refined
//! problem holding every label and term, on one slab per level and on several.

use crate::common::{
    assert_compartments_match, assert_ledger_terms_match, gpu, heterogeneous_grid, max_rel_diff,
};
use crate::levels::full_problem;
use secretome::problem::Problem;
use secretome::sim::levels::Composite;
use secretome::sim::LayoutOptions;
use secretome::{CpuReference, Simulation};

/// The full model (every label, a depot with autocrine feedback across labels, a point
/// source, dynamic plasma, exposure) refined twice around the depot, and where `far` is given
/// also around that height (mm) above the box's floor, each level then in two patches.
fn refined(dims: [usize; 3], far: Option<f64>) -> Problem {
    let coarse = heterogeneous_grid(dims, 0.2);
    let mid = coarse.dims.map(|d| d as f64 * 0.1);
    let comp = Composite::new(coarse.dims, coarse.spacing, 2, move |l, p| {
        let r = if l == 0 { 0.7 } else { 0.4 };
        let near = |z: f64| {
            (p[0] - mid[0] - 0.4).abs() < r
                && (p[1] - mid[1] + 0.2).abs() < r
                && (p[2] - z).abs() < r
        };
        near(mid[2]) || far.is_some_and(near)
    })
    .unwrap();
    full_problem(coarse).refine(&comp).unwrap()
}

fn compare(dims: [usize; 3], far: Option<f64>, opts: LayoutOptions, min_slabs: usize) {
    let p = refined(dims, far);
    let n = p.voxel_count();
    let mut cpu = CpuReference::new(&p).unwrap();
    let mut sim = Simulation::with_layout(gpu(), &p, opts).unwrap();
    let per_level = sim.slabs_per_level();
    eprintln!("slabs per level {per_level:?}");
    assert!(per_level.len() == 3 && per_level[0] >= min_slabs && per_level[2] >= min_slabs);
    let patches = if far.is_some() { 2 } else { 1 };
    assert_eq!(sim.grids_per_level(), [1, patches, patches]);
    assert_eq!(sim.level_faces(), p.levels.as_ref().unwrap().faces.len());
    assert!(sim.plan().stages() >= 3, "{} stages", sim.plan().stages());
    // 3 h in 10-minute steps; both solvers take the same stages.
    cpu.step(18);
    sim.step(18);
    let g = sim.read_fields().unwrap();
    assert_eq!(g.len(), 4 * n);
    // f32 on the GPU vs f64 on the CPU: 1e-5 of each species' peak, every level (measured
    // 3e-7 to 7e-7).
    for s in 0..4 {
        let err = max_rel_diff(&g[s * n..(s + 1) * n], &cpu.fields()[s * n..(s + 1) * n]);
        eprintln!("species {s}: GPU vs CPU {err:.1e} of the peak");
        assert!(err <= 1e-5, "species {s}: {err:e}");
    }
    let lg = sim.ledger().unwrap();
    let lc = cpu.ledger();
    for s in 0..4 {
        let (a, b) = (lg.species[s], lc.species[s]);
        assert_ledger_terms_match(s, &a, &b);
        let eg = a.closure_error(sim.initial_amounts()[s]);
        eprintln!("species {s}: GPU ledger closure {eg:.1e}");
        // The bound (measured −2e-8 to 3.7e-7).
        assert!(eg.abs() < 1e-6, "species {s}: GPU ledger closure {eg:e}");
    }
    assert_compartments_match(&sim.compartments().unwrap(), &cpu.compartments(), 1e-4);
    // Exposure per voxel of every level, and the regional statistics weighted by volume.
    let e = sim.exposure().unwrap();
    let err = max_rel_diff(&e.auc, cpu.exposure().auc);
    assert!(err <= 1e-4, "AUC GPU vs CPU: {err:e}");
    // Reduced on the GPU, each voxel weighted by its volume; the live view's snapshot reads
    // the same reduction.
    let (gs, cs) = (sim.region_stats().unwrap(), cpu.region_stats());
    let pending = sim.request_snapshot();
    let snap = loop {
        if let Some(s) = sim.take_snapshot(&pending) {
            break s.unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    assert_eq!(snap.regions, gs);
    assert!(gs
        .iter()
        .any(|r| r.species.iter().any(|s| s.fraction_above > 0.0)));
    assert_eq!(gs.len(), cs.len());
    assert_eq!(
        sim.regions().iter().map(|r| r.0).collect::<Vec<_>>(),
        cs.iter().map(|r| r.region).collect::<Vec<_>>()
    );
    for (a, b) in gs.iter().zip(&cs) {
        assert_eq!((a.region, a.voxels), (b.region, b.voxels));
        for s in 0..4 {
            let (x, y) = (a.species[s], b.species[s]);
            let close = |u: f64, v: f64| (u - v).abs() <= 1e-4 * v.abs().max(1e-9);
            assert!(
                close(x.mean, y.mean)
                    && close(x.max, y.max)
                    && close(x.auc, y.auc)
                    && close(x.time_above, y.time_above)
                    && close(x.occupancy, y.occupancy)
                    && close(x.occupancy_auc, y.occupancy_auc),
                "{} species {s}: {x:?} vs {y:?}",
                a.region.name()
            );
            // A voxel sitting on EC50 may fall either side in f32 and f64.
            assert!(
                (x.fraction_above - y.fraction_above).abs() <= 2.0 / a.voxels as f64,
                "{} species {s}: fraction above {} vs {}",
                a.region.name(),
                x.fraction_above,
                y.fraction_above
            );
        }
    }
}

#[test]
fn gpu_matches_cpu_on_levels() {
    compare([14, 12, 12], None, LayoutOptions::default(), 1);
}

/// Each level in two patches (a second zone refined 3 mm below the depot's), each cut into
/// several slabs: the ghost layers are exchanged within a patch only, and the faces between
/// levels find their voxels in whichever slab owns them.
#[test]
fn gpu_matches_cpu_on_levels_across_slabs() {
    compare(
        [14, 12, 40],
        Some(1.0),
        LayoutOptions {
            max_slab_bytes: Some(150 << 10),
            ..Default::default()
        },
        2,
    );
}
