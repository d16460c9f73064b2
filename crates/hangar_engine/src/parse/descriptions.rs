//! Descriptions in property YAML are Jinja, as in dbt: `{{ doc('orders') }}`
//! becomes the doc block's text, and the blocks a description names are
//! recorded in its `doc_blocks`.

use std::collections::BTreeMap;

use hangar_jinja::{NodeInput, Phase};
use hangar_project::Diagnostic;
use rayon::prelude::*;

use super::DocBlock;
use super::generic::call_args;
use super::refs::{ParseResolver, find_doc};
use crate::node::{Columns, Node, SourceNode};
use crate::session::Session;

/// Renders the descriptions of nodes, sources and their columns that hold
/// Jinja; a description that fails to render is reported and kept as written.
pub fn render_descriptions(
    session: &Session,
    resolver: &ParseResolver<'_>,
    docs: &BTreeMap<String, DocBlock>,
    nodes: &mut [Box<Node>],
    sources: &mut BTreeMap<String, SourceNode>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let describe = Describer {
        session,
        resolver,
        docs,
    };
    let problems: Vec<Diagnostic> = nodes
        .par_iter_mut()
        .flat_map_iter(|node| {
            let place = (node.package_name.clone(), described_in(node));
            let mut problems = Vec::new();
            if let Some(blocks) = describe.render(&mut node.description, &place, &mut problems) {
                node.doc_blocks = blocks;
            }
            describe.columns(&mut node.columns, &place, &mut problems);
            problems
        })
        .collect();
    diagnostics.extend(problems);
    for source in sources.values_mut() {
        let place = (
            source.package_name.clone(),
            source.original_file_path.clone(),
        );
        describe.render(&mut source.description, &place, diagnostics);
        describe.render(&mut source.source_description, &place, diagnostics);
        describe.columns(&mut source.columns, &place, diagnostics);
    }
}

/// The file a node's description comes from: its property file, else its own.
fn described_in(node: &Node) -> String {
    node.patch_path
        .as_deref()
        .and_then(|p| p.split_once("://"))
        .map_or_else(
            || node.original_file_path.clone(),
            |(_, path)| path.to_string(),
        )
}

struct Describer<'a> {
    session: &'a Session,
    resolver: &'a ParseResolver<'a>,
    docs: &'a BTreeMap<String, DocBlock>,
}

impl Describer<'_> {
    fn columns(&self, columns: &mut Columns, place: &(String, String), out: &mut Vec<Diagnostic>) {
        for column in columns.values_mut() {
            if let Some(blocks) = self.render(&mut column.description, place, out) {
                column.doc_blocks = blocks;
            }
        }
    }

    /// Renders `text` in place when it holds Jinja; returns the unique ids of
    /// the doc blocks it names (`None` when it holds no Jinja).
    fn render(
        &self,
        text: &mut String,
        (package, path): &(String, String),
        out: &mut Vec<Diagnostic>,
    ) -> Option<Vec<String>> {
        if !(text.contains("{{") || text.contains("{%")) {
            return None;
        }
        let blocks = call_args(text, "doc")
            .into_iter()
            .filter_map(|args| {
                let (pkg, name) = match args.as_slice() {
                    [name] => (None, name),
                    [pkg, name] => (Some(pkg.as_str()), name),
                    _ => return None,
                };
                find_doc(self.docs, pkg, name).map(|d| d.unique_id.clone())
            })
            .collect();
        let input = NodeInput::new(Phase::Parse, package, path, "");
        match self
            .session
            .jinja
            .render_string(text, &input, self.resolver, None)
        {
            Ok(rendered) => *text = rendered,
            Err(d) => out.push(d),
        }
        Some(blocks)
    }
}
