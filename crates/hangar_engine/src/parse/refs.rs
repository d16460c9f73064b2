//! `ref()` and `source()` resolution: the parse-time resolver, and the
//! dependency edges (with located errors) once every node is known.

use std::collections::{BTreeMap, HashMap};

use hangar_graph::ResourceType;
use hangar_jinja::{Relation, Resolver};
use hangar_project::{Diagnostic, codes, suggest};
use rayon::prelude::*;

use super::DocBlock;
use crate::node::{Node, SourceNode};
use crate::session::Session;

/// During parse, `ref` and `source` answer a placeholder relation (as dbt's
/// parse-time resolver does); the calls are recorded by the Jinja layer.
pub struct ParseResolver<'a> {
    schema: String,
    database: Option<String>,
    docs: &'a BTreeMap<String, DocBlock>,
}

impl<'a> ParseResolver<'a> {
    pub fn new(session: &Session, docs: &'a BTreeMap<String, DocBlock>) -> Self {
        ParseResolver {
            schema: session.profile.schema.clone(),
            database: session.profile.database.clone(),
            docs,
        }
    }
}

pub fn find_doc<'d>(
    docs: &'d BTreeMap<String, DocBlock>,
    package: Option<&str>,
    name: &str,
) -> Option<&'d DocBlock> {
    match package {
        Some(p) => docs.get(&format!("doc.{p}.{name}")),
        None => docs.values().find(|d| d.name == name),
    }
}

impl Resolver for ParseResolver<'_> {
    fn resolve_ref(
        &self,
        _package: Option<&str>,
        name: &str,
        _version: Option<&str>,
    ) -> Result<Relation, String> {
        Ok(Relation::new(self.database.as_deref(), &self.schema, name))
    }

    fn resolve_source(&self, source: &str, table: &str) -> Result<Relation, String> {
        Ok(Relation::new(self.database.as_deref(), source, table))
    }

    fn doc(&self, package: Option<&str>, name: &str) -> Option<String> {
        find_doc(self.docs, package, name).map(|d| d.block_contents.clone())
    }
}

/// Names need no protection against crafted keys, and a large project's
/// index is built on one thread: foldhash, not SipHash.
type NameMap<'a> = HashMap<&'a str, Vec<&'a Node>, foldhash::fast::FixedState>;

/// Nodes that `ref()` can reach, by name.
pub struct RefIndex<'a> {
    by_name: NameMap<'a>,
}

impl<'a> RefIndex<'a> {
    pub fn new(nodes: impl Iterator<Item = &'a Node>) -> Self {
        let mut by_name = NameMap::default();
        for n in nodes.filter(|n| is_refable(n.resource_type)) {
            by_name.entry(n.name.as_str()).or_default().push(n);
        }
        RefIndex { by_name }
    }

    /// dbt's lookup: the given package only, else the referring node's
    /// package first, then the root project, then any package.
    pub fn find(
        &self,
        package: Option<&str>,
        name: &str,
        from_package: &str,
        root: &str,
    ) -> Option<&'a Node> {
        let candidates = self.by_name.get(name)?;
        match package {
            Some(p) => candidates.iter().find(|n| n.package_name == p).copied(),
            None => candidates
                .iter()
                .find(|n| n.package_name == from_package)
                .or_else(|| candidates.iter().find(|n| n.package_name == root))
                .or_else(|| candidates.first())
                .copied(),
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().copied()
    }
}

pub fn is_refable(rt: ResourceType) -> bool {
    matches!(
        rt,
        ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot
    )
}

/// Turn recorded refs and sources into `depends_on.nodes`, reporting unknown
/// names with their location and the nearest existing names.
pub fn resolve_dependencies(
    nodes: &mut BTreeMap<String, Box<Node>>,
    disabled: &BTreeMap<String, Vec<Node>>,
    sources: &BTreeMap<String, SourceNode>,
    root: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let source_index: HashMap<(&str, &str), &str> = sources
        .values()
        .map(|s| {
            (
                (s.source_name.as_str(), s.name.as_str()),
                s.unique_id.as_str(),
            )
        })
        .collect();
    // In parallel and in the map's order, so the results go back without a
    // lookup per node.
    let resolved: Vec<(Vec<String>, Vec<Diagnostic>)> = {
        let index = RefIndex::new(nodes.values().map(|n| &**n));
        let disabled_index = RefIndex::new(disabled.values().flatten());
        let nodes: Vec<&Node> = nodes.values().map(|n| &**n).collect();
        nodes
            .par_iter()
            .map(|node| {
                // dbt's order: refs as called, then sources, each id once.
                let mut deps: Vec<String> =
                    Vec::with_capacity(node.refs.len() + node.sources.len());
                let mut add = |id: &str| {
                    if !deps.iter().any(|d| d == id) {
                        deps.push(id.to_string());
                    }
                };
                let mut problems = Vec::new();
                for r in &node.refs {
                    match index.find(r.package.as_deref(), &r.name, &node.package_name, root) {
                        Some(target) => add(&target.unique_id),
                        None => problems.push(unknown_ref(node, r, &index, &disabled_index)),
                    }
                }
                for (source, table) in &node.sources {
                    match source_index.get(&(source.as_str(), table.as_str())) {
                        Some(id) => add(id),
                        None => problems.push(unknown_source(node, source, table, sources)),
                    }
                }
                (deps, problems)
            })
            .collect()
    };
    let mut edges = Vec::with_capacity(resolved.len());
    for (deps, problems) in resolved {
        edges.push(deps);
        diagnostics.extend(problems);
    }
    for (node, deps) in nodes.values_mut().zip(edges) {
        node.depends_on_nodes = deps;
    }
}

fn unknown_ref(
    node: &Node,
    r: &crate::node::NodeRef,
    index: &RefIndex<'_>,
    disabled: &RefIndex<'_>,
) -> Diagnostic {
    let what = match &r.package {
        Some(p) => format!("`{p}.{}`", r.name),
        None => format!("`{}`", r.name),
    };
    let line = r.line.max(1);
    let column = node
        .raw_code
        .lines()
        .nth(line - 1)
        .and_then(|l| l.find(&r.name))
        .map_or(1, |c| c + 1);
    let base = node_location(node, line, column, r.name.len());
    if disabled
        .find(r.package.as_deref(), &r.name, &node.package_name, "")
        .is_some()
    {
        return Diagnostic {
            code: codes::REF_TO_DISABLED,
            message: format!(
                "{} `{}` depends on {what}, which is disabled",
                node.resource_type, node.name
            ),
            ..base
        }
        .with_hint(format!("enable `{}` or remove the ref", r.name));
    }
    let mut d = Diagnostic {
        code: codes::UNKNOWN_REF,
        message: format!(
            "{} `{}` depends on a node named {what} which was not found",
            node.resource_type, node.name
        ),
        ..base
    };
    if let Some(s) = suggest(&r.name, index.names()) {
        d = d.with_hint(format!("did you mean `{s}`?"));
    }
    d
}

fn unknown_source(
    node: &Node,
    source: &str,
    table: &str,
    sources: &BTreeMap<String, SourceNode>,
) -> Diagnostic {
    let needle = format!("'{table}'");
    let (line, column) = node
        .raw_code
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find(&needle).map(|c| (i + 1, c + 2)))
        .unwrap_or((1, 1));
    let mut d = Diagnostic {
        code: codes::UNKNOWN_SOURCE,
        message: format!(
            "{} `{}` depends on a source named `{source}.{table}` which was not found",
            node.resource_type, node.name
        ),
        ..node_location(node, line, column, table.len())
    };
    let names: Vec<String> = sources
        .values()
        .map(|s| format!("{}.{}", s.source_name, s.name))
        .collect();
    if let Some(s) = suggest(
        &format!("{source}.{table}"),
        names.iter().map(String::as_str),
    ) {
        d = d.with_hint(format!("did you mean `{s}`?"));
    }
    d
}

fn node_location(node: &Node, line: usize, column: usize, len: usize) -> Diagnostic {
    let d = Diagnostic::error(codes::UNKNOWN_REF, String::new()).at(
        node.original_file_path.clone(),
        line,
        column,
    );
    if node.resource_type == ResourceType::Test && node.test.as_ref().is_some_and(|t| t.is_generic)
    {
        d
    } else {
        d.with_source(node.raw_code.clone(), len)
    }
}
