//! The one colour map of the reports, the 3D view and the viewer's panels: viridis.

use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};

/// The viridis colour map at t in [0, 1] (clamped), as sRGB bytes.
pub fn viridis(t: f64) -> [u8; 3] {
    let c = ViridisRGB.get_color_normalized(t.clamp(0.0, 1.0), 0.0, 1.0);
    [c.0, c.1, c.2]
}

/// The viridis colour map as an `n`-entry table of sRGB colours in [0, 1], alpha 1 (the 3D
/// view's shader table).
pub fn table(n: usize) -> Vec<[f32; 4]> {
    let last = n.saturating_sub(1).max(1) as f64;
    (0..n)
        .map(|i| {
            let [r, g, b] = viridis(i as f64 / last);
            [r as f32 / 255.0, g as f32 / 255.0, b as f32 / 255.0, 1.0]
        })
        .collect()
}
