//! The command line's front ends: each parses its arguments, drives an engine of the library
//! and reports in one line what went wrong.

pub mod bench;
pub mod converge;
pub mod geometry;
pub mod info;
pub mod run;
pub mod sweep;
