//! Reading the GPU back in the browser, where the page's thread may not wait: a mapping
//! completes only after the current task returns to the event loop.
//!
//! The solver's reading functions (`read_fields`, `ledger`, `compartments`, …) are written
//! as blocking calls on [`super::read_buffer`]. [`read_async`] runs such a function unchanged:
//! each time it asks for bytes not yet read, the call stops with an error, the bytes are read
//! asynchronously, and the function runs again with every read so far answered. The functions
//! only read and submit work that gives the same answer when repeated (a reduction of the
//! same fields), so the last run returns what one blocking call would have.

use std::cell::RefCell;

use super::{GpuContext, PendingRead};
use crate::error::{Result, SimError};

/// The reads one [`read_async`] has answered, and the one it still needs.
#[derive(Default)]
struct Replay {
    answered: Vec<((wgpu::Buffer, u64, u64), Vec<u8>)>,
    wanted: Option<(wgpu::Buffer, u64, u64)>,
}

thread_local! {
    static REPLAY: RefCell<Option<Replay>> = const { RefCell::new(None) };
}

/// The blocking read's stand-in in the browser: an answered read, or an error that asks
/// [`read_async`] for it (outside one: an error saying a blocking read is not possible here).
pub(super) fn read(buffer: &wgpu::Buffer, offset: u64, size: u64) -> Result<Vec<u8>> {
    REPLAY.with(|r| {
        let mut r = r.borrow_mut();
        let Some(replay) = r.as_mut() else {
            return Err(SimError::Gpu(
                "a blocking readback is not available in the browser".into(),
            ));
        };
        let key = (buffer.clone(), offset, size);
        if let Some((_, bytes)) = replay.answered.iter().find(|(k, _)| *k == key) {
            return Ok(bytes.clone());
        }
        replay.wanted.get_or_insert(key);
        Err(SimError::Gpu("readback pending".into()))
    })
}

/// Runs `f`, a function of the solver that reads the GPU with blocking calls, without
/// blocking the page (see the module's text).
pub async fn read_async<T>(ctx: &GpuContext, f: impl Fn() -> Result<T>) -> Result<T> {
    REPLAY.with(|r| *r.borrow_mut() = Some(Replay::default()));
    let out = loop {
        let result = f();
        let wanted = REPLAY.with(|r| r.borrow_mut().as_mut().and_then(|r| r.wanted.take()));
        let Some((buffer, offset, size)) = wanted else {
            break result;
        };
        let enc = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("read_async"),
            });
        let pending = PendingRead::start(&ctx.device, &ctx.queue, enc, &[(&buffer, offset, size)]);
        match pending.taken(&ctx.device).await {
            Ok(mut parts) => {
                let bytes = parts.pop().unwrap_or_default();
                REPLAY.with(|r| {
                    if let Some(r) = r.borrow_mut().as_mut() {
                        r.answered.push(((buffer, offset, size), bytes));
                    }
                });
            }
            Err(e) => break Err(e),
        }
    };
    REPLAY.with(|r| *r.borrow_mut() = None);
    out
}

/// Returns to the page's event loop once (a zero-delay timer), so that pending GPU work,
/// mappings and the page itself can progress.
pub async fn next_task() {
    let promise = js_sys::Promise::new(&mut |resolve, _| match web_sys::window() {
        Some(w) => {
            let _ = w.set_timeout_with_callback(&resolve);
        }
        None => {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

impl PendingRead {
    /// The bytes, once the GPU has copied them, waiting in the page's event loop.
    pub async fn taken(&self, device: &wgpu::Device) -> Result<Vec<Vec<u8>>> {
        loop {
            if let Some(r) = self.try_take(device) {
                return r;
            }
            next_task().await;
        }
    }
}
