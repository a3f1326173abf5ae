//! Tissue labels (MODEL.md §1) and their per-label transport multipliers.

/// What a voxel is made of. The numeric value is what the GPU stores in the low byte of a
/// voxel word, so it must stay below [`TissueLabel::COUNT`].
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TissueLabel {
    /// Pericardial space / air: no transport, zero-flux boundary.
    Outside = 0,
    /// Left-ventricular blood pool: concentration held at plasma value.
    BloodLv = 1,
    /// Right-ventricular blood pool: concentration held at plasma value.
    BloodRv = 2,
    /// Remote, healthy myocardium.
    Myocardium = 3,
    /// Peri-infarct band: hypoxic, reduced perfusion.
    BorderZone = 4,
    /// Necrotic core: little perfusion, few live cells.
    Infarct = 5,
}

/// How a label takes part in transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum LabelKind {
    /// No transport; faces towards it carry no flux.
    Outside = 0,
    /// Well mixed with plasma (Dirichlet `c = C_p`).
    Blood = 1,
    /// Full reaction–diffusion.
    Tissue = 2,
}

impl TissueLabel {
    /// Number of label slots the GPU label table holds.
    pub const COUNT: usize = 8;
    pub const ALL: [TissueLabel; 6] = [
        TissueLabel::Outside,
        TissueLabel::BloodLv,
        TissueLabel::BloodRv,
        TissueLabel::Myocardium,
        TissueLabel::BorderZone,
        TissueLabel::Infarct,
    ];

    pub fn kind(self) -> LabelKind {
        match self {
            TissueLabel::Outside => LabelKind::Outside,
            TissueLabel::BloodLv | TissueLabel::BloodRv => LabelKind::Blood,
            _ => LabelKind::Tissue,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TissueLabel::Outside => "outside",
            TissueLabel::BloodLv => "blood_lv",
            TissueLabel::BloodRv => "blood_rv",
            TissueLabel::Myocardium => "myocardium",
            TissueLabel::BorderZone => "border_zone",
            TissueLabel::Infarct => "infarct",
        }
    }

    pub fn from_u8(v: u8) -> Option<TissueLabel> {
        TissueLabel::ALL.get(v as usize).copied()
    }

    pub fn from_name(name: &str) -> Option<TissueLabel> {
        TissueLabel::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Whether the voxel carries full reaction–diffusion.
    pub fn is_tissue(self) -> bool {
        self.kind() == LabelKind::Tissue
    }
}

/// Per-label transport properties (MODEL.md §1–2): the multipliers of diffusion `m_D`, uptake
/// `m_U` and perfusion `m_P` (dimensionless), and the interstitial volume fraction `ε`: the
/// share of a voxel's volume that the factors move in (mL of interstitial fluid per mL of
/// tissue). Concentrations, `V`, `K`, `P` and the EC50s are per interstitial volume; a voxel of
/// volume `ΔV` holds `ε·c·ΔV` ng.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelProperties {
    pub diffusion: f64,
    pub uptake: f64,
    pub perfusion: f64,
    /// Interstitial volume fraction ε, 0 < ε ≤ 1 (mL interstitium / mL tissue).
    pub volume_fraction: f64,
}

impl LabelProperties {
    /// The face conductance multiplier `ε·m_D`: diffusion moves through the interstitium only,
    /// so a face carries `D·ε·m_D·Δc/h` per unit area.
    pub fn conductance(&self) -> f64 {
        self.volume_fraction * self.diffusion
    }
}

/// Interstitial volume fraction of remote myocardium: cardiac MRI extracellular volume 25.6 %
/// (meta-analysis of 1851 healthy subjects, Sardanelli, Eur Radiol 2019) minus the intravascular
/// plasma, myocardial blood volume ≈ 9 % (Nickander, JCMR 2019) × (1 − haematocrit 0.42) ≈ 5 %.
pub const EPS_MYOCARDIUM: f64 = 0.21;
/// Interstitial volume fraction of the border zone: oedematous peri-infarct tissue, between
/// remote myocardium and the core (ECV of oedematous, LGE-negative segments above remote in
/// acute STEMI, Garg, JCMR 2017); no zone value is measured directly.
pub const EPS_BORDER_ZONE: f64 = 0.30;
/// Interstitial volume fraction of the infarct core in the first week: acute-MI ECV ≈ 50–60 %
/// (pig day 6: +125 % over baseline, JCMR 2021; human STEMI 45–65 %), little plasma left in
/// the obstructed microvasculature; MODEL.md §2: 0.4–0.5.
pub const EPS_INFARCT: f64 = 0.45;
/// The blood pools' accessible fraction at their faces: plasma, 1 − haematocrit 0.42.
pub const EPS_BLOOD: f64 = 0.58;

/// Where each default of [`LabelTable::default`] comes from, per label (`None` for `outside`):
/// (multipliers, interstitial fraction), with MODEL.md's confidence codes.
pub fn default_sources(label: TissueLabel) -> Option<(&'static str, &'static str)> {
    let multipliers = "M: MODEL.md §2 defaults (scar has few live cells and little flow)";
    match label {
        TissueLabel::Outside => None,
        TissueLabel::BloodLv | TissueLabel::BloodRv => Some((
            "M: blood pools conduct like tissue at their faces",
            "H: plasma share of blood, 1 − haematocrit 0.42",
        )),
        TissueLabel::Myocardium => Some((
            multipliers,
            "H/M: CMR extracellular volume 25.6 % (Sardanelli, Eur Radiol 2019, 1851 healthy subjects) minus intravascular plasma ≈ 5 % (blood volume 9 %, Nickander, JCMR 2019, × 0.58)",
        )),
        TissueLabel::BorderZone => Some((
            multipliers,
            "M: between remote and core; oedematous peri-infarct segments have raised ECV (Garg, JCMR 2017); range 0.25–0.38",
        )),
        TissueLabel::Infarct => Some((
            multipliers,
            "A/H: acute-infarct ECV 50–60 % in the first week (pig day 6 +125 % over baseline, JCMR 2021; human STEMI 45–65 %) less obstructed plasma; MODEL.md §2 0.4–0.5",
        )),
    }
}

/// Properties of every label (MODEL.md §2 defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct LabelTable {
    pub entries: [LabelProperties; TissueLabel::COUNT],
}

impl Default for LabelTable {
    fn default() -> Self {
        let with =
            |diffusion: f64, uptake: f64, perfusion: f64, volume_fraction: f64| LabelProperties {
                diffusion,
                uptake,
                perfusion,
                volume_fraction,
            };
        // `outside` carries nothing; its fraction is never used.
        let mut entries = [with(0.0, 0.0, 0.0, 1.0); TissueLabel::COUNT];
        // Blood pools conduct like tissue at their faces (their value is the plasma's).
        entries[TissueLabel::BloodLv as usize] = with(1.0, 1.0, 1.0, EPS_BLOOD);
        entries[TissueLabel::BloodRv as usize] = with(1.0, 1.0, 1.0, EPS_BLOOD);
        entries[TissueLabel::Myocardium as usize] = with(1.0, 1.0, 1.0, EPS_MYOCARDIUM);
        entries[TissueLabel::BorderZone as usize] = with(1.0, 0.5, 0.5, EPS_BORDER_ZONE);
        entries[TissueLabel::Infarct as usize] = with(1.2, 0.1, 0.1, EPS_INFARCT);
        LabelTable { entries }
    }
}

impl LabelTable {
    pub fn get(&self, label: TissueLabel) -> LabelProperties {
        self.entries[label as usize]
    }

    pub fn set(&mut self, label: TissueLabel, m: LabelProperties) {
        self.entries[label as usize] = m;
    }

    /// Face conductance multiplier between two labels: the harmonic mean of `ε·m_D`, zero next
    /// to `outside`. The flux `D·g·(c_b − c_a)/h²` per unit volume of tissue enters `a`'s
    /// concentration divided by its own `ε`, so what one side loses the other gains.
    pub fn face(&self, a: TissueLabel, b: TissueLabel) -> f64 {
        if a.kind() == LabelKind::Outside || b.kind() == LabelKind::Outside {
            return 0.0;
        }
        harmonic_mean(self.get(a).conductance(), self.get(b).conductance())
    }
}

/// `2ab/(a+b)`, zero when both are zero.
pub fn harmonic_mean(a: f64, b: f64) -> f64 {
    if a + b > 0.0 {
        2.0 * a * b / (a + b)
    } else {
        0.0
    }
}

/// Segments of the AHA 17-segment model of the left ventricle (Cerqueira 2002), numbered 1–17.
pub const AHA_SEGMENTS: u8 = 17;
