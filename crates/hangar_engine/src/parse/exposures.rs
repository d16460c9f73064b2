//! Exposures from property YAML, with their `depends_on` resolved as dbt
//! does: `ref(...)` and `source(...)` entries become `refs`, `sources` and
//! `depends_on.nodes`, so they reach the manifest's parent and child maps.

use std::collections::BTreeMap;

use hangar_project::properties::{ExposureDef, PropertyFile};
use hangar_project::{Diagnostic, codes, line_col, suggest};
use serde_json::{Value, json};

use super::drafts::path_string;
use super::generic::call_args;
use super::refs::RefIndex;
use crate::node::{Node, SourceNode};
use crate::session::Session;

/// Every exposure by unique id; an entry naming no existing node or source
/// is reported (H300 / H301) at the exposure's line.
pub fn exposures(
    session: &Session,
    nodes: &BTreeMap<String, Box<Node>>,
    sources: &BTreeMap<String, SourceNode>,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Value> {
    let mut files = session.project.packages.iter().flat_map(|p| &p.properties);
    if files.all(|file| file.exposures.is_empty()) {
        // Most projects have none: skip indexing every node by name.
        return BTreeMap::new();
    }
    let index = RefIndex::new(nodes.values().map(|n| &**n));
    let root = &session.root_package().name;
    let mut out = BTreeMap::new();
    for package in &session.project.packages {
        for file in &package.properties {
            for e in &file.exposures {
                let id = format!("exposure.{}.{}", package.name, e.name);
                let found = Dependencies::resolve(e, &package.name, root, &index, sources);
                for missing in &found.missing {
                    diagnostics.push(missing_dependency(e, file, missing, &index, sources));
                }
                out.insert(
                    id.clone(),
                    exposure_json(e, &package.name, &id, file, found),
                );
            }
        }
    }
    out
}

#[derive(Default)]
struct Dependencies {
    refs: Vec<Value>,
    sources: Vec<[String; 2]>,
    nodes: Vec<String>,
    /// Entries that name nothing in the project, as written.
    missing: Vec<Missing>,
}

enum Missing {
    Ref(Option<String>, String),
    Source(String, String),
}

impl Dependencies {
    fn resolve(
        e: &ExposureDef,
        package: &str,
        root: &str,
        index: &RefIndex<'_>,
        sources: &BTreeMap<String, SourceNode>,
    ) -> Dependencies {
        let mut found = Dependencies::default();
        for entry in &e.depends_on {
            for args in call_args(entry, "ref") {
                let (pkg, name) = match args.as_slice() {
                    [name] => (None, name.clone()),
                    [pkg, name] => (Some(pkg.clone()), name.clone()),
                    _ => continue,
                };
                found
                    .refs
                    .push(json!({"name": name, "package": pkg, "version": null}));
                match index.find(pkg.as_deref(), &name, package, root) {
                    Some(node) => found.nodes.push(node.unique_id.clone()),
                    None => found.missing.push(Missing::Ref(pkg, name)),
                }
            }
            for args in call_args(entry, "source") {
                let [source, table] = args.as_slice() else {
                    continue;
                };
                found.sources.push([source.clone(), table.clone()]);
                match sources
                    .values()
                    .find(|s| &s.source_name == source && &s.name == table)
                {
                    Some(s) => found.nodes.push(s.unique_id.clone()),
                    None => found
                        .missing
                        .push(Missing::Source(source.clone(), table.clone())),
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        found.nodes.retain(|id| seen.insert(id.clone()));
        found
    }
}

fn missing_dependency(
    e: &ExposureDef,
    file: &PropertyFile,
    missing: &Missing,
    index: &RefIndex<'_>,
    sources: &BTreeMap<String, SourceNode>,
) -> Diagnostic {
    let (code, what, hint, name) = match missing {
        Missing::Ref(pkg, name) => {
            let what = match pkg {
                Some(p) => format!("a node named `{p}.{name}`"),
                None => format!("a node named `{name}`"),
            };
            (codes::UNKNOWN_REF, what, suggest(name, index.names()), name)
        }
        Missing::Source(source, table) => {
            let names: Vec<String> = sources
                .values()
                .map(|s| format!("{}.{}", s.source_name, s.name))
                .collect();
            let wanted = format!("{source}.{table}");
            let hint = suggest(&wanted, names.iter().map(String::as_str));
            (
                codes::UNKNOWN_SOURCE,
                format!("a source named `{wanted}`"),
                hint,
                table,
            )
        }
    };
    let (line, column) = name_after_line(&file.contents, e.line, name);
    let mut d = Diagnostic::error(
        code,
        format!(
            "exposure `{}` depends on {what} which was not found",
            e.name
        ),
    )
    .at(file.path.clone(), line, column)
    .with_source(file.contents.clone(), name.len());
    if let Some(near) = hint {
        d = d.with_hint(format!("did you mean `{near}`?"));
    }
    d
}

/// Line and column of the first quoted `name` at or after `line` (the
/// exposure's entry), else the entry's own line.
fn name_after_line(text: &str, line: usize, name: &str) -> (usize, usize) {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    ["'", "\""]
        .iter()
        .filter_map(|quote| text[start..].find(&format!("{quote}{name}{quote}")))
        .min()
        .map_or((line.max(1), 1), |at| line_col(text, start + at + 1))
}

/// An exposure as dbt writes it in the manifest.
fn exposure_json(
    e: &ExposureDef,
    package: &str,
    unique_id: &str,
    file: &PropertyFile,
    depends: Dependencies,
) -> Value {
    let path = path_string(&file.path);
    json!({
        "name": e.name,
        "resource_type": "exposure",
        "package_name": package,
        "path": path,
        "original_file_path": path,
        "unique_id": unique_id,
        "fqn": [package, e.name],
        "type": e.exposure_type,
        "owner": e.owner,
        "description": e.description.clone().unwrap_or_default(),
        "label": e.label,
        "maturity": e.maturity,
        "meta": e.meta,
        "tags": e.tags,
        "config": {"enabled": true, "tags": e.tags, "meta": e.meta},
        "unrendered_config": {},
        "url": e.url,
        "depends_on": {"macros": [], "nodes": depends.nodes},
        "refs": depends.refs,
        "sources": depends.sources,
        "metrics": [],
        "created_at": 0.0,
    })
}
