//! Descriptions in property YAML are Jinja, as in dbt: `{{ doc('orders') }}`
//! becomes the doc block's text, and the blocks a description names are
//! recorded in its `doc_blocks`.

use std::collections::{BTreeMap, HashMap};

use hangar_jinja::{NodeInput, Phase};
use hangar_project::{Diagnostic, codes, line_col, suggest};
use rayon::prelude::*;

use super::DocBlock;
use super::drafts::path_string;
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
    let mut by_name: HashMap<&str, &DocBlock> = HashMap::new();
    for doc in docs.values() {
        // The first by unique id, as `find_doc` picks.
        by_name.entry(doc.name.as_str()).or_insert(doc);
    }
    let describe = Describer {
        session,
        resolver,
        docs,
        by_name,
    };
    let problems: Vec<Diagnostic> = nodes
        .par_iter_mut()
        .filter(|node| {
            has_jinja(&node.description) || node.columns.values().any(|c| has_jinja(&c.description))
        })
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
    // Every table of a source carries the source's description: render it
    // once per source, so a problem in it is reported once.
    let mut source_descriptions: HashMap<(String, String), String> = HashMap::new();
    for source in sources.values_mut() {
        let templated = has_jinja(&source.description)
            || has_jinja(&source.source_description)
            || source.columns.values().any(|c| has_jinja(&c.description));
        if !templated {
            continue;
        }
        let place = (
            source.package_name.clone(),
            source.original_file_path.clone(),
        );
        describe.render(&mut source.description, &place, diagnostics);
        describe.columns(&mut source.columns, &place, diagnostics);
        let key = (source.package_name.clone(), source.source_name.clone());
        let rendered = source_descriptions.entry(key).or_insert_with(|| {
            let mut text = source.source_description.clone();
            describe.render(&mut text, &place, diagnostics);
            text
        });
        source.source_description.clone_from(rendered);
    }
}

/// Whether `text` holds Jinja to render.
fn has_jinja(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
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
    /// Doc blocks by name, for `doc('name')` without a package.
    by_name: HashMap<&'a str, &'a DocBlock>,
}

impl Describer<'_> {
    /// `text` with each `{{ doc('name') }}` (or `doc('package', 'name')`)
    /// replaced by the block's text, and the blocks' ids; `None` when the
    /// text holds any other Jinja or names a block that does not exist, so
    /// that it is rendered (and the error reported) as usual.
    fn substitute_docs(&self, text: &str) -> Option<(String, Vec<String>)> {
        if text.contains("{%") || text.contains("{#") {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut blocks = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let close = open + rest[open..].find("}}")?;
            let doc = self.doc_call(&rest[open + 2..close])?;
            out.push_str(&rest[..open]);
            out.push_str(&doc.block_contents);
            if !blocks.contains(&doc.unique_id) {
                blocks.push(doc.unique_id.clone());
            }
            rest = &rest[close + 2..];
        }
        out.push_str(rest);
        Some((out, blocks))
    }

    /// H306 at the first mention of `name` in the property file.
    fn unknown_doc(&self, name: &str, package: &str, path: &str) -> Diagnostic {
        let file = self
            .session
            .project
            .package(package)
            .and_then(|p| p.properties.iter().find(|f| path_string(&f.path) == path));
        let mut d = Diagnostic::error(
            codes::UNKNOWN_DOC,
            format!("a description uses doc('{name}'), but no docs block is named `{name}`"),
        );
        d = match file {
            Some(f) => {
                let at = f.contents.find(name).unwrap_or(0);
                let (line, column) = line_col(&f.contents, at);
                d.at(f.path.clone(), line, column)
                    .with_source(f.contents.clone(), name.len())
            }
            None => d.at(path, 1, 1),
        };
        match suggest(name, self.by_name.keys().copied()) {
            Some(near) => d.with_hint(format!("did you mean `{near}`?")),
            None => d.with_hint(format!(
                "define it in a .md file: {{% docs {name} %}}...{{% enddocs %}}"
            )),
        }
    }

    /// The block `doc('name')` or `doc('package', 'name')` names, when
    /// `expression` is exactly such a call with literal arguments.
    fn doc_call(&self, expression: &str) -> Option<&DocBlock> {
        let args = expression
            .trim()
            .strip_prefix("doc")?
            .trim_start()
            .strip_prefix('(')?
            .strip_suffix(')')?;
        let names: Vec<&str> = args.split(',').map(string_literal).collect::<Option<_>>()?;
        match names.as_slice() {
            [name] => self.by_name.get(name).copied(),
            [package, name] => find_doc(self.docs, Some(package), name),
            _ => None,
        }
    }

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
        if !has_jinja(text) {
            return None;
        }
        // Most descriptions are `{{ doc('name') }}` and nothing else Jinja:
        // put the blocks in without a render (10,000 renders cost 0.15 s).
        if let Some((substituted, blocks)) = self.substitute_docs(text) {
            *text = substituted;
            return Some(blocks);
        }
        let mut blocks = Vec::new();
        for args in call_args(text, "doc") {
            let (pkg, name) = match args.as_slice() {
                [name] => (None, name),
                [pkg, name] => (Some(pkg.as_str()), name),
                _ => continue,
            };
            match find_doc(self.docs, pkg, name) {
                Some(doc) => blocks.push(doc.unique_id.clone()),
                // dbt stops here; hangar reports it with the others.
                None => out.push(self.unknown_doc(name, package, path)),
            }
        }
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

/// The text of a quoted literal without quotes or backslashes inside.
fn string_literal(arg: &str) -> Option<&str> {
    let arg = arg.trim();
    let quote = arg.chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let inner = arg.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(['\'', '"', '\\'])).then_some(inner)
}
