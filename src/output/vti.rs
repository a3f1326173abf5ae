//! VTK XML image data (.vti) writer.
