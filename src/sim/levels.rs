//! Levels of refinement (issue 17): one species with decay and sources stepped in f64 on a
//! [`Composite`] (`problem::composite`), as the solver steps a uniform grid: Strang splitting of
//! the exact decay around RKL1 super-time-stepping of diffusion, whose stage count the finest
//! level sets. The reference that the problem on levels and its CPU twin are checked against.

pub use crate::problem::composite::{depot_refinement, shell_refinement, Cell, Composite, Face};
use crate::problem::scheme::StagePlan;

/// Diffusion with first-order decay and constant sources on a [`Composite`], in f64.
#[derive(Clone, Debug)]
pub struct LevelSolver {
    pub grid: Composite,
    /// Diffusivity, mm²/s.
    pub diffusion: f64,
    /// Decay rate, 1/s.
    pub decay: f64,
    /// Concentration per cell, ng per mL of the cell (the reference has no volume fraction: the
    /// whole cell is the medium).
    pub c: Vec<f64>,
    /// Source per cell, ng per mL of the cell per s.
    pub source: Vec<f64>,
    plan: StagePlan,
    other: Vec<f64>,
    flux: Vec<f64>,
    pub time: f64,
}

impl LevelSolver {
    pub fn new(grid: Composite, diffusion: f64, decay: f64, dt: f64) -> Self {
        let n = grid.cells.len();
        let plan = StagePlan::new(dt, grid.dt_fe(diffusion));
        LevelSolver {
            grid,
            diffusion,
            decay,
            c: vec![0.0; n],
            source: vec![0.0; n],
            plan,
            other: vec![0.0; n],
            flux: vec![0.0; n],
            time: 0.0,
        }
    }

    /// RKL1 stages per step (the finest level's).
    pub fn stages(&self) -> usize {
        self.plan.stages()
    }

    /// Amount in the box, Σ c·V: ng/mL × mm³ (µL), i.e. 1e-3 ng.
    pub fn amount(&self) -> f64 {
        self.c
            .iter()
            .enumerate()
            .map(|(i, c)| c * self.grid.volume(i))
            .sum()
    }

    /// Net diffusive inflow per unit volume of every cell for the field `y`.
    fn laplacian(&mut self, y: &[f64]) {
        self.flux.iter_mut().for_each(|f| *f = 0.0);
        for f in &self.grid.faces {
            // Once per face, into one side and out of the other.
            let q = self.diffusion * f.stencil.iter().map(|&(i, w)| w * y[i]).sum::<f64>();
            self.flux[f.a] += q;
            self.flux[f.b] -= q;
        }
        for i in 0..self.flux.len() {
            self.flux[i] /= self.grid.volume(i);
        }
    }

    /// Advances `steps` steps: decay dt/2, RKL1 diffusion (with the sources) dt, decay dt/2.
    pub fn step(&mut self, steps: usize) {
        let dt = self.plan.dt;
        let half = (-self.decay * 0.5 * dt).exp();
        for _ in 0..steps {
            self.c.iter_mut().for_each(|c| *c *= half);
            let y0 = self.c.clone();
            let mut prev2 = y0.clone();
            let mut prev = y0;
            for j in 0..self.plan.stages() {
                self.laplacian(&prev);
                let (mu, nu, mt) = (self.plan.mu[j], self.plan.nu[j], self.plan.mu_tilde_dt[j]);
                for i in 0..prev.len() {
                    self.other[i] =
                        mu * prev[i] + nu * prev2[i] + mt * (self.flux[i] + self.source[i]);
                }
                prev2 = std::mem::replace(&mut prev, self.other.clone());
            }
            self.c = prev;
            self.c.iter_mut().for_each(|c| *c *= half);
            self.time += dt;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::composite::same_level_neighbour;

    fn centre_box(n: usize, h: f64, half_width: f64) -> impl Fn(u8, [f64; 3]) -> bool {
        let mid = 0.5 * n as f64 * h;
        move |_, p: [f64; 3]| p.iter().all(|&x| (x - mid).abs() < half_width)
    }

    #[test]
    fn a_refined_box_is_balanced_and_its_faces_tile_every_interface() {
        let (n, h) = (8, 1.0);
        // Two levels in a small central box: the balance spreads level 1 around level 2.
        let g = Composite::new([n, n, n], h, 2, |l, p| {
            let r = if l == 0 { 1.0 } else { 0.6 };
            p.iter().all(|&x| (x - 4.0).abs() < r)
        })
        .unwrap();
        let per = g.per_level();
        assert_eq!(per.len(), 3, "{per:?}");
        // The volumes add up to the box's.
        let v: f64 = (0..g.cells.len()).map(|i| g.volume(i)).sum();
        assert!((v - (n * n * n) as f64).abs() < 1e-9);
        // No face joins levels more than one apart; every leaf's faces cover its surface
        // inside the box (area from both sides).
        let mut area = vec![0.0; g.cells.len()];
        for f in &g.faces {
            let (la, lb) = (g.cells[f.a].level, g.cells[f.b].level);
            assert!(la.abs_diff(lb) <= 1, "{la} {lb}");
            let a = g.edge(f.a).min(g.edge(f.b)).powi(2);
            // The stencil weights sum to zero: a uniform field has no flux.
            let w: f64 = f.stencil.iter().map(|x| x.1).sum();
            assert!(w.abs() < 1e-12, "{w}");
            area[f.a] += a;
            area[f.b] += a;
        }
        for (i, c) in g.cells.iter().enumerate() {
            let e = g.edge(i);
            let walls = (0..6)
                .filter(|&d| same_level_neighbour(c, d, g.dims).is_none())
                .count() as f64;
            assert!(
                (area[i] + walls * e * e - 6.0 * e * e).abs() < 1e-9,
                "cell {c:?}: {} of {}",
                area[i] + walls * e * e,
                6.0 * e * e
            );
        }
    }

    #[test]
    fn a_shell_around_a_depot_is_refined_to_the_finest_level() {
        // A 1 mm sphere in a 4 mm box of 0.5 mm voxels, refined 3 levels (62.5 µm) within
        // 0.1 mm of its surface.
        let (c, r, reach) = ([2.0, 2.0, 2.0], 1.0, 0.1);
        let g = Composite::new([8; 3], 0.5, 3, shell_refinement(0.5, c, r, reach)).unwrap();
        let per = g.per_level();
        assert_eq!(per.len(), 4, "{per:?}");
        for (i, cell) in g.cells.iter().enumerate() {
            let p = g.centre(i);
            let d = ((0..3).map(|k| (p[k] - c[k]).powi(2)).sum::<f64>().sqrt() - r).abs();
            // Every point of the zone lies in a finest cell.
            if d < reach - 0.5 * 3f64.sqrt() * g.edge(i) {
                assert_eq!(cell.level, 3, "{p:?} at {d} mm from the surface");
            }
        }
        // The finest cells hold the shell's volume (4π r² · 2 reach) and some padding.
        let fine: f64 = (0..g.cells.len())
            .filter(|&i| g.cells[i].level == 3)
            .map(|i| g.volume(i))
            .sum();
        let shell = 4.0 * std::f64::consts::PI * r * r * 2.0 * reach;
        assert!(fine > shell && fine < 4.0 * shell, "{fine} vs {shell}");
    }

    #[test]
    fn a_depot_is_refined_as_far_as_its_species_need() {
        // 1 mm voxels, finest 0.125 mm: three levels. λ = 0.3 mm needs voxels ≤ 0.15 mm, so
        // level 3; λ = 0.03 mm would need 0.015 mm, capped at level 3. Every level therefore
        // reaches 3 × 0.3 mm from the surface.
        let (levels, refine) = depot_refinement(1.0, 0.125, [6.0; 3], 2.0, &[0.3, 0.03], 3.0);
        assert_eq!(levels, 3);
        // At 0.9 mm outside the surface: inside the long species' reach at every level.
        let p = [6.0 + 2.0 + 0.85, 6.0, 6.0];
        assert!(refine(0, p) && refine(1, p) && refine(2, p));
        assert!(!refine(3, p), "no level below the finest");
        // Without the long species only a thin shell is refined.
        let (_, thin) = depot_refinement(1.0, 0.125, [6.0; 3], 2.0, &[0.03], 3.0);
        assert!(!thin(2, p));
        assert!(thin(2, [8.0, 6.0, 6.0]));
        // A cap coarser than the spacing: no levels.
        assert_eq!(depot_refinement(1.0, 2.0, [6.0; 3], 2.0, &[0.03], 3.0).0, 0);
    }

    #[test]
    fn regridding_carries_the_amount_over() {
        // A field on a box refined around one point, carried to one refined around another and
        // back: the amount stays to round-off; leaves that both grids share keep their value.
        let (n, h) = (8, 0.5);
        let around = |q: [f64; 3]| {
            move |l: u8, p: [f64; 3]| {
                let r = if l == 0 { 1.0 } else { 0.5 };
                (0..3).all(|k| (p[k] - q[k]).abs() < r)
            }
        };
        let a = Composite::new([n; 3], h, 2, around([1.5, 1.5, 1.5])).unwrap();
        let b = Composite::new([n; 3], h, 2, around([2.6, 2.1, 1.4])).unwrap();
        let field: Vec<f64> = (0..a.cells.len())
            .map(|i| {
                let c = a.centre(i);
                (3.0 * c[0]).sin() + c[1] * c[2] + 2.0
            })
            .collect();
        let amount = |g: &Composite, f: &[f64]| -> f64 {
            f.iter().enumerate().map(|(i, v)| v * g.volume(i)).sum()
        };
        let on_b = a.transfer(&field, &b).unwrap();
        let back = b.transfer(&on_b, &a).unwrap();
        let m = amount(&a, &field);
        assert!((amount(&b, &on_b) - m).abs() < 1e-12 * m);
        assert!((amount(&a, &back) - m).abs() < 1e-12 * m);
        let mut shared = 0;
        for (i, c) in a.cells.iter().enumerate() {
            if let Some(j) = b.index_of(c) {
                assert_eq!(on_b[j], field[i]);
                shared += 1;
            }
        }
        assert!(shared > 0);
        // A box of another size is refused.
        let other = Composite::new([4; 3], h, 0, |_, _| false).unwrap();
        assert!(a.transfer(&field, &other).is_err());
    }

    #[test]
    fn leaves_are_found_by_position() {
        let g = Composite::new([4, 4, 4], 1.0, 1, centre_box(4, 1.0, 1.0)).unwrap();
        let i = g.leaf_at([2.2, 2.2, 2.2]).unwrap();
        assert_eq!(g.cells[i].level, 1);
        let j = g.leaf_at([0.5, 0.5, 0.5]).unwrap();
        assert_eq!(g.cells[j].level, 0);
        assert_eq!(g.leaf_at([4.5, 0.0, 0.0]), None);
    }
}
