// ledger.wgsl — the mass ledger's terms, shared by the grid kernels (through common.wgsl) and
// the plasma kernel, which import it.
//
// Ledger terms per (slot, pack), each a Kahan pair (sum, compensation) of vec4.
const LEDGER_TERMS: u32 = 6u;
const L_SECRETED: u32 = 0u;
const L_DEGRADED: u32 = 1u;
const L_UPTAKE: u32 = 2u;
const L_CAPILLARY: u32 = 3u;  // tissue -> plasma through capillaries
const L_BLOOD: u32 = 4u;      // tissue -> blood pools through faces
const L_AMOUNT: u32 = 5u;     // amount present (overwritten by the mass kernel)
