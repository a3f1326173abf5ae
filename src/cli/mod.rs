//! The command line's front ends: each parses its arguments, drives an engine of the library
//! and reports in one line what went wrong.

pub mod bench;
pub mod converge;
pub mod geometry;
pub mod info;
pub mod run;
pub mod sweep;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "secretome",
    version,
    about = "MSC secretome fields in the infarcted heart, on the GPU",
    allow_negative_numbers = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario headless into a directory: fields for ParaView (fields/*.vti,
    /// fields.pvd), exposure.vti, stats.csv, summary.json. Ctrl-C saves a checkpoint that
    /// --resume continues from. Without a scenario: the intramyocardial preset.
    Run(run::RunArgs),
    /// Run every member of a parameter sweep (or one: --member K) into DIR/member_K and
    /// write DIR/sweep.csv, one row per member with its parameters and key readouts.
    Sweep(sweep::SweepArgs),
    /// Run a scenario at successively finer voxels (default: twice the scenario's, its own,
    /// half) and compare the headline readouts (per region and species: max, AUC, fraction
    /// above EC50, receptor occupancy): the change between the two finest levels and a
    /// Richardson estimate. Exits non-zero if a change exceeds --tolerance.
    Converge(converge::ConvergeArgs),
    /// Measure the solver: species-voxel updates/s, memory per voxel, one hour of problem P1.
    #[command(allow_negative_numbers = true)]
    Bench(bench::BenchArgs),
    /// Build and label a heart (the default one, or a mesh): volumes per label and AHA
    /// segment, wall thickness, infarct share; `--out DIR` writes heart.vti for ParaView.
    #[command(allow_negative_numbers = true)]
    Geometry(geometry::GeometryArgs),
    /// Open the interactive viewer: the heart coloured by a live field, depots placed and
    /// moved with the mouse, plots, lessons. Without a scenario: the intramyocardial preset.
    /// `--screenshot FILE.png --frames N` renders N frames, saves the window and exits.
    #[cfg(feature = "viewer")]
    View(crate::viewer::ViewArgs),
    /// The interactive viewer is not in this build (it was built without the `viewer` feature).
    #[cfg(not(feature = "viewer"))]
    #[command(disable_help_flag = true)]
    View {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<String>,
    },
    /// Show the GPU adapter that would be used and its limits.
    Info,
}

/// The command line: parses it, runs the command, reports a failure in one line.
pub fn main() -> ExitCode {
    quiet_device_select();
    // `secretome geometry | head` should stop quietly, as other command-line tools do,
    // instead of panicking on a closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // clap's message spans several lines (the arguments it names, tips, usage); keep
            // its first paragraph on one line.
            let text = e.to_string();
            let first = clap_first_paragraph(&text);
            eprintln!("error: {first} (see `secretome --help`)");
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The first paragraph of a clap error on one line, without its `error: ` prefix: the message
/// and what it names (`the following required arguments were not provided: --heart <MM>`).
fn clap_first_paragraph(text: &str) -> String {
    let words: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let joined = words.join(" ");
    let line = joined.trim_start_matches("error: ");
    if line.is_empty() {
        "invalid arguments".to_string()
    } else {
        line.to_string()
    }
}

/// Turns off Mesa's Vulkan device-selection layer (`VK_LAYER_MESA_device_select`) for this
/// process, unless the user asked for it (`NODEVICE_SELECT` or `MESA_VK_DEVICE_SELECT` set).
///
/// The layer only reorders the adapters, and `GpuContext` ranks them itself. But the layer of
/// Debian 12's Mesa 22.3, when the instance enables `VK_KHR_wayland_surface` (wgpu enables
/// every surface extension the driver has), asks Wayland for the default GPU in each
/// `vkEnumeratePhysicalDevices` call (`wl_display_connect`), and on a server without
/// `XDG_RUNTIME_DIR` libwayland prints `error: XDG_RUNTIME_DIR is invalid or not set in the
/// environment.` each time: two stray lines in the terminal for every command that opens the
/// GPU. The loader skips the layer when `NODEVICE_SELECT` is set.
fn quiet_device_select() {
    if std::env::var_os("NODEVICE_SELECT").is_none()
        && std::env::var_os("MESA_VK_DEVICE_SELECT").is_none()
    {
        // Before any thread starts (the one time a process may safely change its environment).
        std::env::set_var("NODEVICE_SELECT", "1");
    }
}

/// The error and its causes on one line, each said once: a cause whose text the message
/// before it already holds (a context that quotes its cause, an error that displays its
/// source) is left out.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || parts.last().is_some_and(|last| last.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli
        .command
        .unwrap_or(Command::Run(run::RunArgs::default()))
    {
        Command::Run(args) => run::run(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Converge(args) => converge::converge(&args),
        Command::Bench(args) => bench::bench(args),
        Command::Geometry(args) => geometry::geometry(&args),
        #[cfg(feature = "viewer")]
        Command::View(args) => crate::viewer::execute(args),
        #[cfg(not(feature = "viewer"))]
        Command::View { .. } => anyhow::bail!(
            "this secretome was built without the viewer: build it with the default features (the `viewer` feature)"
        ),
        Command::Info => info::info(),
    }
}

#[cfg(test)]
mod tests {
    use super::{clap_first_paragraph, one_line};
    use anyhow::Context;

    #[test]
    fn a_cause_already_quoted_is_said_once() {
        let e = anyhow::anyhow!("f.toml:2:11: grid.spacing: expected a positive spacing");
        let e = e.context("f.toml:2:11: grid.spacing: expected a positive spacing");
        assert_eq!(
            one_line(&e),
            "f.toml:2:11: grid.spacing: expected a positive spacing"
        );
        let e: anyhow::Result<()> = Err(anyhow::anyhow!("no adapter")).context("opening the GPU");
        let e = e.err().map(|e| one_line(&e));
        assert_eq!(e.as_deref(), Some("opening the GPU: no adapter"));
    }

    #[test]
    fn a_clap_error_keeps_what_it_names() {
        let text = "error: the following required arguments were not provided:\n  --heart <MM>\n\nUsage: secretome bench --heart <MM>\n";
        assert_eq!(
            clap_first_paragraph(text),
            "the following required arguments were not provided: --heart <MM>"
        );
        let text = "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n";
        assert_eq!(
            clap_first_paragraph(text),
            "unexpected argument '--bogus' found"
        );
        assert_eq!(clap_first_paragraph(""), "invalid arguments");
    }
}
