//! Errors of the library. Each one renders as a single line that names what was wrong
//! (file, key, value) and what was expected.

use std::fmt;

/// A bad value in an input file: where it is and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub file: String,
    /// 1-based line and column, where known.
    pub at: Option<(usize, usize)>,
    /// Key path (`species[0].diffusion`).
    pub key: String,
    /// What was expected (said as `key: expected …`); when `stated`, what is wrong in a
    /// sentence of its own that says what was expected (said as `key: …`).
    pub expected: String,
    /// `expected` is a whole statement (see [`InputError::stated`]).
    pub stated: bool,
}

impl InputError {
    pub fn new(file: &str, at: Option<(usize, usize)>, key: &str, expected: &str) -> Self {
        InputError {
            file: file.to_string(),
            at,
            key: key.to_string(),
            expected: expected.to_string(),
            stated: false,
        }
    }

    /// A value that a later stage could not use, with that stage's own sentence (which names
    /// what is wrong and what was expected), e.g. a depot's site outside the tissue:
    /// `file:12:8: depot[0].site: depot 1: centre (…) mm lies outside the grid; expected …`.
    pub fn stated(file: &str, at: Option<(usize, usize)>, key: &str, message: &str) -> Self {
        InputError {
            stated: true,
            ..InputError::new(file, at, key, message)
        }
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// Turns a TOML error into one line (the crate's own message spans several).
    pub fn from_toml(file: &str, text: &str, e: &toml::de::Error) -> Self {
        let at = e.span().map(|s| Self::line_col(text, s.start));
        let msg = e
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .trim()
            .to_string();
        // serde names the offending key inside the message (`unknown field `x``).
        InputError::new(file, at, "", &msg)
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((l, c)) = self.at {
            write!(f, ":{l}:{c}")?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.expected)
        } else if self.stated {
            write!(f, ": {}: {}", self.key, self.expected)
        } else {
            write!(f, ": {}: expected {}", self.key, self.expected)
        }
    }
}

impl std::error::Error for InputError {}

/// Everything the simulator library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Said as the input error itself (not once more as its source).
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("no GPU adapter found (tried {tried}); install a Vulkan driver, e.g. `apt-get install mesa-vulkan-drivers libvulkan1` for the CPU driver lavapipe, or set WGPU_BACKEND=gl to use OpenGL")]
    NoAdapter { tried: String },
    #[error("WGPU_ADAPTER_NAME='{wanted}' matches no adapter; available: {available}")]
    AdapterNotFound { wanted: String, available: String },
    #[error("could not open the GPU device on '{adapter}': {message}")]
    Device { adapter: String, message: String },
    #[error("{0}")]
    TooLarge(String),
    /// A mesh file that cannot be used: which file and what is wrong with it.
    #[error("{file}: {message}")]
    Mesh { file: String, message: String },
    /// A geometry that cannot be built or labelled (bad parameters, no cavity found, …).
    #[error("geometry: {0}")]
    Geometry(String),
    #[error("invalid problem: {0}")]
    Problem(String),
    #[error("GPU error: {0}")]
    Gpu(String),
    /// A run that cannot go on: its output directory, checkpoint or fields.
    #[error("{0}")]
    Run(String),
}

pub type Result<T, E = SimError> = std::result::Result<T, E>;
