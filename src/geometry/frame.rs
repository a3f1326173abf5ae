//! The heart's frame of reference, and the small vector helpers the geometry code uses.

/// Where the heart lies and which way it faces (mm; directions are unit vectors).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct HeartFrame {
    /// Centre of the LV base (on the base plane), mm.
    pub base_centre: [f64; 3],
    /// Long axis, pointing from the apex to the base.
    pub long_axis: [f64; 3],
    /// Epicardial apex, mm.
    pub apex: [f64; 3],
    /// Direction from the LV axis to the RV (septum), perpendicular to the long axis.
    pub septum: [f64; 3],
    /// Anterior RV insertion point, mm (where the RV free wall meets the LV anteriorly); found
    /// from the RV cavity when not given.
    pub anterior_insertion: Option<[f64; 3]>,
}

impl HeartFrame {
    /// Anterior direction: long axis × septum (the anatomical handedness).
    pub fn anterior(&self) -> [f64; 3] {
        cross(self.long_axis, self.septum)
    }

    /// Base–apex distance along the long axis, mm.
    pub fn length(&self) -> f64 {
        dot(sub(self.base_centre, self.apex), self.long_axis)
    }
}

pub fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub fn scale(a: [f64; 3], s: f64) -> [f64; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}

pub fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

/// `a / |a|`, or `None` for a (nearly) zero vector.
pub fn normalize(a: [f64; 3]) -> Option<[f64; 3]> {
    let n = norm(a);
    (n > 1e-12 && n.is_finite()).then(|| scale(a, 1.0 / n))
}

/// The part of `a` perpendicular to the unit vector `u`.
pub fn reject(a: [f64; 3], u: [f64; 3]) -> [f64; 3] {
    sub(a, scale(u, dot(a, u)))
}
