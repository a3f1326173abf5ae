//! The check of a picture of the viewer (the desktop window, the web page): the 3D view is
//! found by its background, the heart covers a sensible share of it, and most of the heart
//! shows the colour map, in more than one of its bands.

use secretome::base::colormap;

/// The viewer's background colour (sRGB bytes of `ViewStyle::background` in the app).
const BACKGROUND: [u8; 3] = [18, 20, 26];

/// Which entry of the colour map a pixel shows (shaded by a factor 0.35–1: the lighting's
/// ambient share is 0.35), if any: the entry and factor that fit it best, accepted within
/// 8/255 per channel.
fn map_entry(p: [u8; 3], lut: &[[f32; 4]]) -> Option<usize> {
    let p = p.map(|c| c as f32);
    let mut best = (f32::MAX, 0usize);
    for (i, l) in lut.iter().enumerate() {
        let l = [l[0] * 255.0, l[1] * 255.0, l[2] * 255.0];
        let ll = l[0] * l[0] + l[1] * l[1] + l[2] * l[2];
        let k = ((p[0] * l[0] + p[1] * l[1] + p[2] * l[2]) / ll).clamp(0.35, 1.0);
        let e = (0..3)
            .map(|c| (p[c] - k * l[c]).abs())
            .fold(0.0f32, f32::max);
        if e < best.0 {
            best = (e, i);
        }
    }
    (best.0 <= 8.0).then_some(best.1)
}

/// Asserts that `img` (the whole window or page) shows the heart coloured by the field.
pub fn assert_heart_coloured(img: &image::RgbImage) {
    let (w, h) = img.dimensions();
    // The 3D view is where its background shows: its bounding box.
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for (x, y, p) in img.enumerate_pixels() {
        if p.0 == BACKGROUND {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    assert!(x1 > x0 + 200 && y1 > y0 + 200, "no 3D view found");
    let lut = colormap::table(256);
    let mut heart = 0usize;
    let mut mapped = 0usize;
    let mut bins = [0usize; 8];
    let mut total = 0usize;
    // The colour bar (viridis too) sits in the view's lower right corner: not counted.
    let bar = |x: u32, y: u32| x + 140 > x1 && y + 400 > y1;
    for y in y0..=y1 {
        for x in x0..=x1 {
            if bar(x, y) {
                continue;
            }
            total += 1;
            let p = img.get_pixel(x, y).0;
            // The heart: whatever is not background (surface, slice, blood pools).
            if (0..3).any(|c| p[c].abs_diff(BACKGROUND[c]) > 12) {
                heart += 1;
            }
            if let Some(i) = map_entry(p, &lut) {
                mapped += 1;
                bins[i * 8 / 256] += 1;
            }
        }
    }
    let share = heart as f64 / total as f64;
    eprintln!(
        "3D view {x0}..{x1} × {y0}..{y1}: heart {:.1} %, coloured by the map {mapped} px, \
         bands {bins:?}",
        share * 100.0
    );
    assert!(
        (0.15..=0.80).contains(&share),
        "the heart covers {:.1} % of the 3D view",
        share * 100.0
    );
    // Most of the heart is coloured by the map (the rest: blood pools, outlines, edges).
    assert!(
        mapped as f64 > 0.25 * heart as f64,
        "only {mapped} of {heart} heart pixels show the colour map"
    );
    let used = bins.iter().filter(|&&b| b >= 50.max(mapped / 1000)).count();
    assert!(
        used >= 3,
        "the map shows {used} of 8 colour bands: {bins:?}"
    );
}
