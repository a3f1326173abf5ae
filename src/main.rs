//! `secretome`: the command line and the viewer on a desktop (`cli`, `viewer`); in the
//! browser (wasm32), the viewer alone in a web page (`web`, built by `scripts/web-build.sh`).

#[cfg(not(target_arch = "wasm32"))]
mod cli;
#[cfg(feature = "viewer")]
mod viewer;
#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {
    web::start();
}
