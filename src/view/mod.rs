//! The window-free parts of the viewer (`secretome view`, issue 6): the orbit camera and
//! picking (`camera`), the 3D picture drawn with wgpu (`render`), and a steering session that drives the same `Simulation` the batch runs
//! use (`session`). Testable without a window or a display.

pub mod camera;
pub mod render;
pub mod session;
