//! rustc-style rendering of a [`Diagnostic`] with `annotate-snippets`.

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use super::{Diagnostic, Location, Severity};

/// Renders `diag` as rustc does: header, ` --> file:line:col`, the source
/// line with a caret under the span, then `= help:` and `= note:` lines.
pub fn render(diag: &Diagnostic, color: bool) -> String {
    let level = match diag.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level
        .clone()
        .primary_title(diag.message.as_str())
        .id(diag.code);
    let mut group = Group::with_title(title);
    if let Some(location) = &diag.location {
        group = match source_line(diag, location) {
            Some(line) => group.element(snippet_for(location, line, diag.span_len)),
            None => group.element(origin_for(location)),
        };
    }
    if let Some(hint) = &diag.hint {
        group = group.element(Level::HELP.message(hint.as_str()));
    }
    for note in &diag.notes {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.render(&[group])
}

/// The text of the located line, when the diagnostic carries its file's text.
fn source_line<'a>(diag: &'a Diagnostic, location: &Location) -> Option<&'a str> {
    let text = diag.source_text.as_deref()?;
    let index = location.line.checked_sub(1)?;
    text.split('\n')
        .nth(index)
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
}

fn snippet_for<'a>(
    location: &'a Location,
    line: &'a str,
    span_len: usize,
) -> Snippet<'a, annotate_snippets::Annotation<'a>> {
    let start = byte_of_char_column(line, location.column);
    let wanted = span_len.max(1);
    let end = line[start..]
        .char_indices()
        .nth(wanted)
        .map_or(line.len(), |(offset, _)| start + offset);
    Snippet::source(line)
        .line_start(location.line)
        .path(display_path(location))
        .annotation(AnnotationKind::Primary.span(start..end))
}

fn origin_for(location: &Location) -> Origin<'_> {
    Origin::path(display_path(location))
        .line(location.line.max(1))
        .char_column(location.column.max(1))
}

fn display_path(location: &Location) -> String {
    location.file.to_string_lossy().replace('\\', "/")
}

/// Byte offset of the 1-based character `column` in `line`, clamped to its end.
fn byte_of_char_column(line: &str, column: usize) -> usize {
    line.char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line.len(), |(offset, _)| offset)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::diagnostic::codes;

    const SQL: &str = "with members as (\n    select *\n    from {{ ref('stg_membrs') }}\n)\nselect * from members\n";

    #[test]
    fn error_with_snippet_hint_and_note() {
        let diag = Diagnostic::error(codes::UNKNOWN_REF, "model `stg_membrs` not found")
            .at("models/marts/members.sql", 3, 17)
            .with_source(Arc::from(SQL), 10)
            .with_hint("did you mean `stg_members`?")
            .with_note("referenced from `members`");
        insta::assert_snapshot!(render(&diag, false));
    }

    #[test]
    fn warning_without_source_shows_origin() {
        let diag = Diagnostic::warning(codes::UNSUPPORTED, "Python models are not supported").at(
            "models/py_model.py",
            1,
            1,
        );
        insta::assert_snapshot!(render(&diag, false));
    }

    #[test]
    fn message_only() {
        let diag = Diagnostic::error(codes::PROFILE, "profile `jaffle` not found in profiles.yml")
            .with_hint("available profiles: `default`, `other`");
        insta::assert_snapshot!(render(&diag, false));
    }

    #[test]
    fn span_is_clamped_to_line_end() {
        let diag = Diagnostic::error(codes::YAML_SYNTAX, "bad")
            .at("x.yml", 1, 50)
            .with_source(Arc::from("key: value"), 20);
        let out = render(&diag, false);
        assert!(out.contains("x.yml:1:"), "{out}");
    }

    #[test]
    fn color_output_has_ansi_escapes() {
        let diag = Diagnostic::error(codes::IO, "cannot read");
        assert!(render(&diag, true).contains('\u{1b}'));
        assert!(!render(&diag, false).contains('\u{1b}'));
    }
}
