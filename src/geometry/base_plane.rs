//! The base plane estimated from a mesh alone (its open boundary, its largest flat part, or the
//! flat end of its principal axis).

use super::anatomy::*;
use super::frame::{add, cross, dot, normalize, scale, sub};
use super::mesh::NamedMesh;
use crate::error::{Result, SimError};

/// Base plane from the mesh alone, in this order of preference:
/// - the plane fitted to the mesh's open boundary (a myocardium open at the base);
/// - the largest flat part of the surface (the cut base of a closed myocardium);
/// - the flat end of the principal axis of the vertices.
///
/// The plane is set one voxel (at least 0.5 mm) towards the apex so that it closes the
/// cavity openings.
pub(super) fn estimate_base_plane(
    myo: &NamedMesh,
    _lv: Option<&NamedMesh>,
    spacing: f64,
) -> Result<BasePlane> {
    let m = &myo.mesh;
    let mut used = vec![false; m.vertices.len()];
    for t in &m.triangles {
        for &v in t {
            used[v as usize] = true;
        }
    }
    let pts: Vec<[f64; 3]> = m
        .vertices
        .iter()
        .zip(&used)
        .filter(|(_, &s)| s)
        .map(|(v, _)| *v)
        .collect();
    if pts.len() < 4 {
        return Err(SimError::Geometry(format!(
            "`{}` has too few vertices to find a base plane",
            myo.name
        )));
    }
    let centre = scale(
        pts.iter().fold([0.0; 3], |a, &v| add(a, v)),
        1.0 / pts.len() as f64,
    );
    let inset = spacing.max(0.5);

    // 1. Open boundary: edges used by one triangle.
    let mut edges: std::collections::HashMap<(u32, u32), i32> = std::collections::HashMap::new();
    for t in &m.triangles {
        for e in 0..3 {
            let (a, b) = (t[e], t[(e + 1) % 3]);
            *edges.entry((a.min(b), a.max(b))).or_insert(0) += 1;
        }
    }
    let rim_length: f64 = edges
        .iter()
        .filter(|(_, &c)| c == 1)
        .map(|(&(a, b), _)| {
            crate::geometry::frame::norm(sub(m.vertices[a as usize], m.vertices[b as usize]))
        })
        .sum();
    let boundary: Vec<[f64; 3]> = {
        let mut vs: Vec<u32> = edges
            .iter()
            .filter(|(_, &c)| c == 1)
            .flat_map(|(&(a, b), _)| [a, b])
            .collect();
        vs.sort_unstable();
        vs.dedup();
        vs.iter().map(|&v| m.vertices[v as usize]).collect()
    };
    // Only a large, nearly planar boundary is a base opening; a few stray boundary edges
    // (a non-manifold spot, a small hole) are not.
    let size = {
        let (lo, hi) = m.bounds().unwrap_or(([0.0; 3], [0.0; 3]));
        crate::geometry::frame::norm(sub(hi, lo))
    };
    let fitted = (boundary.len() >= 12).then(|| {
        let c = scale(
            boundary.iter().fold([0.0; 3], |a, &v| add(a, v)),
            1.0 / boundary.len() as f64,
        );
        let normal = smallest_axis(&boundary, c);
        let extent = boundary
            .iter()
            .map(|&v| crate::geometry::frame::norm(sub(v, c)))
            .fold(0.0, f64::max);
        let rms = (boundary
            .iter()
            .map(|&v| dot(sub(v, c), normal).powi(2))
            .sum::<f64>()
            / boundary.len() as f64)
            .sqrt();
        (c, normal, extent, rms)
    });
    if let Some((c, normal, _, _)) = fitted.filter(|&(_, _, extent, rms)| {
        extent > 0.1 * size && rms < 0.1 * extent && rim_length > 0.5 * size
    }) {
        // Towards the base: away from the heart's centre.
        let normal = if dot(sub(c, centre), normal) >= 0.0 {
            normal
        } else {
            scale(normal, -1.0)
        };
        // Below the lowest boundary vertex, so that every opening is closed.
        let low = boundary
            .iter()
            .map(|&v| dot(sub(v, c), normal))
            .fold(0.0, f64::min);
        return Ok(BasePlane {
            point: add(c, scale(normal, low - inset)),
            normal,
        });
    }

    // 2. The largest flat part of the surface, with its outward normal.
    let mut buckets: std::collections::HashMap<[i64; 4], f64> = std::collections::HashMap::new();
    let mut total_area = 0.0;
    let tri = |t: &[u32; 3]| {
        let p = t.map(|i| m.vertices[i as usize]);
        let n = cross(sub(p[1], p[0]), sub(p[2], p[0]));
        let c = scale(add(add(p[0], p[1]), p[2]), 1.0 / 3.0);
        (n, c)
    };
    for t in &m.triangles {
        let (n, c) = tri(t);
        let area = 0.5 * crate::geometry::frame::norm(n);
        total_area += area;
        if let Some(u) = normalize(n) {
            let key = [
                (u[0] * 50.0).round() as i64,
                (u[1] * 50.0).round() as i64,
                (u[2] * 50.0).round() as i64,
                dot(u, c).round() as i64,
            ];
            *buckets.entry(key).or_insert(0.0) += area;
        }
    }
    let mut ranked: Vec<([i64; 4], f64)> = buckets.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    if let Some(&(key, area)) = ranked.first() {
        // A cut base is flat: its area dwarfs any other patch of one orientation.
        let second = ranked.get(1).map_or(0.0, |r| r.1);
        if area > 0.005 * total_area && area > 5.0 * second {
            let n0 =
                normalize([key[0] as f64, key[1] as f64, key[2] as f64]).unwrap_or([0.0, 0.0, 1.0]);
            let d0 = key[3] as f64;
            let mut nsum = [0.0; 3];
            let mut csum = [0.0; 3];
            let mut asum = 0.0;
            for t in &m.triangles {
                let (n, c) = tri(t);
                if let Some(u) = normalize(n) {
                    if dot(u, n0) > 0.9986 && (dot(u, c) - d0).abs() < 1.5 {
                        let a = 0.5 * crate::geometry::frame::norm(n);
                        nsum = add(nsum, scale(u, a));
                        csum = add(csum, scale(c, a));
                        asum += a;
                    }
                }
            }
            if let Some(normal) = normalize(nsum) {
                let c = scale(csum, 1.0 / asum);
                return Ok(BasePlane {
                    point: sub(c, scale(normal, inset)),
                    normal,
                });
            }
        }
    }

    // 3. Principal axis, oriented towards the end with more vertices near it (the flat base).
    let axis = largest_axis(&pts, centre);
    let ts: Vec<f64> = pts.iter().map(|&v| dot(sub(v, centre), axis)).collect();
    let tmin = ts.iter().copied().fold(f64::INFINITY, f64::min);
    let tmax = ts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let band = 0.03 * (tmax - tmin);
    let near_max = ts.iter().filter(|&&t| t > tmax - band).count();
    let near_min = ts.iter().filter(|&&t| t < tmin + band).count();
    let (normal, extreme) = if near_max >= near_min {
        (axis, tmax)
    } else {
        (scale(axis, -1.0), -tmin)
    };
    Ok(BasePlane {
        point: add(centre, scale(normal, extreme - inset)),
        normal,
    })
}

pub(super) fn covariance(pts: &[[f64; 3]], c: [f64; 3]) -> [[f64; 3]; 3] {
    let mut cov = [[0.0f64; 3]; 3];
    for v in pts {
        let d = sub(*v, c);
        for a in 0..3 {
            for b in 0..3 {
                cov[a][b] += d[a] * d[b];
            }
        }
    }
    cov
}

/// Direction of largest spread (power iteration).
pub(super) fn largest_axis(pts: &[[f64; 3]], c: [f64; 3]) -> [f64; 3] {
    let cov = covariance(pts, c);
    let mut axis = normalize([0.3, 0.5, 0.8]).unwrap_or([0.0, 0.0, 1.0]);
    for _ in 0..200 {
        let next = [0, 1, 2].map(|a| dot(cov[a], axis));
        axis = normalize(next).unwrap_or(axis);
    }
    axis
}

/// Direction of least spread: the normal of a best-fit plane (power iteration on
/// trace·I − cov).
pub(super) fn smallest_axis(pts: &[[f64; 3]], c: [f64; 3]) -> [f64; 3] {
    let cov = covariance(pts, c);
    let tr = cov[0][0] + cov[1][1] + cov[2][2];
    let mut axis = normalize([0.3, 0.5, 0.8]).unwrap_or([0.0, 0.0, 1.0]);
    for _ in 0..500 {
        let next = [0, 1, 2].map(|a| tr * axis[a] - dot(cov[a], axis));
        axis = normalize(next).unwrap_or(axis);
    }
    axis
}
