//! `secretome info`: the adapter that would be used and its limits.

use anyhow::{Context, Result};

use secretome::GpuContext;

/// Runs `secretome info`.
pub fn info() -> Result<()> {
    let ctx = GpuContext::new().context("opening the GPU")?;
    println!("adapter: {}", ctx.report);
    println!(
        "max storage buffers per stage: {}, max workgroups per dimension: {}",
        ctx.report.max_storage_buffers_per_stage, ctx.report.max_workgroups_per_dim
    );
    Ok(())
}
