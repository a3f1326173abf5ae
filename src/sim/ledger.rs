//! The mass ledger: where every nanogram of each species went.

/// Cumulative amounts of one species since the start of the run, ng.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SpeciesLedger {
    /// Secreted by sources.
    pub secreted: f64,
    /// Degraded in tissue (first-order decay).
    pub degraded: f64,
    /// Taken up by receptors (Michaelis–Menten).
    pub taken_up: f64,
    /// Net flow tissue → plasma through capillaries.
    pub to_plasma_capillary: f64,
    /// Net flow tissue → blood pools through their faces.
    pub to_blood_faces: f64,
    /// Present in tissue voxels now.
    pub in_tissue: f64,
}

impl SpeciesLedger {
    /// Net amount that left the tissue for the blood (capillaries and blood pools), ng.
    pub fn net_exchange(&self) -> f64 {
        self.to_plasma_capillary + self.to_blood_faces
    }

    /// `initial + secreted − degraded − taken up − net exchange − now`, relative to the
    /// largest amount involved: zero when every nanogram is accounted for.
    pub fn closure_error(&self, initial: f64) -> f64 {
        let residual = initial + self.secreted
            - self.degraded
            - self.taken_up
            - self.net_exchange()
            - self.in_tissue;
        let scale = [
            initial,
            self.secreted,
            self.degraded,
            self.taken_up,
            self.to_plasma_capillary.abs(),
            self.to_blood_faces.abs(),
            self.in_tissue,
        ]
        .into_iter()
        .fold(f64::MIN_POSITIVE, f64::max);
        residual / scale
    }
}

/// The ledger of every species.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ledger {
    pub species: Vec<SpeciesLedger>,
}

/// The plasma side of one species' ledger (MODEL.md §4), ng; cumulative since the start.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PlasmaLedger {
    /// Plasma concentration now, ng/mL.
    pub concentration: f64,
    /// Present in plasma now (V·C).
    pub in_plasma: f64,
    /// Present at the remote depots' sites now.
    pub at_remote_sites: f64,
    /// Cleared from plasma.
    pub cleared: f64,
    /// Absorbed from remote sites into plasma.
    pub absorbed: f64,
    /// Secreted by remote depots' cells.
    pub remote_secreted: f64,
    /// Lost at remote sites (local degradation, and what absorption did not bring to plasma).
    pub remote_lost: f64,
}

/// Whole-body balance of one species, relative to the largest amount involved: heart tissue,
/// plasma and remote sites together, `initial + secreted − removed − now`.
pub fn body_closure(heart: &SpeciesLedger, plasma: &PlasmaLedger, initial_total: f64) -> f64 {
    let now = heart.in_tissue + plasma.in_plasma + plasma.at_remote_sites;
    let gained = heart.secreted + plasma.remote_secreted;
    let removed = heart.degraded + heart.taken_up + plasma.cleared + plasma.remote_lost;
    let residual = initial_total + gained - removed - now;
    let scale = [initial_total, gained, removed, now]
        .into_iter()
        .fold(f64::MIN_POSITIVE, f64::max);
    residual / scale
}
