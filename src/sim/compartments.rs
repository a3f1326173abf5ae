//! What the solvers hold besides the fields: the plasma as the tissue reads it over a step,
//! every depot's cells and sampled concentration, and every remote site. Both solvers report
//! it ([`crate::sim::Simulation::compartments`], [`crate::sim::CpuReference::compartments`]) so
//! that tests can compare them slot by slot.

/// The plasma's course over the coming step, one species, ng/mL (the f64 twin of
/// [`crate::gpu::layout::PlasmaCourse`]; see `plasma_update.wgsl`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PlasmaSteps {
    /// Plasma now (at the end of the last step).
    pub now: f64,
    /// Mean over the coming step (the diffusion stages' blood faces).
    pub step_mean: f64,
    /// At the coming step's end (blood voxels).
    pub step_end: f64,
    /// Mean over its first half (the leading reaction half-step).
    pub lead: f64,
    /// Mean over its second half (the trailing reaction half-step).
    pub trail: f64,
    /// Mean over the first half of the step after.
    pub next: f64,
}

impl PlasmaSteps {
    /// Names of the entries, in the order of [`PlasmaSteps::values`].
    pub const NAMES: [&'static str; 6] = ["now", "step_mean", "step_end", "lead", "trail", "next"];

    /// Plasma held at `c`.
    pub fn constant(c: f64) -> Self {
        PlasmaSteps {
            now: c,
            step_mean: c,
            step_end: c,
            lead: c,
            trail: c,
            next: c,
        }
    }

    pub fn values(&self) -> [f64; 6] {
        [
            self.now,
            self.step_mean,
            self.step_end,
            self.lead,
            self.trail,
            self.next,
        ]
    }
}

/// Everything in the compartments, per slot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Compartments {
    /// Per species.
    pub plasma: Vec<PlasmaSteps>,
    /// Cells of each depot in the grid.
    pub depot_cells: Vec<f64>,
    /// Mean concentration each depot sampled at the last step, ng/mL (`[depot][species]`;
    /// empty before the first step).
    pub depot_concentrations: Vec<Vec<f64>>,
    /// Cells at each remote site.
    pub remote_cells: Vec<f64>,
    /// Amount of each species at each remote site, ng (`[site][species]`).
    pub remote_amounts: Vec<Vec<f64>>,
}

/// The functions of the plasma course (`plasma_update.wgsl`), in f64.
pub mod course {
    /// `(1 − e^{−x t})/x`, with its limit `t` at `x → 0`.
    pub fn phi(x: f64, t: f64) -> f64 {
        if (x * t).abs() < 1e-12 {
            t
        } else {
            -(-x * t).exp_m1() / x
        }
    }

    /// `(e^{−a s} − e^{−k s})/(k − a)`: plasma's response at `s` to a unit absorption rate
    /// that decays at `a`, cleared at `k`.
    pub fn response(a: f64, k: f64, s: f64) -> f64 {
        let d = k - a;
        let y = 0.5 * d * s;
        if y.abs() < 0.1 {
            let y2 = y * y;
            (-0.5 * (a + k) * s).exp() * s * (1.0 + y2 / 6.0 * (1.0 + y2 / 20.0))
        } else {
            ((-a * s).exp() - (-k * s).exp()) / d
        }
    }

    /// Mean of `f` over `[s0, s0 + h]` by 5-point Gauss–Legendre.
    pub fn mean(f: impl Fn(f64) -> f64, s0: f64, h: f64) -> f64 {
        const X: [f64; 5] = [
            0.0,
            0.538_469_310_105_683_1,
            -0.538_469_310_105_683_1,
            0.906_179_845_938_664,
            -0.906_179_845_938_664,
        ];
        const W: [f64; 5] = [
            0.568_888_888_888_888_9,
            0.478_628_670_499_366_5,
            0.478_628_670_499_366_5,
            0.236_926_885_056_189_1,
            0.236_926_885_056_189_1,
        ];
        0.5 * X
            .iter()
            .zip(W)
            .map(|(x, w)| w * f(s0 + 0.5 * h * (1.0 + x)))
            .sum::<f64>()
    }
}
