//! The engine: parse, compile, run. It composes the project loader, the
//! Jinja layer, the graph and the adapters; it never prints or exits.

// `Result<_, Diagnostic>` is the crates' error convention; a diagnostic is
// large (location, snippet, notes) by design and errors are not hot paths.
#![allow(clippy::result_large_err)]

pub mod commands;
pub mod compile;
pub mod contracts;
pub mod ctes;
pub mod events;
pub mod generic_tests;
pub mod grants;
pub mod init;
pub mod invocation;
pub mod jinja_adapter;
pub mod manifest;
pub mod materialize;
pub mod node;
pub mod parse;
pub mod pyrepr;
pub mod run;
pub mod scheduler;
pub mod seed_file;
pub mod session;
pub mod snapshot;
pub mod tests_run;
pub mod unit_tests;

use hangar_project::Diagnostic;

/// hangar could not do its job; every diagnostic explains one reason.
#[derive(Debug, Clone)]
pub struct Failure {
    pub diagnostics: Vec<Diagnostic>,
}

impl Failure {
    pub fn new(diagnostics: Vec<Diagnostic>) -> Self {
        Failure { diagnostics }
    }

    pub fn single(diagnostic: Diagnostic) -> Self {
        Failure {
            diagnostics: vec![diagnostic],
        }
    }
}

impl From<Diagnostic> for Failure {
    fn from(d: Diagnostic) -> Self {
        Failure::single(d)
    }
}
