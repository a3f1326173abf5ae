//! The viewer's real window, rendered under a display (Xvfb when none is set, as in CI):
//! `secretome view --screenshot` saves a PNG in which the heart covers a sensible share of
//! the 3D view and is coloured by more than one colour of the map.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use secretome::base::colormap;

/// A display for the window: `$DISPLAY` when set, otherwise an Xvfb started here.
struct Display {
    name: String,
    server: Option<Child>,
}

impl Display {
    fn get() -> Display {
        if let Ok(d) = std::env::var("DISPLAY") {
            if !d.is_empty() {
                return Display {
                    name: d,
                    server: None,
                };
            }
        }
        for n in 90..130 {
            let socket = format!("/tmp/.X11-unix/X{n}");
            let lock = format!("/tmp/.X{n}-lock");
            if stale(&lock) {
                // A server that died without cleaning up (killed) left its lock and socket.
                let _ = std::fs::remove_file(&lock);
                let _ = std::fs::remove_file(&socket);
            }
            if Path::new(&socket).exists() || Path::new(&lock).exists() {
                continue;
            }
            let child = Command::new("Xvfb")
                .args([
                    &format!(":{n}"),
                    "-screen",
                    "0",
                    "1600x1000x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("no DISPLAY and Xvfb cannot start ({e}): apt-get install xvfb")
                });
            let start = Instant::now();
            while !Path::new(&socket).exists() && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(Path::new(&socket).exists(), "Xvfb :{n} did not start");
            return Display {
                name: format!(":{n}"),
                server: Some(child),
            };
        }
        panic!("no free X display number for Xvfb");
    }
}

/// Whether an X lock file names a process that no longer runs.
fn stale(lock: &str) -> bool {
    std::fs::read_to_string(lock)
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
        .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Some(c) = &mut self.server {
            // SIGTERM lets Xvfb remove its lock and socket; SIGKILL only if it does not stop.
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(3) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

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

#[test]
fn the_viewer_window_shows_the_heart_coloured_by_the_field() {
    let display = Display::get();
    let dir = std::env::temp_dir().join(format!("secretome-view-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("view.png");
    let _ = std::fs::remove_file(&png);
    // The intramyocardial preset at 2 mm, 6 h in, cut open on the short axis through the
    // depot: the slice shows its TSG-6 inside the wall.
    let mut child = Command::new(env!("CARGO_BIN_EXE_secretome"))
        .args([
            "view",
            "--screenshot",
            png.to_str().unwrap(),
            "--frames",
            "8",
            "--start-at",
            "6",
            "--cut",
            "--species",
            "TSG6",
            "--spacing",
            "2",
            "--size",
            "1280x800",
        ])
        .env("DISPLAY", &display.name)
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(400) {
            let _ = child.kill();
            panic!("the viewer did not finish within 400 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "viewer failed: {err}");
    assert!(!err.contains("panicked"), "{err}");

    let img = image::open(&png).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    assert_eq!((w, h), (1280, 800), "the window's size");
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
    let _ = std::fs::remove_dir_all(&dir);
}
