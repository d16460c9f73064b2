//! minijinja errors → located [`Diagnostic`]s with the macro call chain.

use std::sync::Arc;

use hangar_project::diagnostic::{Diagnostic, codes};
use minijinja::{Error, ErrorKind};

use crate::context::Record;
use crate::registry::Registry;

/// 1-based column of byte `offset` in `source` (1 when unknown).
fn column_of(source: &str, offset: usize) -> usize {
    let Some(before) = source.get(..offset) else {
        return 1;
    };
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    before[line_start..].chars().count() + 1
}

fn message_of(e: &Error) -> String {
    e.detail()
        .map(str::to_string)
        .unwrap_or_else(|| e.kind().to_string())
}

/// A macro file that does not compile.
pub(crate) fn syntax_diagnostic(e: &Error, path: &str, source: &Arc<str>) -> Diagnostic {
    let line = e.line().unwrap_or(1);
    let (column, len) = e.range().map_or((1, 0), |r| {
        (column_of(source, r.start), r.end.saturating_sub(r.start))
    });
    Diagnostic::error(
        codes::JINJA_SYNTAX,
        format!("syntax error: {}", message_of(e)),
    )
    .at(path, line, column)
    .with_source(source.clone(), len)
}

fn code_of(e: &Error) -> &'static str {
    match e.kind() {
        ErrorKind::SyntaxError => codes::JINJA_SYNTAX,
        ErrorKind::UnknownFunction => codes::UNKNOWN_MACRO,
        _ => codes::JINJA_RENDER,
    }
}

/// Where a template lives: (path shown to the user, its text).
fn file_of(
    reg: &Registry,
    template: Option<&str>,
    node_template: &str,
    node_source: &str,
) -> (String, Option<Arc<str>>) {
    match template {
        Some(t) if t == node_template && !node_source.is_empty() => {
            (t.to_string(), Some(Arc::from(node_source)))
        }
        Some(t) => match reg.files.get(t) {
            Some(f) => (f.path.clone(), Some(f.source.clone())),
            None => (t.to_string(), None),
        },
        None => (node_template.to_string(), None),
    }
}

/// A failed render: located at the innermost failing spot, with the chain of
/// macro calls as notes.
pub(crate) fn render_diagnostic(
    e: &Error,
    record: &Record,
    reg: &Registry,
    node_template: &str,
    node_source: &str,
) -> Diagnostic {
    let (code, message) = match &record.failure {
        Some((code, message)) => (*code, message.clone()),
        None => (code_of(e), message_of(e)),
    };
    let mut diagnostic = Diagnostic::error(code, message);
    let top = file_of(reg, e.name(), node_template, node_source);
    let (path, source, line, range) = match record.trace.first() {
        Some(frame) => {
            let (p, s) = file_of(reg, frame.template.as_deref(), node_template, node_source);
            (p, s, frame.line, None)
        }
        None => (top.0.clone(), top.1.clone(), e.line(), e.range()),
    };
    let column = match (&source, &range) {
        (Some(s), Some(r)) => column_of(s, r.start),
        _ => 1,
    };
    diagnostic = diagnostic.at(&path, line.unwrap_or(1), column);
    if let Some(s) = source {
        let len = range.map_or(0, |r| r.end.saturating_sub(r.start));
        diagnostic = diagnostic.with_source(s, len);
    }
    for (i, frame) in record.trace.iter().enumerate() {
        let (p, _) = file_of(reg, frame.template.as_deref(), node_template, node_source);
        let at = format!("{p}:{}", frame.line.unwrap_or(0));
        let note = if i == 0 {
            format!("in macro `{}` ({at})", frame.macro_name)
        } else {
            format!("called from macro `{}` ({at})", frame.macro_name)
        };
        diagnostic = diagnostic.with_note(note);
    }
    if let Some(line) = e.line()
        && !record.trace.is_empty()
    {
        diagnostic = diagnostic.with_note(format!("called from {}:{line}", top.0));
    }
    if e.kind() == ErrorKind::UnknownFunction
        && let Some(hint) = unknown_macro_hint(&diagnostic.message, reg)
    {
        diagnostic = diagnostic.with_hint(hint);
    }
    diagnostic
}

/// "did you mean `cents_to_dollars`?" for `cents_to_dollar is unknown`.
fn unknown_macro_hint(message: &str, reg: &Registry) -> Option<String> {
    let name = message.split_whitespace().next()?.trim_matches('`');
    let known = reg
        .macros
        .values()
        .flat_map(|m| m.keys().map(String::as_str));
    hangar_project::suggest(name, known).map(|s| format!("did you mean `{s}`?"))
}
