//! The run directory's marker (which scenario it holds) and the checkpoint that `--resume`
//! continues from, bit for bit.

use super::*;

/// What the checkpoint's header records besides the solver state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct CheckpointMeta {
    pub(super) scenario_hash: String,
    /// Outputs written so far (time s, file relative to the run directory).
    pub(super) outputs: Vec<(f64, String)>,
    /// stats.csv rows so far, formatted.
    pub(super) rows: Vec<String>,
    /// Events applied so far.
    pub(super) events_done: usize,
}

/// The marker that says which run a directory holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct RunMarker {
    pub(super) scenario: String,
    pub(super) scenario_hash: String,
}

pub(super) const MARKER: &str = "run.json";

pub(super) const CHECKPOINT: &str = "checkpoint.bin";

/// FNV-1a, 64 bits: a stable fingerprint of the resolved scenario.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The scenario's fingerprint: its resolved form, without the file name it came from.
pub fn scenario_hash(sc: &Scenario) -> Result<String> {
    let mut v = serde_json::to_value(sc).map_err(|e| SimError::Run(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.remove("source");
    }
    Ok(format!("{:016x}", fnv1a(v.to_string().as_bytes())))
}

impl<'a> Runner<'a> {
    pub(super) fn restore(&mut self) -> Result<()> {
        let path = self.dir.join(CHECKPOINT);
        let bytes = std::fs::read(&path).map_err(|e| io_err(&path, e))?;
        let bad = || {
            SimError::Run(format!(
                "{}: not a Secretome checkpoint, or a damaged one; run without --resume to start again",
                path.display()
            ))
        };
        let len = u64::from_le_bytes(
            bytes
                .get(..8)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        ) as usize;
        let meta_bytes = bytes
            .get(8..8usize.checked_add(len).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        let meta: CheckpointMeta = serde_json::from_slice(meta_bytes).map_err(|_| bad())?;
        if meta.scenario_hash != self.hash {
            return Err(SimError::Run(format!(
                "{}: the checkpoint belongs to a different scenario; run without --resume (and --force) to start again",
                path.display()
            )));
        }
        let state = SimState::from_bytes(&bytes[8 + len..]).ok_or_else(bad)?;
        self.sim
            .restore_state(&state)
            .map_err(|e| SimError::Run(format!("{}: {e}", path.display())))?;
        self.outputs = meta.outputs;
        self.rows = meta.rows;
        self.schedule = Schedule::resumed(self.built.events.clone(), meta.events_done);
        Ok(())
    }

    pub(super) fn checkpoint(&self) -> Result<()> {
        let meta = CheckpointMeta {
            scenario_hash: self.hash.clone(),
            outputs: self.outputs.clone(),
            rows: self.rows.clone(),
            events_done: self.schedule.done(),
        };
        let json = serde_json::to_vec(&meta).map_err(|e| SimError::Run(e.to_string()))?;
        let state = self.sim.save_state()?.to_bytes();
        write_atomic(&self.dir.join(CHECKPOINT), |w| {
            w.write_all(&(json.len() as u64).to_le_bytes())?;
            w.write_all(&json)?;
            w.write_all(&state)
        })
    }
}
