//! Time stepping: Strang splitting of reactions and diffusion, RKL1 super-time-stepping for
//! diffusion (Meyer, Balsara & Aslam, J Comput Phys 2014).
//!
//! One step of length `dt`: react `dt/2`, diffuse `dt` with `s` RKL1 stages, react `dt/2`.
//! RKL1 with `s` stages is stable for `dt ≤ dt_FE · (s² + s)/2`, where `dt_FE` is the forward
//! Euler limit; the stage count is chosen per step so any `dt` a user asks for is stable.
//! Using only [`SAFETY`] of the stability interval keeps the stiffest modes damped.

/// Fraction of the RKL1 stability interval used.
pub const SAFETY: f64 = 0.9;

/// The stages of one diffusion step.
#[derive(Clone, Debug, PartialEq)]
pub struct StagePlan {
    /// Step length, s.
    pub dt: f64,
    /// `mu_j`, `nu_j`, `mu~_j · dt` for stages j = 1..=s (index j-1).
    pub mu: Vec<f64>,
    pub nu: Vec<f64>,
    pub mu_tilde_dt: Vec<f64>,
    /// `beta_i · dt`: the weight of `L(Y_i)` (i = 0..s-1) in `Y_s − Y_0 = Σ beta_i dt L(Y_i)`.
    /// Stage j evaluates `L(Y_{j-1})`, so its boundary flux counts with `beta_{j-1} dt`.
    pub beta_dt: Vec<f64>,
}

impl StagePlan {
    pub fn stages(&self) -> usize {
        self.mu.len()
    }

    /// The RKL1 stages for a step `dt` given the forward-Euler limit `dt_fe` (∞ when there is
    /// no diffusion).
    pub fn new(dt: f64, dt_fe: f64) -> Self {
        let s = stage_count(dt, dt_fe);
        Self::with_stages(dt, s)
    }

    /// RKL1 coefficients for exactly `s` stages.
    pub fn with_stages(dt: f64, s: usize) -> Self {
        let s = s.max(1);
        let sf = s as f64;
        let w = 2.0 / (sf * sf + sf);
        let mut mu = Vec::with_capacity(s);
        let mut nu = Vec::with_capacity(s);
        let mut mt = Vec::with_capacity(s);
        for j in 1..=s {
            let jf = j as f64;
            if j == 1 {
                mu.push(1.0);
                nu.push(0.0);
                mt.push(w * dt);
            } else {
                mu.push((2.0 * jf - 1.0) / jf);
                nu.push((1.0 - jf) / jf);
                mt.push((2.0 * jf - 1.0) / jf * w * dt);
            }
        }
        // Unroll Y_j = Y_0 + Σ_i a[j][i] dt L(Y_i).
        let mut a = vec![vec![0.0f64; s]; s + 1];
        for j in 1..=s {
            let prev = a[j - 1].clone();
            let prev2 = if j >= 2 {
                a[j - 2].clone()
            } else {
                vec![0.0; s]
            };
            for (i, v) in a[j].iter_mut().enumerate() {
                *v = mu[j - 1] * prev[i] + nu[j - 1] * prev2[i];
            }
            a[j][j - 1] += mt[j - 1] / dt.max(f64::MIN_POSITIVE);
        }
        let beta_dt = a[s].iter().map(|b| b * dt).collect();
        StagePlan {
            dt,
            mu,
            nu,
            mu_tilde_dt: mt,
            beta_dt,
        }
    }
}

/// Smallest stage count `s` with `dt ≤ SAFETY · dt_fe · (s² + s)/2`.
pub fn stage_count(dt: f64, dt_fe: f64) -> usize {
    if !dt_fe.is_finite() || dt <= 0.0 {
        return 1;
    }
    let need = dt / (SAFETY * dt_fe);
    let mut s = ((-1.0 + (1.0 + 8.0 * need).sqrt()) / 2.0).ceil().max(1.0) as usize;
    while (s * s + s) as f64 / 2.0 < need {
        s += 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Legendre polynomial P_s(x) by its recurrence.
    fn legendre(s: usize, x: f64) -> f64 {
        let (mut p0, mut p1) = (1.0, x);
        if s == 0 {
            return 1.0;
        }
        for j in 2..=s {
            let jf = j as f64;
            let p2 = ((2.0 * jf - 1.0) * x * p1 - (jf - 1.0) * p0) / jf;
            p0 = p1;
            p1 = p2;
        }
        p1
    }

    #[test]
    fn weights_are_consistent_and_match_the_stability_polynomial() {
        for s in 1..40 {
            let plan = StagePlan::with_stages(2.0, s);
            // Consistency: Σ beta = 1 (tolerance: round-off of the recurrence).
            let sum: f64 = plan.beta_dt.iter().sum::<f64>() / 2.0;
            assert!((sum - 1.0).abs() < 1e-12, "s={s}: Σβ={sum}");
            // On a scalar mode L = λ, the stages give P_s(1 + 2 λ dt/(s²+s)).
            for &ldt in &[-0.1, -1.0, -((s * s + s) as f64) * 0.9] {
                let lambda = ldt / plan.dt;
                let (mut y_prev2, mut y_prev) = (0.0, 1.0);
                for j in 0..s {
                    let y = plan.mu[j] * y_prev
                        + plan.nu[j] * y_prev2
                        + plan.mu_tilde_dt[j] * lambda * y_prev;
                    y_prev2 = y_prev;
                    y_prev = y;
                }
                let x = 1.0 + 2.0 * ldt / ((s * s + s) as f64);
                assert!((y_prev - legendre(s, x)).abs() < 1e-9, "s={s} λdt={ldt}");
                assert!(y_prev.abs() <= 1.0 + 1e-12);
            }
        }
    }

    #[test]
    fn stage_count_covers_the_step() {
        assert_eq!(stage_count(0.5, 1.0), 1);
        for &r in &[0.9, 1.0, 5.0, 100.0, 1e4] {
            let s = stage_count(r, 1.0) as f64;
            assert!(SAFETY * (s * s + s) / 2.0 >= r);
            let s1 = s - 1.0;
            assert!(s1 < 1.0 || SAFETY * (s1 * s1 + s1) / 2.0 < r);
        }
    }
}
