//! The defaults of the delivery routes, each with its source: how long injected cells live,
//! where infused cells go, how fast remote sites feed the plasma. A scenario may override each.

const DAY: f64 = 86400.0;
const HOUR: f64 = 3600.0;

/// Death rate of MSCs in the heart without protection, 1/s (half-life 3 d).
pub const K_DEATH_HEART: f64 = std::f64::consts::LN_2 / (3.0 * DAY);
/// Death rate of lung-trapped MSCs, 1/s (half-life 24 h; Lee, Cell Stem Cell 2009).
pub const K_DEATH_LUNG: f64 = std::f64::consts::LN_2 / (24.0 * HOUR);
/// Fraction of intravenously infused MSCs trapped in the lungs (A: "most" hMSCs embolise in
/// mouse lung, Lee, Cell Stem Cell 2009; majority at 1 h, Eggenhofer, Front Immunol 2012;
/// Fischer, Stem Cells Dev 2009; range 0.5–0.95; 0.55 for cardiosphere-derived cells in rat,
/// Bonios, J Nucl Cardiol 2011).
pub const IV_LUNG_FRACTION: f64 = 0.8;
/// Fraction of intravenously infused MSCs that lodge in the (infarcted) heart (A/M: < 0.05 % of
/// hMSCs in six other tissues of the mouse, Lee 2009; 0.8 % for cardiosphere-derived cells in
/// rat, Bonios 2011; range 0.01–2 %).
pub const IV_HEART_FRACTION: f64 = 0.002;
/// Absorption of lung-trapped cells' factors into plasma, 1/s (M: half-time 10 min; the cells
/// sit inside pulmonary capillaries and release into the blood, Masterson, Sci Rep 2021; the
/// interstitial/lymph route takes 30–45 min; range 1–60 min).
pub const K_ABS_LUNG: f64 = std::f64::consts::LN_2 / (10.0 * 60.0);
/// Fraction of what lung-trapped cells release that reaches systemic plasma (M: the lung
/// extracts < 10 % of circulating HGF per pass, Kato, JPET 1999; range 0.5–1).
pub const F_LUNG: f64 = 0.9;
/// Default absorption of an intramuscular depot, 1/s (half-time 6 h).
pub const K_ABS_MUSCLE: f64 = std::f64::consts::LN_2 / (6.0 * HOUR);
/// Default absorption of a subcutaneous depot, 1/s (half-time 3 h: T_max 2–4 h for HGF in rat).
pub const K_ABS_SKIN: f64 = std::f64::consts::LN_2 / (3.0 * HOUR);
