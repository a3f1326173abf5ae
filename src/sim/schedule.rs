//! A scenario's later events (injections after its start, `problem::build::Event`) applied to a
//! running solver at their steps: the one schedule that `secretome run`, the viewer's session
//! and the tests share.

use crate::error::Result;
use crate::problem::build::Event;
use crate::sim::{CpuReference, Simulation};

/// The events of a run, in step order, and how many have been applied.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    events: Vec<Event>,
    done: usize,
}

impl Schedule {
    /// A schedule of `events` (sorted by step here), none applied yet.
    pub fn new(mut events: Vec<Event>) -> Schedule {
        events.sort_by_key(|e| e.step);
        Schedule { events, done: 0 }
    }

    /// A schedule resumed with its first `done` events already applied (a checkpoint's count).
    pub fn resumed(events: Vec<Event>, done: usize) -> Schedule {
        let mut s = Schedule::new(events);
        s.done = done.min(s.events.len());
        s
    }

    /// Events applied so far.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Every event, applied or not.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The step of the next event not yet applied.
    pub fn next_step(&self) -> Option<u64> {
        self.events.get(self.done).map(|e| e.step)
    }

    /// The step to advance to from `now` without passing an event: the next event's step,
    /// clamped to `[now, end]`.
    pub fn stop_before(&self, now: u64, end: u64) -> u64 {
        self.next_step().map_or(end, |s| s.clamp(now, end))
    }

    /// The events due at step `now` (their step ≤ `now`), marked as applied.
    pub fn take_due(&mut self, now: u64) -> Vec<Event> {
        let start = self.done;
        while self.events.get(self.done).is_some_and(|e| e.step <= now) {
            self.done += 1;
        }
        self.events[start..self.done].to_vec()
    }
}

impl Event {
    /// Applies the event to a running simulation (from its next step on).
    pub fn apply(&self, sim: &mut Simulation) -> Result<()> {
        if !self.depots.is_empty() {
            let mut cells = sim.depot_cells()?;
            for &(d, c) in &self.depots {
                cells[d] = c;
            }
            sim.set_depot_cells(&cells)?;
        }
        for &(d, c) in &self.remote {
            sim.set_remote_cells(d, c)?;
        }
        Ok(())
    }

    /// Applies the event to the CPU reference.
    pub fn apply_cpu(&self, cpu: &mut CpuReference) -> Result<()> {
        if !self.depots.is_empty() {
            let mut cells = cpu.depot_cells();
            for &(d, c) in &self.depots {
                cells[d] = c;
            }
            cpu.set_depot_cells(&cells)?;
        }
        for &(d, c) in &self.remote {
            cpu.set_remote_cells(d, c)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(step: u64) -> Event {
        Event {
            step,
            what: format!("at {step}"),
            depots: vec![],
            remote: vec![],
        }
    }

    #[test]
    fn events_come_due_once_in_step_order() {
        let mut s = Schedule::new(vec![event(20), event(5), event(5)]);
        assert_eq!(s.stop_before(0, 100), 5);
        assert!(s.take_due(4).is_empty());
        assert_eq!(s.take_due(5).len(), 2);
        assert!(s.take_due(5).is_empty());
        assert_eq!(s.stop_before(5, 100), 20);
        assert_eq!(s.stop_before(5, 10), 10);
        assert_eq!(s.take_due(30).len(), 1);
        assert_eq!(s.next_step(), None);
        assert_eq!(s.stop_before(30, 40), 40);
        let r = Schedule::resumed(vec![event(1), event(2)], 1);
        assert_eq!((r.done(), r.next_step()), (1, Some(2)));
    }
}
