//! dbt's `infer_primary_key`: the columns a model's `primary_key` names in
//! the manifest (a `primary_key` constraint, model- or column-level, else
//! the columns with both `unique` and `not_null` tests, else those with
//! `unique` or `unique_combination_of_columns` tests, enabled ones first).
//! dbt gathers the test columns in sets; they are sorted here, so the output
//! is stable.

use std::collections::{BTreeSet, HashMap};

use rayon::prelude::*;
use serde_json::Value;

use super::drafts::string_list;
use crate::node::Node;

/// The columns a model's generic tests check, by kind.
#[derive(Default)]
struct TestedColumns {
    unique: BTreeSet<String>,
    disabled_unique: BTreeSet<String>,
    not_null: BTreeSet<String>,
}

impl TestedColumns {
    fn merge(&mut self, other: TestedColumns) {
        self.unique.extend(other.unique);
        self.disabled_unique.extend(other.disabled_unique);
        self.not_null.extend(other.not_null);
    }

    fn key(&self) -> Option<Vec<String>> {
        let both: BTreeSet<&String> = self
            .not_null
            .iter()
            .filter(|c| self.unique.contains(*c) || self.disabled_unique.contains(*c))
            .collect();
        if !both.is_empty() {
            return Some(both.into_iter().cloned().collect());
        }
        [&self.unique, &self.disabled_unique]
            .into_iter()
            .find(|columns| !columns.is_empty())
            .map(|columns| columns.iter().cloned().collect())
    }
}

/// Sets `primary_key` on the models among `nodes` from their constraints
/// and from `tests`, batches of generic tests that each attach to one node.
pub fn infer_primary_keys(nodes: &mut [Box<Node>], tests: &[Vec<Box<Node>>]) {
    let batches: Vec<(&str, TestedColumns)> = tests
        .par_iter()
        .filter_map(|batch| tested_columns(batch))
        .collect();
    let mut tested: HashMap<&str, TestedColumns> = HashMap::with_capacity(batches.len());
    for (id, columns) in batches {
        tested.entry(id).or_default().merge(columns);
    }
    nodes
        .par_iter_mut()
        .filter(|n| n.resource_type == hangar_graph::ResourceType::Model)
        .for_each(|model| {
            let key =
                constrained_key(model).or_else(|| tested.get(model.unique_id.as_str())?.key());
            model.primary_key = key.unwrap_or_default();
        });
}

/// The columns a batch of tests (all attached to one node) checks.
fn tested_columns(batch: &[Box<Node>]) -> Option<(&str, TestedColumns)> {
    let attached = batch.first()?.test.as_ref()?.attached_node.as_deref()?;
    let mut found = TestedColumns::default();
    for node in batch {
        let Some(test) = node.test.as_ref().filter(|t| t.is_generic) else {
            continue;
        };
        let columns: Vec<&str> = match (
            test.kwargs.get("column_name"),
            test.kwargs.get("combination_of_columns"),
        ) {
            (Some(Value::String(column)), _) => vec![column],
            (_, Some(Value::Array(items))) => items.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        let set = match test.test_name.as_deref() {
            Some("unique" | "unique_combination_of_columns") if node.enabled() => &mut found.unique,
            Some("unique" | "unique_combination_of_columns") => &mut found.disabled_unique,
            Some("not_null") => &mut found.not_null,
            _ => continue,
        };
        set.extend(columns.into_iter().map(str::to_string));
    }
    Some((attached, found))
}

/// The columns of a model's `primary_key` constraint, model-level first.
fn constrained_key(model: &Node) -> Option<Vec<String>> {
    let is_primary_key = |c: &Value| c.get("type").and_then(Value::as_str) == Some("primary_key");
    if let Some(constraint) = model.constraints.iter().find(|c| is_primary_key(c)) {
        return Some(string_list(constraint.get("columns")));
    }
    model
        .columns
        .iter()
        .find(|(_, info)| info.constraints.iter().any(is_primary_key))
        .map(|(name, _)| vec![name.clone()])
}
