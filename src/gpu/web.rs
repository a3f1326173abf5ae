//! Reading the GPU back in the browser, where the page's thread may not wait: a mapping
//! completes only after the current task returns to the event loop.
//!
//! The solver's reading functions (`read_fields`, `ledger`, `compartments`, …) are written
//! as blocking calls on [`super::read_buffer`]. [`Replay`] runs such a function unchanged:
//! each time it asks for bytes not yet read, the call stops with an error, the bytes are read
//! asynchronously, and the function runs again, at a later frame or task, with every read so
//! far answered ([`read_async`] waits in between). The functions only read, and submit work
//! that gives the same answer when repeated (a reduction of the same fields), before they
//! change anything, so the last run returns what one blocking call would have.

use std::cell::RefCell;

use super::{GpuContext, PendingRead};
use crate::error::{Result, SimError};

/// The reads one [`Replay::attempt`] has answered, and the one it still needs.
#[derive(Default)]
struct Reads {
    answered: Vec<((wgpu::Buffer, u64, u64), Vec<u8>)>,
    wanted: Option<(wgpu::Buffer, u64, u64)>,
}

thread_local! {
    static REPLAY: RefCell<Option<Reads>> = const { RefCell::new(None) };
}

/// The blocking read's stand-in in the browser: an answered read, or an error that asks
/// [`Replay::attempt`] for it (outside one: an error saying a blocking read is not possible
/// here).
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

/// A reading function run across the page's tasks (frames, or [`read_async`]'s waits): each
/// [`Replay::attempt`] runs it with every read answered so far, starts the read it still
/// needs, and returns its result once it needed none.
#[derive(Default)]
pub struct Replay {
    answered: Vec<((wgpu::Buffer, u64, u64), Vec<u8>)>,
    pending: Option<((wgpu::Buffer, u64, u64), PendingRead)>,
}

impl Replay {
    /// `None` while a read is on its way (call again later); the function's result once it
    /// ran with every read answered.
    pub fn attempt<T>(
        &mut self,
        ctx: &GpuContext,
        f: impl FnOnce() -> Result<T>,
    ) -> Option<Result<T>> {
        if let Some((key, read)) = &self.pending {
            match read.try_take(&ctx.device)? {
                Ok(mut parts) => {
                    let bytes = parts.pop().unwrap_or_default();
                    self.answered.push((key.clone(), bytes));
                    self.pending = None;
                }
                Err(e) => return Some(Err(e)),
            }
        }
        let answered = std::mem::take(&mut self.answered);
        REPLAY.with(|r| {
            *r.borrow_mut() = Some(Reads {
                answered,
                wanted: None,
            })
        });
        let result = f();
        let reads = REPLAY.with(|r| r.borrow_mut().take()).unwrap_or_default();
        self.answered = reads.answered;
        let Some((buffer, offset, size)) = reads.wanted else {
            return Some(result);
        };
        let enc = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("Replay"),
            });
        let read = PendingRead::start(&ctx.device, &ctx.queue, enc, &[(&buffer, offset, size)]);
        self.pending = Some(((buffer, offset, size), read));
        None
    }
}

/// Runs `f`, a function of the solver that reads the GPU with blocking calls, without
/// blocking the page (see the module's text).
pub async fn read_async<T>(ctx: &GpuContext, f: impl Fn() -> Result<T>) -> Result<T> {
    let mut replay = Replay::default();
    loop {
        if let Some(r) = replay.attempt(ctx, &f) {
            return r;
        }
        next_task().await;
    }
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
