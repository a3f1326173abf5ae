//! The default heart: a procedural adult human biventricular geometry (MODEL.md §1).
//!
//! Frame: the base plane is z = 0 and the LV long axis is the z axis, apex at negative z; the
//! RV lies towards +x (septum direction) and the anterior wall towards +y, which is the
//! anatomical handedness (anterior = long axis × septum direction, long axis pointing from
//! apex to base).
//!
//! Solids, all cut by the base plane:
//! - LV cavity: an ellipsoid of radius `lv_cavity_radius` and half-length
//!   `lv_cavity_half_length`, centred `base_above_equator` below the base plane;
//! - LV epicardium: the same ellipsoid grown by `lv_wall` sideways and `lv_apex_wall` at the apex;
//! - RV cavity: the part of an ellipsoid centred `rv_offset` towards +x that lies outside the LV
//!   epicardium, which makes it a crescent wrapped around the septum;
//! - RV free wall: that ellipsoid grown by `rv_wall`.
//!
//! Myocardium = (LV epicardium ∪ RV outer ellipsoid) − cavities.

use super::frame::HeartFrame;
use super::mesh::{NamedMesh, TriMesh};
use crate::error::{Result, SimError};
pub use crate::scenario::heart::HeartParams;

/// Distance-like function of an ellipsoid (negative inside, exact sign, ≈ distance near the
/// surface; Quilez's bound).
fn ellipsoid(p: [f64; 3], c: [f64; 3], r: [f64; 3]) -> f64 {
    let q = [
        (p[0] - c[0]) / r[0],
        (p[1] - c[1]) / r[1],
        (p[2] - c[2]) / r[2],
    ];
    let s = [q[0] / r[0], q[1] / r[1], q[2] / r[2]];
    let k0 = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).sqrt();
    let k1 = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt();
    if k1 < 1e-12 {
        return -r[0].min(r[1]).min(r[2]);
    }
    k0 * (k0 - 1.0) / k1
}

impl HeartParams {
    fn centre(&self) -> [f64; 3] {
        [0.0, 0.0, -self.base_above_equator]
    }

    fn lv_cavity_ellipsoid(&self, p: [f64; 3]) -> f64 {
        let r = self.lv_cavity_radius;
        ellipsoid(p, self.centre(), [r, r, self.lv_cavity_half_length])
    }

    fn lv_epi_ellipsoid(&self, p: [f64; 3]) -> f64 {
        let r = self.lv_cavity_radius + self.lv_wall;
        ellipsoid(
            p,
            self.centre(),
            [r, r, self.lv_cavity_half_length + self.lv_apex_wall],
        )
    }

    fn rv_ellipsoid(&self, p: [f64; 3], grow: f64) -> f64 {
        let c = self.centre();
        ellipsoid(
            p,
            [c[0] + self.rv_offset, c[1], c[2]],
            [
                self.rv_radius_septal + grow,
                self.rv_radius_wrap + grow,
                self.rv_half_length + grow,
            ],
        )
    }

    /// Implicit LV cavity (negative inside).
    pub fn lv_cavity(&self, p: [f64; 3]) -> f64 {
        self.lv_cavity_ellipsoid(p).max(p[2])
    }

    /// Implicit RV cavity (negative inside).
    pub fn rv_cavity(&self, p: [f64; 3]) -> f64 {
        self.rv_ellipsoid(p, 0.0)
            .max(-self.lv_epi_ellipsoid(p))
            .max(p[2])
    }

    /// Implicit myocardium (negative inside).
    pub fn myocardium(&self, p: [f64; 3]) -> f64 {
        let outer = self
            .lv_epi_ellipsoid(p)
            .min(self.rv_ellipsoid(p, self.rv_wall));
        outer
            .max(-self.lv_cavity(p))
            .max(-self.rv_cavity(p))
            .max(p[2])
    }

    /// Epicardial base–apex length, mm.
    pub fn length(&self) -> f64 {
        self.base_above_equator + self.lv_cavity_half_length + self.lv_apex_wall
    }

    /// Bounding box of the whole heart, mm.
    pub fn bounds(&self) -> ([f64; 3], [f64; 3]) {
        let lv = self.lv_cavity_radius + self.lv_wall;
        let rx = self.rv_offset + self.rv_radius_septal + self.rv_wall;
        let ry = self.rv_radius_wrap + self.rv_wall;
        (
            [-lv, -lv.max(ry), -self.length()],
            [lv.max(rx), lv.max(ry), 0.0],
        )
    }

    /// The heart's frame, known exactly for the procedural geometry.
    pub fn frame(&self) -> HeartFrame {
        HeartFrame {
            base_centre: [0.0, 0.0, 0.0],
            long_axis: [0.0, 0.0, 1.0],
            apex: [0.0, 0.0, -self.length()],
            septum: [1.0, 0.0, 0.0],
            anterior_insertion: None,
        }
    }

    /// What the labeller needs to know of this heart: its base plane (z = 0, normal +z).
    pub fn hints(&self) -> super::anatomy::AnatomyHints {
        let f = self.frame();
        super::anatomy::AnatomyHints {
            base_plane: Some(super::anatomy::BasePlane {
                point: f.base_centre,
                normal: f.long_axis,
            }),
            ..Default::default()
        }
    }

    /// Surface meshes of the myocardium, the LV cavity and the RV cavity (named objects
    /// `myocardium`, `lv_cavity`, `rv_cavity`), with lattice step `step` mm.
    pub fn meshes(&self, step: f64) -> Result<Vec<NamedMesh>> {
        self.validate()?;
        if !(step > 0.0 && step.is_finite()) {
            return Err(SimError::Geometry(format!(
                "mesh step {step}: expected a positive length in mm"
            )));
        }
        let (lo, hi) = self.bounds();
        let m = 2.0 * step;
        let lo = lo.map(|v| v - m);
        let hi = hi.map(|v| v + m);
        // Vertices rounded to 0.1 µm: an OBJ file then holds them exactly in a few digits.
        let mesh = |f: &dyn Fn([f64; 3]) -> f64| -> TriMesh {
            let mut m = super::isosurface::surface_mesh(f, lo, hi, step);
            for v in &mut m.vertices {
                *v = v.map(|c| (c * 1e4).round() / 1e4);
            }
            m
        };
        Ok(vec![
            NamedMesh {
                name: "myocardium".into(),
                mesh: mesh(&|p| self.myocardium(p)),
            },
            NamedMesh {
                name: "lv_cavity".into(),
                mesh: mesh(&|p| self.lv_cavity(p)),
            },
            NamedMesh {
                name: "rv_cavity".into(),
                mesh: mesh(&|p| self.rv_cavity(p)),
            },
        ])
    }
}
