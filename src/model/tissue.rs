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

/// Per-label multipliers of diffusion `m_D`, uptake `m_U` and perfusion `m_P` (dimensionless).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelMultipliers {
    pub diffusion: f64,
    pub uptake: f64,
    pub perfusion: f64,
}

/// Multipliers for every label (MODEL.md §2 defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct LabelTable {
    pub entries: [LabelMultipliers; TissueLabel::COUNT],
}

impl Default for LabelTable {
    fn default() -> Self {
        let one = LabelMultipliers {
            diffusion: 1.0,
            uptake: 1.0,
            perfusion: 1.0,
        };
        let mut entries = [LabelMultipliers {
            diffusion: 0.0,
            uptake: 0.0,
            perfusion: 0.0,
        }; TissueLabel::COUNT];
        // Blood pools conduct like tissue at their faces (their value is the plasma's).
        entries[TissueLabel::BloodLv as usize] = one;
        entries[TissueLabel::BloodRv as usize] = one;
        entries[TissueLabel::Myocardium as usize] = one;
        entries[TissueLabel::BorderZone as usize] = LabelMultipliers {
            diffusion: 1.0,
            uptake: 0.5,
            perfusion: 0.5,
        };
        entries[TissueLabel::Infarct as usize] = LabelMultipliers {
            diffusion: 1.2,
            uptake: 0.1,
            perfusion: 0.1,
        };
        LabelTable { entries }
    }
}

impl LabelTable {
    pub fn get(&self, label: TissueLabel) -> LabelMultipliers {
        self.entries[label as usize]
    }

    pub fn set(&mut self, label: TissueLabel, m: LabelMultipliers) {
        self.entries[label as usize] = m;
    }

    /// Face diffusivity multiplier between two labels: harmonic mean of `m_D`, zero next to
    /// `outside`.
    pub fn face(&self, a: TissueLabel, b: TissueLabel) -> f64 {
        if a.kind() == LabelKind::Outside || b.kind() == LabelKind::Outside {
            return 0.0;
        }
        harmonic_mean(self.get(a).diffusion, self.get(b).diffusion)
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
