//! dbt's node selection: the `--select`/`--exclude` grammar, `selectors.yml`
//! and evaluation over a [`Graph`].
//!
//! **API boundary:** parsing never looks at the graph, so a bad expression is
//! reported before anything is loaded; evaluation needs state (`state:`,
//! `result:`) only through [`StateProvider`].

mod eval;
pub(crate) mod methods;
mod spec;
mod yaml;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::sync::Arc;

use hangar_project::{Diagnostic, codes};

pub use methods::{METHOD_NAMES, Method};
pub use spec::{IndirectSelection, SelectionCriteria, SelectionSpec};
pub use yaml::{SelectorDefinition, SelectorDefinitions, parse_selectors_yml};

use crate::graph::Graph;
use crate::node::GraphNode;

/// Answers the methods that compare against a previous run. The engine
/// implements it from `--state` artifacts.
pub trait StateProvider {
    /// `state:new`, `state:modified`, `state:modified.body`, …
    fn state_matches(&self, node: &GraphNode, value: &str) -> Result<bool, String>;
    /// `result:error`, `result:fail`, … from the previous `run_results.json`.
    fn result_matches(&self, node: &GraphNode, value: &str) -> Result<bool, String>;
    /// `source_status:fresher`, from the previous and current `sources.json`.
    fn source_status_matches(&self, node: &GraphNode, value: &str) -> Result<bool, String> {
        let _ = (node, value);
        Err("source_status: selection is not supported yet".to_string())
    }
}

/// Parses `--select` and `--exclude` values. Each value may hold several
/// space-separated expressions (a union) of comma-separated parts (an
/// intersection). No `--select` means everything; `--exclude` is evaluated
/// with eager indirect selection, as dbt does, so excluding a model also
/// excludes its tests.
pub fn parse_selection(select: &[String], exclude: &[String]) -> Result<SelectionSpec, Diagnostic> {
    let include = parse_cli_union(select, "--select")?.unwrap_or(SelectionSpec::All);
    match parse_cli_union(exclude, "--exclude")? {
        None => Ok(include),
        Some(excluded) => Ok(SelectionSpec::difference(
            include,
            excluded.with_indirect_selection(IndirectSelection::Eager),
        )),
    }
}

/// Evaluates `spec` and returns the selected unique ids. Disabled nodes are
/// never selected; resource types are left for the caller to filter.
pub fn select(
    graph: &Graph,
    spec: &SelectionSpec,
    indirect: IndirectSelection,
    state: Option<&dyn StateProvider>,
) -> Result<BTreeSet<String>, Diagnostic> {
    let selected = eval::Evaluator::new(graph, indirect, state).run(spec)?;
    Ok(selected
        .iter()
        .map(|i| graph.id_at(i).to_string())
        .collect())
}

/// `None` when there is no expression at all.
fn parse_cli_union(values: &[String], flag: &str) -> Result<Option<SelectionSpec>, Diagnostic> {
    let mut union = Vec::new();
    for value in values {
        let parts = spec::parse_union_text(value).map_err(|e| cli_error(flag, value, e))?;
        union.extend(parts);
    }
    Ok((!union.is_empty()).then(|| SelectionSpec::union(union)))
}

fn cli_error(flag: &str, text: &str, error: spec::SpecError) -> Diagnostic {
    let column = text[..error.offset.min(text.len())].chars().count() + 1;
    let mut diagnostic = Diagnostic::error(
        codes::BAD_SELECTOR,
        format!("invalid selector `{text}`: {}", error.message),
    )
    .at(flag, 1, column)
    .with_source(Arc::from(text), error.len.max(1));
    if let Some(hint) = error.hint {
        diagnostic = diagnostic.with_hint(hint);
    }
    diagnostic
}
