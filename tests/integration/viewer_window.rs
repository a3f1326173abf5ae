//! The viewer's real window, rendered under a display (Xvfb when none is set, as in CI):
//! `secretome view --screenshot` saves a PNG in which the heart covers a sensible share of
//! the 3D view and is coloured by more than one colour of the map.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::picture;

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
    assert_eq!(img.dimensions(), (1280, 800), "the window's size");
    picture::assert_heart_coloured(&img);
    let _ = std::fs::remove_dir_all(&dir);
}
