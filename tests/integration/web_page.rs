//! The viewer in a web page (issue 18): headless Chromium opens the web build (`web/dist`,
//! made by `scripts/web-build.sh`) on its software WebGPU adapter (SwiftShader), the page
//! builds the default heart, simulates and sends a picture of itself, which must show the
//! heart coloured by the field as the desktop window does (`common::picture`).
//!
//! It needs the web build and Chromium, so plain `cargo test` lists it as ignored;
//! `scripts/web-test.sh` (run by CI) builds the page and runs it with `--ignored`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::picture;

/// What the page posted: the PNG and the status bar's figures.
struct Capture {
    png: Vec<u8>,
    figures: String,
}

/// Answers one request: a file of `dist`, or the page's picture (`POST /capture`).
fn answer(mut stream: TcpStream, dist: &Path, captured: &mpsc::Sender<Capture>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let mut length = 0usize;
    let mut figures = String::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().unwrap_or(0),
                "x-figures" => figures = v.trim().to_string(),
                _ => {}
            }
        }
    }
    let path = target.split('?').next().unwrap_or("/");
    let (status, kind, body) = if method == "POST" && path == "/capture" {
        let mut png = vec![0u8; length];
        let ok = reader.read_exact(&mut png).is_ok();
        if ok {
            let _ = captured.send(Capture { png, figures });
        }
        ("200 OK", "text/plain", b"ok".to_vec())
    } else {
        let file = if path == "/" {
            "index.html"
        } else {
            &path[1..]
        };
        match (file.contains(".."), std::fs::read(dist.join(file))) {
            (false, Ok(bytes)) => {
                let kind = match Path::new(file).extension().and_then(|e| e.to_str()) {
                    Some("html") => "text/html; charset=utf-8",
                    Some("js") => "text/javascript",
                    Some("wasm") => "application/wasm",
                    _ => "application/octet-stream",
                };
                ("200 OK", kind, bytes)
            }
            _ => ("404 Not Found", "text/plain", b"not found".to_vec()),
        }
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// Chromium as the notes on headless WebGPU here found it to work: a software Vulkan
/// (SwiftShader) for WebGPU and the canvas, no network of its own.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--enable-unsafe-webgpu",
    "--enable-features=Vulkan",
    "--use-vulkan=swiftshader",
    "--use-angle=swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
];

/// Opens `query` on the page in headless Chromium and returns what it posted.
fn capture_page(query: &str, size: (u32, u32), timeout: Duration) -> Capture {
    let dist = std::env::var_os("SECRETOME_WEB_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("web/dist"));
    assert!(
        dist.join("secretome_bg.wasm").is_file(),
        "{}: no web build (run scripts/web-build.sh)",
        dist.display()
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).is_file(),
        "{chromium}: no Chromium (apt-get install chromium)"
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    let served = dist.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (dist, tx) = (served.clone(), tx.clone());
            std::thread::spawn(move || answer(stream, &dist, &tx));
        }
    });
    let profile = std::env::temp_dir().join(format!("secretome-chromium-{}", std::process::id()));
    let mut child = Command::new(&chromium)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={},{}", size.0, size.1))
        .arg(format!("http://127.0.0.1:{port}/?{query}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let got = rx.recv_timeout(timeout);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&profile);
    got.unwrap_or_else(|_| {
        panic!(
            "the page sent no picture within {:.0} s (?{query})",
            start.elapsed().as_secs_f64()
        )
    })
}

#[test]
#[ignore = "needs the web build and Chromium: scripts/web-test.sh runs it"]
fn the_web_page_shows_the_heart_coloured_by_the_field() {
    // As the desktop window test: the intramyocardial preset at 2 mm, 6 h in, cut open on the
    // short axis through the depot, TSG-6.
    let c = capture_page(
        "spacing=2&start_at=6&cut&species=TSG6&capture=8",
        (1280, 800),
        Duration::from_secs(400),
    );
    eprintln!("web page: {}", c.figures);
    // SECRETOME_WEB_PICTURE=FILE.png keeps the picture (the README's is one).
    if let Some(keep) = std::env::var_os("SECRETOME_WEB_PICTURE") {
        std::fs::write(&keep, &c.png).unwrap();
    }
    let img = image::load_from_memory(&c.png).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    assert!(w >= 1000 && h >= 600, "the page's picture is {w}×{h}");
    assert!(
        c.figures.contains("t = 6."),
        "the page did not simulate to 6 h: {}",
        c.figures
    );
    picture::assert_heart_coloured(&img);
}
