//! Writers of result files: VTK XML image data (`.vti`) for ParaView, and later CSV, JSON, PNG.

pub mod atomic;
pub mod vti;

pub use atomic::write_atomic;
pub mod report;
