//! Grids larger than one storage binding: a 256³ grid with four species (256 MiB per field
//! copy) runs through lavapipe, whose bindings are capped at 128 MiB; too large a grid gets a
//! clear error naming the largest grid that fits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::gpu;
use secretome::bench::{p1_error, p1_problem};
use secretome::sim::LayoutOptions;
use secretome::{SimError, Simulation};

#[test]
fn grid_256_cubed_with_four_species_runs_across_bindings() {
    let n = 256;
    let p = p1_problem(n, 60.0);
    let mut sim = Simulation::new(gpu(), &p).unwrap();
    let field_bytes = (n * n * n * 4 * 4) as u64;
    assert!(field_bytes >= 256 << 20);
    let limit = gpu().max_binding_bytes();
    if field_bytes > limit {
        assert!(
            sim.slab_count() >= 2,
            "{} slabs for a {limit}-byte binding",
            sim.slab_count()
        );
    }
    sim.step(2);
    let f = sim.read_fields().unwrap();
    // Against the exact solution of P1 (tolerance 1e-4 of the maximum): a seam between
    // slabs that lost its ghost layers would show as an error of order 1e-2 there.
    let e = p1_error(n, sim.time(), &f);
    assert!(e < 1e-4, "P1 error {e:e} on {} slabs", sim.slab_count());
    eprintln!(
        "256³ × 4 species: {} slabs, {:.1} bytes/voxel, error {e:.1e}",
        sim.slab_count(),
        sim.gpu_bytes() as f64 / (n * n * n) as f64
    );
}

#[test]
fn too_large_a_grid_names_the_largest_that_fits() {
    // A memory budget stands in for a small GPU, so the test allocates nothing large.
    let big = p1_problem(16, 60.0);
    let err = Simulation::with_layout(
        gpu(),
        &big,
        LayoutOptions {
            memory_budget: Some(100 * 1024),
            ..Default::default()
        },
    )
    .err()
    .expect("a 16³ grid cannot fit in 100 KiB");
    let msg = err.to_string();
    assert!(matches!(err, SimError::TooLarge(_)), "{msg}");
    // 100 KiB / 36 bytes per voxel = 2844 voxels: 14³ fits, 15³ does not.
    assert!(
        msg.contains("largest cubic grid of tissue that fits is 14³"),
        "{msg}"
    );
    assert!(msg.contains("16×16×16") && !msg.contains('\n'), "{msg}");
}

#[test]
fn a_brick_layer_wider_than_a_binding_is_refused_clearly() {
    let p = p1_problem(64, 60.0);
    let err = Simulation::with_layout(
        gpu(),
        &p,
        LayoutOptions {
            max_slab_bytes: Some(64 * 64 * 4 * 4 * 2),
            ..Default::default()
        },
    )
    .err()
    .expect("a slab smaller than three brick layers must be refused");
    let msg = err.to_string();
    assert!(
        msg.contains("one layer of bricks (64×64×4 voxels") && !msg.contains('\n'),
        "{msg}"
    );
}

/// An adapter that binds fewer storage buffers per shader stage than the solver's kernels
/// (a browser's WebGPU may allow only the default 8) is refused in one line naming both
/// numbers, before any kernel runs; the same device with one more is accepted.
#[test]
fn an_adapter_binding_too_few_storage_buffers_is_refused_in_one_line() {
    let ctx = gpu();
    let p = p1_problem(16, 60.0);
    let limited = |n: u32| {
        let mut desc = secretome::gpu::device_descriptor(&ctx.adapter);
        desc.required_limits.max_storage_buffers_per_shader_stage = n;
        let (device, queue) = pollster::block_on(ctx.adapter.request_device(&desc)).unwrap();
        secretome::GpuContext::from_device(ctx.adapter.clone(), device, queue)
    };
    let err = match Simulation::new(&limited(8), &p) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a device binding 8 storage buffers was accepted"),
    };
    assert!(
        err.contains("at most 8 storage buffers per shader stage")
            && err.contains("need 9")
            && !err.contains('\n'),
        "{err}"
    );
    assert!(Simulation::new(&limited(9), &p).is_ok());
}

/// The browser's memory budget (`WEB_GRID_BUDGET`, where WebGPU cannot say how much a page
/// may allocate): a grid over it is refused in one line that names the voxel edge which fits.
/// Bytes go as 1/h³, so an eighth of the budget asks for twice the voxel.
#[test]
fn a_grid_over_the_page_budget_names_the_voxel_that_fits() {
    let p = p1_problem(64, 60.0);
    let need = secretome::sim::grid_bytes(&p);
    assert!(secretome::sim::within_budget(&p, need, "page").is_ok());
    let err = secretome::sim::within_budget(&p, need / 8, "page")
        .unwrap_err()
        .to_string();
    let fits = (p.grid.spacing * 2.0 * 10.0).ceil() / 10.0;
    assert!(
        err.contains(&format!("choose a coarser voxel, {fits:.1} mm or more"))
            && err.contains("'page'")
            && !err.contains('\n'),
        "{err}"
    );
}
