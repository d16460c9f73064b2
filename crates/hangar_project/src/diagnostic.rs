//! Diagnostics: problems in the user's project, collected rather than thrown.
//!
//! Every crate reports user-facing problems as [`Diagnostic`]s with a stable
//! code. Codes: `H1xx` load (files, YAML, config), `H2xx` Jinja, `H3xx` graph
//! and selection, `H4xx` execution.

use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

/// A position in a project file. `line` and `column` are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Path as shown to the user, relative to the project root where possible.
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Stable code such as `H301`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
    /// Full text of the file named by `location`, for rendering a snippet.
    pub source_text: Option<Arc<str>>,
    /// Length in characters of the offending text at `location` (0 = unknown).
    pub span_len: usize,
    /// "did you mean `stg_members`?" and the like.
    pub hint: Option<String>,
    /// Extra context lines, e.g. the chain of macro calls.
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            location: None,
            source_text: None,
            span_len: 0,
            hint: None,
            notes: Vec::new(),
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    pub fn at(mut self, file: impl Into<PathBuf>, line: usize, column: usize) -> Self {
        self.location = Some(Location {
            file: file.into(),
            line,
            column,
        });
        self
    }

    pub fn with_source(mut self, text: Arc<str>, span_len: usize) -> Self {
        self.source_text = Some(text);
        self.span_len = span_len;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Stable diagnostic codes. Add new ones here so codes never collide.
pub mod codes {
    // H1xx: loading files, YAML and configuration.
    pub const IO: &str = "H100";
    pub const PROJECT_FILE_MISSING: &str = "H101";
    pub const YAML_SYNTAX: &str = "H102";
    pub const YAML_SCHEMA: &str = "H103";
    pub const PROFILE: &str = "H104";
    pub const CONFIG_TYPE: &str = "H105";
    pub const DUPLICATE_NAME: &str = "H106";
    pub const SEED_FORMAT: &str = "H107";
    pub const UNKNOWN_MATERIALIZATION: &str = "H108";
    pub const PATCH_WITHOUT_NODE: &str = "H109";
    pub const UNSUPPORTED: &str = "H110";
    pub const ENCODING: &str = "H111";
    // H2xx: Jinja.
    pub const JINJA_SYNTAX: &str = "H200";
    pub const JINJA_RENDER: &str = "H201";
    pub const UNDEFINED_VAR: &str = "H202";
    pub const ENV_VAR_UNSET: &str = "H203";
    pub const COMPILER_ERROR: &str = "H204";
    pub const UNKNOWN_MACRO: &str = "H205";
    // H3xx: graph and selection.
    pub const UNKNOWN_REF: &str = "H300";
    pub const UNKNOWN_SOURCE: &str = "H301";
    pub const CYCLE: &str = "H302";
    pub const REF_TO_DISABLED: &str = "H303";
    pub const BAD_SELECTOR: &str = "H304";
    pub const UNKNOWN_SELECTOR: &str = "H305";
    pub const UNKNOWN_DOC: &str = "H306";
    // H4xx: execution.
    pub const DATABASE: &str = "H400";
    pub const CONNECTION: &str = "H401";
    pub const CANCELLED: &str = "H402";
}

mod render;
mod suggest;

pub use render::render;
pub use suggest::{line_col, suggest};
