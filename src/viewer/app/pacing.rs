//! Pacing the simulation to the window, and reading it back: the steps each frame submits,
//! and the snapshots (about two a second) that feed the plots, the bullseye and the colours.

use std::sync::atomic::Ordering;
use web_time::Instant;

use super::ViewerApp;

impl ViewerApp {
    /// Submits the steps this frame's share of the speed asks for, at most `max_steps` queued:
    /// that bound grows while frames are quicker than the target (18 ms on a GPU, 200 ms
    /// through a CPU driver) and shrinks when they are slower, so that the simulation takes
    /// what the window can spare and the window stays responsive.
    pub(super) fn simulate(&mut self, wall_dt: f64) {
        let dt = self.dt();
        let cpu = self.ctx.is_cpu();
        let p = &mut self.pacing;
        let done = p.completed.load(Ordering::Relaxed);
        let now = Instant::now();
        let span = now.duration_since(p.rate_window.0).as_secs_f64();
        if span >= 1.0 {
            let rate = (done.saturating_sub(p.rate_window.1)) as f64 / span;
            p.steps_per_s = if p.playing || rate > 0.0 { rate } else { 0.0 };
            p.rate_window = (now, done);
        }
        // In the browser, the refinement following the depots reads the run over a few frames:
        // the run waits for it.
        #[cfg(target_arch = "wasm32")]
        let waiting = self.placing.regridding.is_some();
        #[cfg(not(target_arch = "wasm32"))]
        let waiting = false;
        if !p.playing || waiting {
            p.carry = 0.0;
            return;
        }
        let target_ms = if cpu { 200.0 } else { 18.0 };
        if p.frame_ms > 1.3 * target_ms {
            p.max_steps = (p.max_steps * 0.8).max(1.0);
        } else if p.frame_ms < target_ms {
            p.max_steps = (p.max_steps + 1.0).min(4096.0);
        }
        let want = p.speed_h_per_s * 3600.0 * wall_dt.min(0.5) / dt + p.carry;
        let in_flight = p.submitted.saturating_sub(done) as f64;
        let room = (p.max_steps.floor() - in_flight).max(0.0);
        let n = want.floor().min(room);
        // What could not be submitted is dropped, not owed: the speed is a ceiling.
        p.carry = if n < want.floor() { 0.0 } else { want - n };
        if n >= 1.0 {
            self.step(n as u64);
        }
    }

    /// Advances `n` steps now (also the Step button).
    pub(in crate::viewer) fn step(&mut self, n: u64) {
        // In the browser, not while the refinement reads the run (see `simulate`).
        #[cfg(target_arch = "wasm32")]
        if self.placing.regridding.is_some() {
            return;
        }
        let r = self.session.advance(n);
        self.report(r);
        self.pacing.submitted = self.session.simulation().steps_taken();
        let target = self.pacing.submitted;
        let completed = self.pacing.completed.clone();
        self.ctx.queue.on_submitted_work_done(move || {
            completed.fetch_max(target, Ordering::Relaxed);
        });
        self.picture.field_dirty = true;
    }

    /// Collects a finished snapshot and asks for the next (about two a second: the regional
    /// reduction is a pass over the whole grid).
    pub(super) fn poll_snapshot(&mut self) {
        if let Some(p) = &self.readouts.pending {
            match self.session.simulation().take_snapshot(p) {
                None => {}
                Some(Ok(s)) => {
                    let r = &mut self.readouts;
                    r.pending = None;
                    r.history.push(&s, &self.markers, self.session.simulation());
                    r.snapshot = Some(s);
                    r.bullseye = None;
                    self.update_range();
                }
                Some(Err(e)) => {
                    self.readouts.pending = None;
                    self.say(e.to_string(), true);
                }
            }
        }
        // Paused and unchanged since the last one: nothing to ask for, so the window can idle.
        let steps = self.session.simulation().steps_taken();
        let r = &mut self.readouts;
        if r.pending.is_none()
            && r.snapshot_of != Some(steps)
            && r.last_request.elapsed().as_secs_f64() > 0.5
        {
            r.pending = Some(self.session.simulation().request_snapshot());
            r.snapshot_of = Some(steps);
            r.last_request = Instant::now();
        }
    }
}
