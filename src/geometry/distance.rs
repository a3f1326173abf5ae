//! Exact Euclidean distance transform on the voxel grid (Felzenszwalb & Huttenlocher 2012,
//! separable lower envelopes of parabolas): distance from every voxel centre to the nearest
//! centre of a feature voxel.

/// Distance (mm) from each voxel of a `dims` grid with spacing `h` to the nearest voxel where
/// `feature` is true; `f64::INFINITY` everywhere if there is none.
pub fn distance_to(feature: &[bool], dims: [usize; 3], h: f64) -> Vec<f64> {
    let big = 1e30;
    let mut d: Vec<f64> = feature.iter().map(|&f| if f { 0.0 } else { big }).collect();
    let [nx, ny, nz] = dims;
    let n_max = nx.max(ny).max(nz);
    let mut line = vec![0.0; n_max];
    let mut out = vec![0.0; n_max];
    let mut v = vec![0usize; n_max];
    let mut z = vec![0.0; n_max + 1];
    let strides = [1, nx, nx * ny];
    for axis in 0..3 {
        let len = dims[axis];
        let stride = strides[axis];
        let (oa, ob) = ((axis + 1) % 3, (axis + 2) % 3);
        for b in 0..dims[ob] {
            for a in 0..dims[oa] {
                let base = a * strides[oa] + b * strides[ob];
                for (k, slot) in line.iter_mut().enumerate().take(len) {
                    *slot = d[base + k * stride];
                }
                envelope(&line[..len], &mut out[..len], &mut v, &mut z);
                for (k, &val) in out.iter().enumerate().take(len) {
                    d[base + k * stride] = val;
                }
            }
        }
    }
    d.into_iter()
        .map(|s| {
            if s >= big * 0.5 {
                f64::INFINITY
            } else {
                s.sqrt() * h
            }
        })
        .collect()
}

/// Like [`distance_to`], but computed only inside the voxel box `lo..hi` (exclusive), with
/// features outside the box ignored; voxels outside the box get `f64::INFINITY`. Cheaper when
/// the distances that matter lie in a small part of the grid.
pub fn distance_in_box(
    feature: &[bool],
    dims: [usize; 3],
    h: f64,
    lo: [usize; 3],
    hi: [usize; 3],
) -> Vec<f64> {
    let hi = [0, 1, 2].map(|k| hi[k].min(dims[k]));
    let sub = [0, 1, 2].map(|k| hi[k].saturating_sub(lo[k]));
    let mut out = vec![f64::INFINITY; feature.len()];
    if sub.contains(&0) {
        return out;
    }
    let idx = |x: usize, y: usize, z: usize| (z * dims[1] + y) * dims[0] + x;
    let mut local = Vec::with_capacity(sub[0] * sub[1] * sub[2]);
    for z in lo[2]..hi[2] {
        for y in lo[1]..hi[1] {
            for x in lo[0]..hi[0] {
                local.push(feature[idx(x, y, z)]);
            }
        }
    }
    let d = distance_to(&local, sub, h);
    let mut k = 0;
    for z in lo[2]..hi[2] {
        for y in lo[1]..hi[1] {
            for x in lo[0]..hi[0] {
                out[idx(x, y, z)] = d[k];
                k += 1;
            }
        }
    }
    out
}

/// Voxel box (lo, hi exclusive) of the voxels where `mask` is true, grown by `margin` voxels
/// and clipped to the grid; `None` when the mask is empty.
pub fn bounding_box(
    mask: &[bool],
    dims: [usize; 3],
    margin: usize,
) -> Option<([usize; 3], [usize; 3])> {
    let mut lo = [usize::MAX; 3];
    let mut hi = [0usize; 3];
    let (nx, ny) = (dims[0], dims[1]);
    for (i, _) in mask.iter().enumerate().filter(|(_, &m)| m) {
        let c = [i % nx, (i / nx) % ny, i / (nx * ny)];
        for k in 0..3 {
            lo[k] = lo[k].min(c[k]);
            hi[k] = hi[k].max(c[k] + 1);
        }
    }
    if lo[0] == usize::MAX {
        return None;
    }
    Some((
        lo.map(|v| v.saturating_sub(margin)),
        [0, 1, 2].map(|k| (hi[k] + margin).min(dims[k])),
    ))
}

/// 1D squared distance transform of sampled function `f` (in voxel units²).
fn envelope(f: &[f64], out: &mut [f64], v: &mut [usize], z: &mut [f64]) {
    let n = f.len();
    if n == 0 {
        return;
    }
    let mut k = 0usize;
    v[0] = 0;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    for q in 1..n {
        let parabola =
            |p: usize| ((f[q] + (q * q) as f64) - (f[p] + (p * p) as f64)) / (2.0 * (q - p) as f64);
        let mut s = parabola(v[k]);
        // z[0] = −∞ stops the search at k = 0.
        while s <= z[k] {
            k -= 1;
            s = parabola(v[k]);
        }
        k += 1;
        v[k] = q;
        z[k] = s;
        z[k + 1] = f64::INFINITY;
    }
    let mut k = 0;
    for (q, o) in out.iter_mut().enumerate().take(n) {
        while z[k + 1] < q as f64 {
            k += 1;
        }
        let p = v[k];
        let dq = q as f64 - p as f64;
        *o = dq * dq + f[p];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_brute_force() {
        let dims = [7, 5, 6];
        let n = dims[0] * dims[1] * dims[2];
        let feature: Vec<bool> = (0..n).map(|i| i % 17 == 3 || i == 100).collect();
        let d = distance_to(&feature, dims, 0.5);
        let c = |i: usize| [(i % 7) as f64, ((i / 7) % 5) as f64, (i / 35) as f64];
        for i in 0..n {
            let mut best = f64::INFINITY;
            for j in 0..n {
                if feature[j] {
                    let (a, b) = (c(i), c(j));
                    let r = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2))
                        .sqrt();
                    best = best.min(r * 0.5);
                }
            }
            assert!((d[i] - best).abs() < 1e-9, "voxel {i}: {} vs {best}", d[i]);
        }
        // Inside a box holding every feature and voxel of interest, the same distances.
        let (lo, hi) = bounding_box(&feature, dims, 0).unwrap();
        let b = distance_in_box(&feature, dims, 0.5, lo, hi);
        for i in 0..n {
            let c = [i % 7, (i / 7) % 5, i / 35];
            if (0..3).all(|k| c[k] >= lo[k] && c[k] < hi[k]) {
                assert_eq!(b[i], d[i]);
            } else {
                assert!(b[i].is_infinite());
            }
        }
    }
}
