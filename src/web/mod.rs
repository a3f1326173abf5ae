//! The viewer in a web page (wasm32, WebGPU).

pub fn start() {}
