//! Rust twins of the structs in `shaders/common.wgsl` and `shaders/reduce.wgsl`.
//!
//! Same names, field order and padding as the WGSL; `tests/integration/shader_layout.rs` compares the
//! offsets naga computes for the WGSL with `std::mem::offset_of!` here.

use bytemuck::{Pod, Zeroable};

use crate::problem::Terms;

/// Kinetics of four species, one per vector lane (twin of WGSL `SpeciesPack`). Species
/// 4k..4k+3 form pack k; lanes past the last species are inert (zero rates, K = 1).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct SpeciesPack {
    /// D, mm²/s.
    pub diffusion: [f32; 4],
    /// k, 1/s.
    pub decay: [f32; 4],
    /// V, ng/mL/s.
    pub vmax: [f32; 4],
    /// K, ng/mL.
    pub km: [f32; 4],
    /// P, 1/s.
    pub permeability: [f32; 4],
    /// EC50 of the exposure readouts, ng/mL.
    pub ec50: [f32; 4],
    /// K_d of the occupancy readout, ng/mL.
    pub kd: [f32; 4],
}

/// Number of species packed in one vector lane group.
pub const PACK: usize = 4;

/// Packs needed for `n_species`.
pub fn packs(n_species: usize) -> usize {
    n_species.div_ceil(PACK)
}

/// Per-label multipliers, transport kind and interstitial fraction (twin of WGSL
/// `LabelParams`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct LabelParams {
    pub m_diffusion: f32,
    pub m_uptake: f32,
    pub m_perfusion: f32,
    /// [`crate::base::LabelKind`] as u32.
    pub kind: u32,
    /// Interstitial volume fraction ε (mL interstitium per mL tissue).
    pub volume_fraction: f32,
    /// Face conductance multiplier ε·m_D.
    pub conductance: f32,
    pub _pad0: f32,
    pub _pad1: f32,
}

/// The label table (twin of WGSL `LabelTable`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct LabelTableGpu {
    pub entries: [LabelParams; 8],
}

/// One slab of the brick grid (twin of WGSL `SlabInfo`): a range of brick layers whose
/// bricks one set of buffers holds, with one ghost layer on either side.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct SlabInfo {
    /// The grid's voxels along x, y, z.
    pub nx: u32,
    pub ny: u32,
    pub nz: u32,
    pub n_packs: u32,
    /// Slab-local slot of the first own brick (the ghost bricks below come first).
    pub first_brick: u32,
    /// Own bricks (stepped by this slab's dispatches).
    pub n_bricks: u32,
    /// Workgroups per pack: each walks an equal run of consecutive own bricks.
    pub groups: u32,
    /// First ledger slot of this slab, in workgroups.
    pub slot_offset: u32,
    /// Ledger slots per workgroup: one per subgroup, 1 with the workgroup tree reduction.
    pub sub_slots: u32,
    /// 1/h², 1/mm².
    pub inv_h2: f32,
    /// Voxel volume, mL.
    pub voxel_ml: f32,
    /// Bricks along x, and in one brick layer (x times y): slot strides of a grid whose bricks
    /// are all stored.
    pub bricks_x: u32,
    pub bricks_xy: u32,
    /// Volume of one of its voxels in the problem's coarse voxels (8^−level), the weight of
    /// its voxels in the regional statistics of a refined problem.
    pub weight: f32,
    pub _pad1: u32,
    pub _pad2: u32,
}

/// One stored brick of 4 × 4 × 4 voxels (twin of WGSL `Brick`): where its tissue voxels lie in
/// the slab's buffers and which bricks touch its faces.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct Brick {
    /// Slab-local index of the brick's first tissue voxel; the others follow in local order
    /// (x fastest), so voxel l is at `base` + the tissue voxels of the mask below l.
    pub base: u32,
    /// Which of the 64 voxels (l = x + 4 y + 16 z within the brick) are tissue: bits 0-31, 32-63.
    pub mask_lo: u32,
    pub mask_hi: u32,
    /// First source entry of the brick's voxels (their words hold the offset from it).
    pub source_base: u32,
    /// Brick coordinates: bits 0-10 x, 11-21 y, 22-31 z.
    pub origin: u32,
    /// Slab-local slots of the bricks across the faces x−, x+, y−, y+, z−, z+
    /// (`NO_BRICK` where that brick holds no tissue or lies beyond the slab's ghosts).
    pub neighbours: [u32; 6],
    /// Byte z: the brick's tissue voxels below its plane z (byte 0 is 0), so that voxel
    /// l = x + 4 y + 16 z is at `base + byte z + (tissue voxels of plane z before x + 4 y)`.
    pub planes: u32,
}

/// Coefficients of one dispatch (twin of WGSL `StageParams`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct StageParams {
    /// RKL1 weight of `Y_{j−2}`; that of `Y_{j−1}` is `1 − nu` (the stage computes
    /// `Y_{j−1} + nu (Y_{j−2} − Y_{j−1})`, so the weights' rounding moves no mass).
    pub nu: f32,
    /// s.
    pub mu_tilde_dt: f32,
    /// s.
    pub beta_dt: f32,
    /// Reaction half-step, s.
    pub tau: f32,
    pub flags: u32,
    pub terms: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// Final ledger reduction extent (twin of WGSL `ReduceInfo`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct ReduceInfo {
    pub slots: u32,
    pub entries: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// Where one slab's depot voxels are (twin of WGSL `DepotSlabInfo`, depot_sample.wgsl).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct DepotSlabInfo {
    pub n_packs: u32,
    pub slab: u32,
    pub n_depots: u32,
    pub _pad0: u32,
}

/// Autocrine survival parameters (twin of WGSL `DepotInfo`, depot_update.wgsl).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct DepotInfo {
    pub n_depots: u32,
    pub n_packs: u32,
    pub n_slabs: u32,
    /// 1: feedback on.
    pub enabled: u32,
    /// Largest protection a_max (0..1).
    pub a_max: f32,
    /// K_auto, ng/mL.
    pub k_half: f32,
    /// Hill exponent n.
    pub hill: f32,
    /// Time step, s.
    pub dt: f32,
    /// Index (in f32 words) of source group 0's scale in the compartments buffer; depot d's
    /// cell count is at `scale_offset + d + 1`.
    pub scale_offset: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

/// One depot's live cells on the GPU (twin of WGSL `DepotCells`, depot_update.wgsl):
/// `N = n0 · exp(−(log_sum − log_comp))`, the exponent summed with compensation since the host
/// last set the cells.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct DepotCells {
    /// Cells when last set by the host.
    pub n0: f32,
    /// Death rate without protection, 1/s.
    pub k_death: f32,
    /// `Σ k_death (1 − f) dt` since then (Kahan sum), dimensionless.
    pub log_sum: f32,
    /// Its compensation.
    pub log_comp: f32,
}

/// What the tissue kernels read of plasma in one step, one pack of species (twin of WGSL
/// `PlasmaCourse`, plasma_update.wgsl; the grid kernels read it through `plasma(k, PC_*)` in
/// common.wgsl). All ng/mL. The plasma kernel writes it after each step from its prediction of
/// the coming step, so that the tissue sees the plasma of its own step (MODEL.md §4).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct PlasmaCourse {
    /// Plasma now (at the end of the last step).
    pub now: [f32; 4],
    /// Mean over the coming step (the diffusion stages' blood faces).
    pub step_mean: [f32; 4],
    /// Predicted at the coming step's end (reported with the course; blood voxels, not
    /// stored, hold `now`).
    pub step_end: [f32; 4],
    /// Mean over its first half (the leading reaction half-step).
    pub lead: [f32; 4],
    /// Mean over its second half (the trailing reaction half-step).
    pub trail: [f32; 4],
    /// Mean over the first half of the step after (its leading half-step, fused into this
    /// step's last stage).
    pub next: [f32; 4],
}

impl PlasmaCourse {
    /// Plasma that stays at `c` (a fixed plasma, or the values a host just set).
    pub fn constant(c: [f32; 4]) -> Self {
        PlasmaCourse {
            now: c,
            step_mean: c,
            step_end: c,
            lead: c,
            trail: c,
            next: c,
        }
    }
}

/// A running sum and its compensation, per lane (twin of WGSL `KahanSum`,
/// plasma_update.wgsl): the total is `sum − comp`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct KahanSum {
    pub sum: [f32; 4],
    pub comp: [f32; 4],
}

impl KahanSum {
    /// The total of lane `lane`.
    pub fn total(&self, lane: usize) -> f64 {
        self.sum[lane] as f64 - self.comp[lane] as f64
    }
}

/// The plasma kernel's running totals for one pack of species, ng (twin of WGSL
/// `PlasmaTotals`, plasma_update.wgsl).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct PlasmaTotals {
    /// The heart's net exchange with plasma at the last step (the ledger's total).
    pub heart_exchange: [f32; 4],
    /// Cleared from plasma.
    pub cleared: KahanSum,
    /// Absorbed into plasma from the remote sites.
    pub absorbed: KahanSum,
    /// Secreted at the remote sites.
    pub remote_secreted: KahanSum,
    /// Lost at the remote sites (local degradation).
    pub remote_lost: KahanSum,
    /// The heart's inflow over the last step, ng/s (for the prediction of the next).
    pub inflow: [f32; 4],
}

/// One pack of species at a remote site (twin of WGSL `RemotePack`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct RemotePack {
    /// Amount at the site, ng.
    pub amount: [f32; 4],
    /// Secretion per cell, ng/cell/s.
    pub secretion: [f32; 4],
    /// Local loss rate, 1/s.
    pub k_local: [f32; 4],
}

/// One remote site: cells in the lungs, a muscle or the skin that feed plasma (twin of WGSL
/// `RemoteSite`, plasma_update.wgsl). `cells = n0 · exp(−(log_sum − log_comp))`, the exponent
/// summed with compensation since the host last set the cells (as `DepotCells`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct RemoteSite {
    pub cells: f32,
    /// Death rate without protection, 1/s.
    pub k_death: f32,
    /// Absorption into plasma, 1/s.
    pub k_abs: f32,
    /// Fraction of what is absorbed that reaches systemic plasma.
    pub bioavailability: f32,
    /// The site's volume, mL (its concentration drives the cells' autocrine protection).
    pub volume_ml: f32,
    pub n0: f32,
    pub log_sum: f32,
    pub log_comp: f32,
    /// Per pack of species; packs past the problem's are unused.
    pub packs: [RemotePack; consts::MAX_PACKS],
}

/// Plasma compartment parameters (twin of WGSL `PlasmaInfo`, plasma_update.wgsl).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct PlasmaInfo {
    pub n_packs: u32,
    pub n_remote: u32,
    /// 1: remote depots' cells read their own factors.
    pub autocrine: u32,
    pub _pad0: u32,
    /// Time step, s.
    pub dt: f32,
    /// Plasma volume, mL.
    pub volume_ml: f32,
    pub a_max: f32,
    /// K_auto, ng/mL.
    pub k_half: f32,
    pub hill: f32,
    pub _pad1: f32,
    pub _pad2: f32,
    pub _pad3: f32,
}

/// Constants mirrored from `common.wgsl` (checked by `tests/integration/shader_layout.rs`).
pub mod consts {
    pub const TERM_DIFFUSION: u32 = 1;
    pub const TERM_DECAY: u32 = 2;
    pub const TERM_UPTAKE: u32 = 4;
    pub const TERM_EXCHANGE: u32 = 8;
    pub const TERM_SOURCES: u32 = 16;
    pub const FLAG_HAS_OLD: u32 = 1;
    pub const FLAG_REACT: u32 = 2;
    pub const LEDGER_TERMS: u32 = 6;
    pub const LABEL_MASK: u32 = 7;
    pub const FACE_SHIFT: u32 = 3;
    /// Face codes, two bits per face from FACE_SHIFT: tissue, closed, or the blood label + 1.
    pub const FACE_TISSUE: u32 = 0;
    pub const FACE_CLOSED: u32 = 1;
    pub const FLAG_SIMPLE: u32 = 1 << 15;
    pub const FLAG_UNIT: u32 = 1 << 16;
    pub const SLOT_SHIFT: u32 = 17;
    /// Voxels along each edge of a brick.
    pub const BRICK: usize = 4;
    /// Diffusion work units (bricks, or brick columns when every brick is full) that one pass
    /// of a workgroup's 64 invocations covers, 16 invocations each (`GROUP_BRICKS` in
    /// diffuse.wgsl).
    pub const GROUP_UNITS: usize = 4;
    /// A brick slot that holds nothing.
    pub const NO_BRICK: u32 = u32::MAX;
    pub const FLAG_REACT_TWICE: u32 = 4;
    /// A reaction half-step that is a step's trailing one (its own pass, on refined problems).
    pub const FLAG_TRAIL: u32 = 8;
    pub const L_SECRETED: usize = 0;
    pub const L_DEGRADED: usize = 1;
    pub const L_UPTAKE: usize = 2;
    pub const L_CAPILLARY: usize = 3;
    pub const L_BLOOD: usize = 4;
    pub const L_AMOUNT: usize = 5;
    /// Packs of four species the plasma kernel holds (32 species; `MAX_PACKS` in
    /// plasma_update.wgsl).
    pub const MAX_PACKS: usize = 8;
}

/// The bit mask of the terms that run, as the kernels read it (`TERM_*` in common.wgsl).
pub fn term_bits(terms: Terms) -> u32 {
    let mut b = 0;
    if terms.diffusion {
        b |= consts::TERM_DIFFUSION;
    }
    if terms.decay {
        b |= consts::TERM_DECAY;
    }
    if terms.uptake {
        b |= consts::TERM_UPTAKE;
    }
    if terms.exchange {
        b |= consts::TERM_EXCHANGE;
    }
    if terms.sources {
        b |= consts::TERM_SOURCES;
    }
    b
}

/// The viewer's field copy, one slab (twin of WGSL `ExtractInfo`, `view_extract.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct ExtractInfo {
    /// Slab-local slot of the slab's first own brick and its own bricks.
    pub first_brick: u32,
    pub n_bricks: u32,
    pub n_packs: u32,
    pub species: u32,
    /// On a refined problem, a slab of level l > 0: its level grid's corner in that level's
    /// voxels from the problem's corner, and l (w); zeros for level 0.
    pub level: [u32; 4],
    /// The fine texture's texel of the level grid's first voxel, and texels per voxel edge
    /// (w; 0: no fine texture).
    pub fine: [i32; 4],
}

/// The viewer's camera, clipping plane, grid and colour scale (twin of WGSL `ViewUniform`,
/// `view_render.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct ViewUniform {
    /// Column-major world (mm) → clip matrix.
    pub view_proj: [[f32; 4]; 4],
    /// Plane `n·p + w = 0`; `n·p + w > 0` is cut away while clipping is on.
    pub clip: [f32; 4],
    /// Grid corner (mm) and voxel edge (mm).
    pub origin: [f32; 4],
    /// Unit direction towards the light and the ambient share.
    pub light: [f32; 4],
    /// Colour range (ng/mL, or log10 of it), log scale (1/0), unused.
    pub range: [f32; 4],
    /// nx, ny, nz and flags (bit 0: region outlines on the slice).
    pub dims: [u32; 4],
    /// A refined problem's fine texture: corner (mm) and texel edge (mm; 0: none).
    pub fine_origin: [f32; 4],
    /// Its texels along x, y, z, unused.
    pub fine_dims: [u32; 4],
}

/// Where one slab's part of the faces between levels lies in its plan (twin of WGSL
/// `LevelSlabInfo`, `levels.wgsl`): counts and word offsets of each section.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable, PartialEq)]
pub struct LevelSlabInfo {
    /// Stencil voxels this slab owns and copies into the table.
    pub n_gather: u32,
    /// Its voxels that meet a face between levels.
    pub n_receivers: u32,
    pub gather_at: u32,
    pub receivers_at: u32,
    pub rfaces_at: u32,
    pub faces_at: u32,
    pub stencil_at: u32,
    pub _pad0: u32,
}

/// Every twin with its WGSL name and size, for the layout test.
pub fn twins() -> Vec<(&'static str, usize)> {
    vec![
        ("SpeciesPack", std::mem::size_of::<SpeciesPack>()),
        ("LabelParams", std::mem::size_of::<LabelParams>()),
        ("LabelTable", std::mem::size_of::<LabelTableGpu>()),
        ("SlabInfo", std::mem::size_of::<SlabInfo>()),
        ("Brick", std::mem::size_of::<Brick>()),
        ("StageParams", std::mem::size_of::<StageParams>()),
        ("ReduceInfo", std::mem::size_of::<ReduceInfo>()),
        ("DepotSlabInfo", std::mem::size_of::<DepotSlabInfo>()),
        ("DepotInfo", std::mem::size_of::<DepotInfo>()),
        ("DepotCells", std::mem::size_of::<DepotCells>()),
        ("PlasmaInfo", std::mem::size_of::<PlasmaInfo>()),
        ("PlasmaCourse", std::mem::size_of::<PlasmaCourse>()),
        ("KahanSum", std::mem::size_of::<KahanSum>()),
        ("PlasmaTotals", std::mem::size_of::<PlasmaTotals>()),
        ("RemotePack", std::mem::size_of::<RemotePack>()),
        ("RemoteSite", std::mem::size_of::<RemoteSite>()),
        ("ExtractInfo", std::mem::size_of::<ExtractInfo>()),
        ("ViewUniform", std::mem::size_of::<ViewUniform>()),
        ("LevelSlabInfo", std::mem::size_of::<LevelSlabInfo>()),
    ]
}
