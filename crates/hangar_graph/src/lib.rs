//! hangar's graph: node ids, the DAG, cycles, and dbt's node selection
//! (`--select`, `--exclude`, `--selector`, `selectors.yml`).
//!
//! **Invariant:** the graph does no IO and no Jinja. It selects over plain
//! [`GraphNode`]s handed to it; `selectors.yml` arrives as rendered text.

// The public API returns `Diagnostic` errors by design (one diagnostic type
// across hangar); they are rare and not on a hot path.
#![allow(clippy::result_large_err)]

mod glob;
mod graph;
mod node;
mod nodeset;
pub mod selector;

pub use graph::{Graph, Links};
pub use node::{GraphNode, ResourceType, TestInfo, TestKind, UnknownResourceType};
pub use selector::{
    IndirectSelection, Method, SelectionCriteria, SelectionSpec, SelectorDefinition,
    SelectorDefinitions, StateProvider, parse_selection, parse_selectors_yml, select,
};
