//! Small helpers for bind group layouts, bind groups, pipelines and buffers.

use super::*;

pub(super) fn storage(ro: bool, binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only: ro },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

pub(super) fn uniform(binding: u32, dynamic: bool, size: u64) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: dynamic,
            min_binding_size: NonZeroU64::new(size),
        },
        count: None,
    }
}

/// The bind group layout of `entries` and a pipeline layout of that one group.
pub(super) fn one_group_layout(
    device: &wgpu::Device,
    label: &str,
    entries: &[wgpu::BindGroupLayoutEntry],
) -> (wgpu::BindGroupLayout, wgpu::PipelineLayout) {
    let group = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries,
    });
    let pipeline = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &[Some(&group)],
        immediate_size: 0,
    });
    (group, pipeline)
}

pub(super) fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buffer.as_entire_binding(),
    }
}

/// A buffer holding `data` (at least 16 bytes, a multiple of 16, so an empty table still binds).
pub(super) fn buffer_with(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    label: &str,
    data: &[u8],
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    let b = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (data.len() as u64).max(16).next_multiple_of(16),
        usage,
        mapped_at_creation: false,
    });
    queue.write_buffer(&b, 0, data);
    b
}

/// A bind group of one storage buffer at binding 0.
pub(super) fn device_group(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
    buffer: &wgpu::Buffer,
) -> wgpu::BindGroup {
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("Simulation::single"),
        layout,
        entries: &[entry(0, buffer)],
    })
}

pub(super) fn pipeline_auto(
    device: &wgpu::Device,
    m: &wgpu::ShaderModule,
    entry: &str,
) -> wgpu::ComputePipeline {
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry),
        layout: None,
        module: m,
        entry_point: Some(entry),
        compilation_options: wgpu::PipelineCompilationOptions {
            constants: &[],
            zero_initialize_workgroup_memory: false,
        },
        cache: None,
    })
}

/// Memory the device lets us allocate, bytes, found by allocating blocks until it refuses.
pub(super) fn probe_memory(device: &wgpu::Device, max_buffer: u64) -> u64 {
    let block = max_buffer.min(1 << 30);
    let mut held = Vec::new();
    let mut total = 0u64;
    for _ in 0..1024 {
        let scope = crate::gpu::Scope::push(device, wgpu::ErrorFilter::OutOfMemory);
        let b = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("memory probe"),
            size: block,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        if scope.error().is_some() {
            break;
        }
        held.push(b);
        total += block;
    }
    drop(held);
    total
}
