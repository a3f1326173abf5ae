//! Device and adapter choice, shader sources, buffer readback.

pub mod layout;
pub mod shaders;
#[cfg(target_arch = "wasm32")]
pub mod web;

use std::sync::{Arc, Mutex};

use crate::error::{Result, SimError};

/// What the chosen adapter is.
#[derive(Clone, Debug)]
pub struct AdapterReport {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub max_storage_binding: u64,
    pub max_buffer_size: u64,
    pub max_workgroups_per_dim: u32,
    pub max_storage_buffers_per_stage: u32,
}

impl std::fmt::Display for AdapterReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {}{}); storage binding ≤ {} MiB, buffer ≤ {} MiB",
            self.name,
            self.backend,
            self.device_type,
            if self.driver.is_empty() {
                String::new()
            } else {
                format!(", {}", self.driver)
            },
            self.max_storage_binding >> 20,
            self.max_buffer_size >> 20
        )
    }
}

/// The first GPU error that no error scope caught, as one line (wgpu would otherwise panic).
#[derive(Clone, Default)]
pub struct ErrorSlot(Arc<Mutex<Option<String>>>);

impl ErrorSlot {
    /// Routes the device's uncaptured errors into this slot.
    pub fn attach(device: &wgpu::Device) -> Self {
        let slot = ErrorSlot::default();
        let inner = slot.0.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let text = e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if let Ok(mut g) = inner.lock() {
                g.get_or_insert(text);
            }
        }));
        slot
    }

    /// The recorded error, if any, as a `SimError`.
    pub fn check(&self) -> Result<()> {
        match self.0.lock().ok().and_then(|g| g.clone()) {
            Some(e) => Err(SimError::Gpu(e)),
            None => Ok(()),
        }
    }
}

/// An error scope whose answer the caller waits for. On the web a scope answers only after
/// the page's current task, which cannot wait: no scope is pushed there, so the errors reach
/// the device's uncaptured-error slot ([`ErrorSlot`]) that the solver checks after each step.
pub struct Scope(#[cfg(not(target_arch = "wasm32"))] wgpu::ErrorScopeGuard);

impl Scope {
    #[cfg_attr(target_arch = "wasm32", allow(unused_variables))]
    pub fn push(device: &wgpu::Device, filter: wgpu::ErrorFilter) -> Scope {
        #[cfg(not(target_arch = "wasm32"))]
        return Scope(device.push_error_scope(filter));
        #[cfg(target_arch = "wasm32")]
        Scope()
    }

    /// The error the scope caught (never one on the web: see [`Scope`]).
    pub fn error(self) -> Option<wgpu::Error> {
        #[cfg(not(target_arch = "wasm32"))]
        return pollster::block_on(self.0.pop());
        #[cfg(target_arch = "wasm32")]
        None
    }
}

/// An open GPU device and what it can do.
pub struct GpuContext {
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub report: AdapterReport,
    pub errors: ErrorSlot,
}

impl GpuContext {
    /// Opens the adapter chosen by `WGPU_BACKEND` (e.g. `vulkan`, `gl`) and `WGPU_ADAPTER_NAME`
    /// (a case-insensitive substring of the adapter name), or the high-performance default.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new() -> Result<Self> {
        pollster::block_on(Self::open())
    }

    /// Opens the browser's WebGPU adapter (the page cannot wait, so this is the only way in).
    #[cfg(target_arch = "wasm32")]
    pub async fn open() -> Result<Self> {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = wgpu::Backends::BROWSER_WEBGPU;
        let instance = wgpu::Instance::new(desc);
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|_| SimError::NoAdapter {
                tried: "browser WebGPU (navigator.gpu gave no adapter)".into(),
            })?;
        Self::on(adapter).await
    }

    /// Opens the adapter [`GpuContext::new`] chooses; blocking callers use that.
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn open() -> Result<Self> {
        let from_env = wgpu::Backends::from_env();
        let mut tried = Vec::new();
        let mut adapters = Vec::new();
        // Vulkan/Metal/DX12 first; OpenGL only when none of them has an adapter.
        for backends in match from_env {
            Some(b) => vec![b],
            None => vec![wgpu::Backends::PRIMARY, wgpu::Backends::GL],
        } {
            let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
            desc.backends = backends;
            let instance = wgpu::Instance::new(desc);
            adapters = instance.enumerate_adapters(backends).await;
            tried.push(
                backends
                    .iter_names()
                    .map(|(n, _)| n.to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            if !adapters.is_empty() {
                break;
            }
        }
        let tried = tried.join("; then ");
        if adapters.is_empty() {
            return Err(SimError::NoAdapter { tried });
        }
        let adapter = match std::env::var("WGPU_ADAPTER_NAME") {
            Ok(wanted) if !wanted.is_empty() => {
                let w = wanted.to_lowercase();
                let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
                adapters
                    .into_iter()
                    .find(|a| a.get_info().name.to_lowercase().contains(&w))
                    .ok_or(SimError::AdapterNotFound {
                        wanted,
                        available: names.join(", "),
                    })?
            }
            _ => {
                let mut adapters = adapters;
                adapters.sort_by_key(adapter_rank);
                adapters
                    .into_iter()
                    .next()
                    .ok_or(SimError::NoAdapter { tried })?
            }
        };
        Self::on(adapter).await
    }

    /// Opens the device [`device_descriptor`] asks for on `adapter`.
    async fn on(adapter: wgpu::Adapter) -> Result<Self> {
        let info = adapter.get_info();
        let (device, queue) = adapter
            .request_device(&device_descriptor(&adapter))
            .await
            .map_err(|e| SimError::Device {
                adapter: info.name.clone(),
                message: e.to_string(),
            })?;
        Ok(GpuContext::from_device(adapter, device, queue))
    }

    /// Wraps a device opened elsewhere (the viewer's window, which shares its device with the
    /// solver). It should have been requested with [`device_descriptor`].
    pub fn from_device(adapter: wgpu::Adapter, device: wgpu::Device, queue: wgpu::Queue) -> Self {
        let info = adapter.get_info();
        let limits = device.limits();
        // A browser names no adapter (its description is empty unless the user allows it).
        let name = match (info.name.is_empty(), info.device_type) {
            (false, _) => info.name.clone(),
            (true, wgpu::DeviceType::Cpu) => "browser WebGPU (software adapter)".into(),
            (true, _) => "browser WebGPU".into(),
        };
        let report = AdapterReport {
            name,
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
            max_storage_binding: limits.max_storage_buffer_binding_size,
            max_buffer_size: limits.max_buffer_size,
            max_workgroups_per_dim: limits.max_compute_workgroups_per_dimension,
            max_storage_buffers_per_stage: limits.max_storage_buffers_per_shader_stage,
        };
        let errors = ErrorSlot::attach(&device);
        GpuContext {
            adapter,
            device,
            queue,
            report,
            errors,
        }
    }

    /// Whether the device has subgroup operations (wgpu's `SUBGROUP` feature, asked for by
    /// [`device_descriptor`] wherever the adapter offers it).
    pub fn subgroups(&self) -> bool {
        self.device.features().contains(wgpu::Features::SUBGROUP)
    }

    /// The smallest subgroup the adapter may run (wgpu guarantees at least 4).
    pub fn subgroup_min_size(&self) -> u32 {
        self.adapter.get_info().subgroup_min_size
    }

    /// Whether the adapter runs on the CPU (lavapipe, llvmpipe, WARP).
    pub fn is_cpu(&self) -> bool {
        self.adapter.get_info().device_type == wgpu::DeviceType::Cpu
    }

    /// Largest buffer one binding may hold here, bytes.
    pub fn max_binding_bytes(&self) -> u64 {
        self.report
            .max_storage_binding
            .min(self.report.max_buffer_size)
    }

    /// Compiles a WGSL module, turning a validation error into a `SimError`.
    pub fn shader(&self, name: &str, source: &str) -> Result<wgpu::ShaderModule> {
        let scope = Scope::push(&self.device, wgpu::ErrorFilter::Validation);
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        };
        let module = self.device.create_shader_module(desc);
        if let Some(e) = scope.error() {
            let text = e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            return Err(SimError::Gpu(format!("shader {name}: {text}")));
        }
        Ok(module)
    }

    /// Copies `size` bytes of `buffer` from `offset` back to the host (blocking).
    pub fn read_buffer(&self, buffer: &wgpu::Buffer, offset: u64, size: u64) -> Result<Vec<u8>> {
        read_buffer(&self.device, &self.queue, buffer, offset, size)
    }

    /// Waits until the GPU has finished all submitted work.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| SimError::Gpu(format!("waiting for the GPU: {e}")))
    }
}

/// How much the solver prefers an adapter (lower first): a discrete GPU, then integrated,
/// virtual, other, CPU drivers last; Vulkan/Metal/DX12 before OpenGL.
pub fn adapter_rank(a: &wgpu::Adapter) -> (u8, u8) {
    let info = a.get_info();
    let kind = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    let backend = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        _ => 1,
    };
    (kind, backend)
}

/// The device the solver asks for: subgroup operations where the adapter has them (the
/// stages' ledger reduction then needs no workgroup barrier), the adapter's own limits (so
/// large grids are bounded by the card, not by WebGPU's defaults).
pub fn device_descriptor(adapter: &wgpu::Adapter) -> wgpu::DeviceDescriptor<'static> {
    wgpu::DeviceDescriptor {
        label: Some("secretome"),
        required_features: adapter.features() & wgpu::Features::SUBGROUP,
        required_limits: adapter.limits(),
        ..Default::default()
    }
}

/// Buffer contents on their way back from the GPU, collected without waiting: the copies
/// are submitted at once, and [`PendingRead::try_take`] hands the bytes over once the GPU has
/// finished them (the viewer polls it once per frame).
pub struct PendingRead {
    staging: wgpu::Buffer,
    /// (offset in `staging`, length) of each source.
    parts: Vec<(u64, u64)>,
    done: Arc<Mutex<Option<std::result::Result<(), String>>>>,
}

impl PendingRead {
    /// Copies each `(buffer, offset, length)` into one staging buffer and asks for it to be
    /// mapped.
    pub fn start(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        mut enc: wgpu::CommandEncoder,
        sources: &[(&wgpu::Buffer, u64, u64)],
    ) -> PendingRead {
        let mut parts = Vec::new();
        let mut total = 0u64;
        for &(_, _, len) in sources {
            parts.push((total, len));
            total += len.next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        }
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("PendingRead"),
            size: total.max(wgpu::COPY_BUFFER_ALIGNMENT),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        for (&(buf, offset, len), &(at, _)) in sources.iter().zip(&parts) {
            if len > 0 {
                enc.copy_buffer_to_buffer(buf, offset, &staging, at, len);
            }
        }
        queue.submit([enc.finish()]);
        let done = Arc::new(Mutex::new(None));
        let slot = done.clone();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            if let Ok(mut g) = slot.lock() {
                *g = Some(r.map_err(|e| e.to_string()));
            }
        });
        PendingRead {
            staging,
            parts,
            done,
        }
    }

    /// The bytes of each source, once the GPU has copied them; `None` while it has not.
    /// Never blocks.
    pub fn try_take(&self, device: &wgpu::Device) -> Option<Result<Vec<Vec<u8>>>> {
        let _ = device.poll(wgpu::PollType::Poll);
        let state = self.done.lock().ok()?.clone()?;
        Some(match state {
            Err(e) => Err(SimError::Gpu(format!("readback: {e}"))),
            Ok(()) => self
                .staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| SimError::Gpu(format!("readback: {e}")))
                .map(|data| {
                    self.parts
                        .iter()
                        .map(|&(at, len)| data[at as usize..(at + len) as usize].to_vec())
                        .collect()
                }),
        })
    }

    /// Waits for the bytes (tests and command-line tools).
    pub fn wait(&self, device: &wgpu::Device) -> Result<Vec<Vec<u8>>> {
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| SimError::Gpu(format!("waiting for the GPU: {e}")))?;
        self.try_take(device)
            .unwrap_or_else(|| Err(SimError::Gpu("readback never completed".into())))
    }
}

/// Copies `size` bytes of `buffer` from `offset` back to the host, waiting for the GPU.
pub fn read_buffer(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    buffer: &wgpu::Buffer,
    offset: u64,
    size: u64,
) -> Result<Vec<u8>> {
    if size == 0 {
        return Ok(Vec::new());
    }
    // In the browser the copy lands only after the page's task: `web::read_async` answers
    // the read, or it fails in one line instead of hanging the page.
    #[cfg(target_arch = "wasm32")]
    {
        let _ = (device, queue);
        web::read(buffer, offset, size)
    }
    #[cfg(not(target_arch = "wasm32"))]
    read_blocking(device, queue, buffer, offset, size)
}

#[cfg(not(target_arch = "wasm32"))]
fn read_blocking(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    buffer: &wgpu::Buffer,
    offset: u64,
    size: u64,
) -> Result<Vec<u8>> {
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("readback"),
    });
    enc.copy_buffer_to_buffer(buffer, offset, &staging, 0, size);
    queue.submit([enc.finish()]);
    let (tx, rx) = std::sync::mpsc::channel();
    staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| SimError::Gpu(format!("waiting for the GPU: {e}")))?;
    rx.recv()
        .map_err(|e| SimError::Gpu(format!("readback: {e}")))?
        .map_err(|e| SimError::Gpu(format!("readback: {e}")))?;
    let data = staging
        .slice(..)
        .get_mapped_range()
        .map_err(|e| SimError::Gpu(format!("readback: {e}")))?
        .to_vec();
    staging.unmap();
    Ok(data)
}
