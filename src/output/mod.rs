//! Writers of result files: VTK XML image data (`.vti`) for ParaView and the report's pictures (PNG).

pub mod amr;
pub mod vti;

pub mod report;
