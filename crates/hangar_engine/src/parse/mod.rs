//! Parse phase: every node rendered once with `execute` false, capturing
//! refs, sources and `config()` calls; all problems collected, none thrown.

// Nodes are about a kilobyte: lists of boxed nodes are gathered, split and
// sorted by moving pointers (clippy's threshold for this lint is 4 KB).
#![allow(clippy::vec_box)]

mod blocks;
mod descriptions;
pub mod drafts;
mod exposures;
mod generic;
mod naming;
mod patches;
mod primary_key;
mod refs;
mod sources;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use hangar_graph::{Graph, GraphNode, Links, ResourceType, TestInfo, TestKind};
use hangar_jinja::{NodeInput, Phase};
use hangar_project::{Diagnostic, Package, SourceFile, codes};
use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::Failure;
use crate::generic_tests::config_argument;
use crate::node::{Node, NodeRef, SourceNode};
use crate::session::Session;
use drafts::{FolderConfigMemo, draft, file_stem, path_string};
use generic::{Attachment, TestContext, generic_tests_for};
use patches::{PatchIndex, PatchRef, apply_patch, finish_config, index_patches};

pub use exposures::depends_on_nodes as exposure_depends_on;
pub use naming::{node_context, quote_policy, relation_for, source_relation};
pub(crate) use patches::finish_config as finish_node_config;
pub use refs::{ParseResolver, find_doc, is_refable};

/// A `{% docs %}` block.
#[derive(Debug, Clone)]
pub struct DocBlock {
    pub unique_id: String,
    pub name: String,
    pub package_name: String,
    pub original_file_path: String,
    pub block_contents: String,
}

/// Everything the parse phase produced.
pub struct ParsedProject {
    pub root_package: String,
    pub nodes: BTreeMap<String, Box<Node>>,
    pub sources: BTreeMap<String, SourceNode>,
    pub docs: BTreeMap<String, DocBlock>,
    pub exposures: BTreeMap<String, Value>,
    /// Disabled nodes by unique id (dbt keeps a list per id).
    pub disabled: BTreeMap<String, Vec<Node>>,
    pub graph: Graph,
    pub warnings: Vec<Diagnostic>,
}

impl ParsedProject {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.get(id).map(|n| &**n)
    }
}

/// Parse the project: returns the parsed project, or every error found.
///
/// The property files' entries become nodes, sources and tests; the session
/// then keeps only the files' text (see
/// [`hangar_project::LoadedProject::release_property_entries`]), so a
/// session is parsed once.
pub fn parse_project(session: &mut Session) -> Result<ParsedProject, Failure> {
    let parsed = parse_project_keeping_entries(session)?;
    // Before the graph is built, so the graph's copies of every node do not
    // sit beside the property entries at the parse's peak.
    session.project.release_property_entries();
    let graph = build_graph(&parsed)?;
    Ok(ParsedProject { graph, ..parsed })
}

/// [`parse_project`] with the graph left empty and the property files'
/// entries kept: `hangar parse` builds no graph, so it need not spend
/// the 15–30 ms that freeing a large project's entries takes (its peak
/// memory stays below that of `compile`). A caller that goes on to build
/// the graph releases them first (`release_property_entries`).
pub(crate) fn parse_project_keeping_entries(session: &Session) -> Result<ParsedProject, Failure> {
    if !session.project.has_property_entries() {
        return Err(Failure::single(Diagnostic::error(
            codes::UNSUPPORTED,
            "this session was parsed already; load the project again to parse it again",
        )));
    }
    parse_resources(session)
}

/// The graph of a parsed project's nodes, sources and exposures.
pub(crate) fn build_graph(parsed: &ParsedProject) -> Result<Graph, Failure> {
    let (nodes, depends_on) = graph_nodes(parsed);
    Graph::build_from(nodes, depends_on).map_err(Failure::new)
}

/// Everything [`ParsedProject`] holds but the graph (left empty).
fn parse_resources(session: &Session) -> Result<ParsedProject, Failure> {
    let mut diagnostics = Vec::new();
    let root = session.root_package();
    let docs = doc_blocks(&session.project.packages, &mut diagnostics);
    let property_files: Vec<_> = session
        .project
        .packages
        .iter()
        .flat_map(|p| p.properties.iter())
        .collect();
    let mut duplicate_patches = Vec::new();
    let patch_index = index_patches(property_files.iter().copied(), &mut duplicate_patches);
    for (first, second) in duplicate_patches {
        diagnostics.push(duplicate_patch(&first, &second));
    }

    let memo = FolderConfigMemo::default();
    let mut drafts = file_nodes(session, root, &memo, &mut diagnostics);
    let used_patches = apply_patches(&mut drafts, &patch_index);
    report_unused_patches(&patch_index, &used_patches, &mut diagnostics);

    let resolver = ParseResolver::new(session, &docs);
    // Boxed from here on: a node is about a kilobyte, and tens of thousands
    // of them were copied at each step that gathers, splits or sorts them.
    let rendered: Vec<(Box<Node>, Option<Diagnostic>)> = drafts
        .into_par_iter()
        .map(|node| {
            let (node, problem) = render_for_parse(session, &resolver, node);
            (Box::new(node), problem)
        })
        .collect();
    let mut nodes = Vec::with_capacity(rendered.len());
    for (node, problem) in rendered {
        if problem.is_none()
            && node.resource_type == ResourceType::Model
            && node.enabled()
            && crate::contracts::is_enforced(&node)
        {
            let properties = node.patch_path.as_deref().and_then(|p| {
                let (package, path) = p.split_once("://")?;
                property_files
                    .iter()
                    .find(|f| f.package == package && path_string(&f.path) == path)
                    .map(|f| &f.contents)
            });
            diagnostics.extend(crate::contracts::check(&node, properties));
        }
        // A node that failed to render stays, so refs to it resolve and the
        // render error is reported once, without follow-on errors.
        nodes.push(node);
        diagnostics.extend(problem);
    }

    let mut sources = BTreeMap::new();
    for file in &property_files {
        let Some(package) = session.project.package(&file.package) else {
            continue;
        };
        for source in
            sources::source_nodes(file, package, root, session.profile.database.as_deref())
        {
            sources.insert(source.unique_id.clone(), source);
        }
    }
    render_source_fields(session, &resolver, &mut sources, &mut diagnostics);
    descriptions::render_descriptions(
        session,
        &resolver,
        &docs,
        &mut nodes,
        &mut sources,
        &mut diagnostics,
    );
    let mut tests = yaml_tests(
        session,
        &property_files,
        &nodes,
        &sources,
        &memo,
        &mut diagnostics,
    );
    let config_problems: Vec<Vec<Diagnostic>> = tests
        .par_iter_mut()
        .map(|batch| render_test_configs(session, &resolver, batch))
        .collect();
    diagnostics.extend(config_problems.into_iter().flatten());
    primary_key::infer_primary_keys(&mut nodes, &tests);
    // Tens of thousands of nodes: grow once, copy each test once.
    nodes.reserve(tests.iter().map(Vec::len).sum());
    for batch in tests {
        nodes.extend(batch);
    }

    let (enabled, disabled) = split_disabled(nodes);
    let mut nodes = check_duplicates(enabled, &mut diagnostics);
    refs::resolve_dependencies(
        &mut nodes,
        &disabled,
        &sources,
        &root.name,
        &mut diagnostics,
    );
    naming::assign_relations(session, &mut nodes, &mut sources, &mut diagnostics);
    let mut disabled = disabled;
    add_unit_tests(
        session,
        &property_files,
        &mut nodes,
        &mut disabled,
        &mut diagnostics,
    );

    let exposures = exposures::exposures(session, &nodes, &disabled, &sources, &mut diagnostics);
    let (errors, mut warnings): (Vec<_>, Vec<_>) =
        diagnostics.into_iter().partition(Diagnostic::is_error);
    if !errors.is_empty() {
        return Err(Failure::new(errors));
    }
    warnings.extend(session.warnings.iter().cloned());
    Ok(ParsedProject {
        root_package: root.name.clone(),
        nodes,
        sources,
        docs,
        exposures,
        disabled,
        graph: Graph::default(),
        warnings,
    })
}

/// Unit tests depend on their model alone, so they join after refs are resolved.
fn add_unit_tests(
    session: &Session,
    files: &[&hangar_project::properties::PropertyFile],
    nodes: &mut BTreeMap<String, Box<Node>>,
    disabled: &mut BTreeMap<String, Vec<Node>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let found = crate::unit_tests::unit_test_nodes(
        session,
        files,
        nodes.values().map(|n| &**n),
        diagnostics,
    );
    for node in found {
        if !node.enabled() {
            disabled
                .entry(node.unique_id.clone())
                .or_default()
                .push(node);
        } else if nodes.contains_key(&node.unique_id) {
            diagnostics.push(
                Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    format!(
                        "unit test `{}` of model `{}` is defined twice",
                        node.name,
                        node.fqn
                            .get(node.fqn.len().saturating_sub(2))
                            .map_or("", String::as_str)
                    ),
                )
                .at(node.original_file_path.clone(), 1, 1)
                .with_hint("unit test names must be unique per model"),
            );
        } else {
            nodes.insert(node.unique_id.clone(), Box::new(node));
        }
    }
}

/// Models, analyses, singular tests, snapshots and seeds of every package.
fn file_nodes(
    session: &Session,
    root: &Package,
    memo: &FolderConfigMemo,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Node> {
    let mut nodes = Vec::new();
    for package in &session.project.packages {
        let files = &package.files;
        let cfg = &package.config;
        let simple = |rt, list: &[SourceFile], folders: &[String], nodes: &mut Vec<Node>| {
            let drafted = list.par_iter().map(|f| {
                let name = file_stem(&path_string(&f.path)).to_string();
                draft(
                    memo,
                    rt,
                    package,
                    root,
                    f,
                    folders,
                    &name,
                    f.contents.clone(),
                )
            });
            nodes.par_extend(drafted);
        };
        simple(
            ResourceType::Model,
            &files.models,
            &cfg.model_paths,
            &mut nodes,
        );
        simple(
            ResourceType::Analysis,
            &files.analyses,
            &cfg.analysis_paths,
            &mut nodes,
        );
        simple(
            ResourceType::Test,
            &files.singular_tests,
            &cfg.test_paths,
            &mut nodes,
        );
        simple(
            ResourceType::Seed,
            &files.seeds,
            &cfg.seed_paths,
            &mut nodes,
        );
        for f in &files.snapshots {
            match blocks::snapshot_blocks(&f.contents) {
                Ok(found) => {
                    for b in found {
                        let code: Arc<str> = b.body.into();
                        nodes.push(draft(
                            memo,
                            ResourceType::Snapshot,
                            package,
                            root,
                            f,
                            &cfg.snapshot_paths,
                            b.name,
                            code,
                        ));
                    }
                }
                Err(e) => diagnostics.push(
                    Diagnostic::error(codes::JINJA_SYNTAX, e.message)
                        .at(f.path.clone(), e.line, 1)
                        .with_source(f.contents.clone(), 0),
                ),
            }
        }
    }
    nodes.extend(yaml_snapshots(session, root, memo));
    nodes.extend(hook_nodes(session, root, memo));
    for node in &mut nodes {
        if node.resource_type == ResourceType::Test {
            node.test = Some(crate::node::TestNodeData {
                test_name: None,
                namespace: None,
                kwargs: Default::default(),
                column_name: None,
                attached_node: None,
                file_key_name: None,
                is_generic: false,
            });
        }
    }
    nodes
}

/// `on-run-start` / `on-run-end` hooks as dbt's `operation` nodes
/// (`operation.<package>.<package>-on-run-end-0`), for the manifest.
fn hook_nodes(session: &Session, root: &Package, memo: &FolderConfigMemo) -> Vec<Node> {
    let mut out = Vec::new();
    for package in &session.project.packages {
        let hooks = [
            ("on-run-start", &package.config.on_run_start),
            ("on-run-end", &package.config.on_run_end),
        ];
        for (event, sqls) in hooks {
            for (index, sql) in sqls.iter().enumerate() {
                let name = format!("{}-{event}-{index}", package.name);
                let code: Arc<str> = sql.as_str().into();
                let source = SourceFile {
                    package: package.name.clone(),
                    path: "./dbt_project.yml".into(),
                    abs_path: package.root.join(&package.config.file),
                    contents: code.clone(),
                    // dbt gives hooks the project file's checksum.
                    checksum: package.config.file_checksum.clone(),
                };
                let mut node = draft(
                    memo,
                    ResourceType::Operation,
                    package,
                    root,
                    &source,
                    &[],
                    &name,
                    code,
                );
                node.path = format!("hooks/{name}.sql");
                node.fqn = vec![package.name.clone(), "hooks".into(), name.clone()];
                Arc::make_mut(&mut node.config).insert("tags".into(), Value::from(vec![event]));
                out.push(node);
            }
        }
    }
    out
}

/// dbt 1.9+ snapshots declared in YAML: `snapshots: [{name, relation, config}]`.
fn yaml_snapshots(session: &Session, root: &Package, memo: &FolderConfigMemo) -> Vec<Node> {
    let mut out = Vec::new();
    for package in &session.project.packages {
        for file in &package.properties {
            for patch in &file.snapshots {
                let Some(relation) = patch.extra.get("relation").and_then(Value::as_str) else {
                    continue;
                };
                let code: Arc<str> = format!("select * from {{{{ {relation} }}}}").into();
                let source = SourceFile {
                    package: package.name.clone(),
                    path: file.path.clone(),
                    abs_path: package.root.join(&file.path),
                    contents: code.clone(),
                    // dbt's checksum is the property file's.
                    checksum: hangar_project::files::contents_checksum(&file.contents),
                };
                let folders = &package.config.snapshot_paths;
                out.push(draft(
                    memo,
                    ResourceType::Snapshot,
                    package,
                    root,
                    &source,
                    folders,
                    &patch.name,
                    code,
                ));
            }
        }
    }
    out
}

/// Applies each node's property-file entry, in parallel; returns the keys
/// of the entries used.
fn apply_patches(
    nodes: &mut [Node],
    index: &PatchIndex<'_>,
) -> Vec<(String, ResourceType, String)> {
    nodes
        .par_iter_mut()
        .filter_map(|node| {
            let key = (
                node.package_name.clone(),
                node.resource_type,
                node.name.clone(),
            );
            let patch = index.get(&key)?;
            apply_patch(node, patch);
            Some(key)
        })
        .collect()
}

fn report_unused_patches(
    index: &PatchIndex<'_>,
    used: &[(String, ResourceType, String)],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let used: std::collections::HashSet<&(String, ResourceType, String)> = used.iter().collect();
    let mut unused: Vec<_> = index.iter().filter(|(k, _)| !used.contains(k)).collect();
    unused.sort_by(|a, b| a.0.cmp(b.0));
    for ((_, rt, name), p) in unused {
        diagnostics.push(
            Diagnostic::warning(
                codes::PATCH_WITHOUT_NODE,
                format!(
                    "{}s entry `{name}` in {} matches no {rt} in the project",
                    rt,
                    p.file.path.display()
                ),
            )
            .at(p.file.path.clone(), p.patch.line.max(1), 1)
            .with_source(p.file.contents.clone(), 0),
        );
    }
}

fn duplicate_patch(first: &PatchRef<'_>, second: &PatchRef<'_>) -> Diagnostic {
    Diagnostic::error(
        codes::DUPLICATE_NAME,
        format!(
            "`{}` is described twice: in {} and in {}",
            second.patch.name,
            first.file.path.display(),
            second.file.path.display()
        ),
    )
    .at(second.file.path.clone(), second.patch.line.max(1), 1)
    .with_source(second.file.contents.clone(), 0)
    .with_hint("keep one entry per node across all property files")
}

fn render_for_parse(
    session: &Session,
    resolver: &ParseResolver<'_>,
    mut node: Node,
) -> (Node, Option<Diagnostic>) {
    // Seeds have no SQL; hooks are rendered when they run (they may use `results`).
    if matches!(
        node.resource_type,
        ResourceType::Seed | ResourceType::Operation
    ) {
        finish_config(&mut node);
        node.share_configs();
        return (node, None);
    }
    let input = NodeInput {
        phase: Phase::Parse,
        unique_id: node.unique_id.clone(),
        package: node.package_name.clone(),
        name: node.name.clone(),
        resource_type: node.resource_type.to_string(),
        path: node.original_file_path.clone(),
        sql: node.raw_code.clone(),
        config: node.full_config(),
        this: None,
        is_incremental: false,
        model: hangar_jinja::ModelContext::Lazy(&node),
        extra: Map::new(),
        overrides: Default::default(),
        generic_test_kwargs: None,
    };
    let out = match session.jinja.render_node(&input, resolver, None) {
        Ok(out) => out,
        Err(d) => {
            finish_config(&mut node);
            node.share_configs();
            return (node, Some(d));
        }
    };
    // Configs are shared between nodes: copy one only to change it.
    if !out.config.is_empty() {
        hangar_project::config::merge_config(Arc::make_mut(&mut node.config), &out.config);
        hangar_project::config::merge_config(
            Arc::make_mut(&mut node.unrendered_config),
            &out.config,
        );
    }
    node.refs = out
        .refs
        .into_iter()
        .map(|r| NodeRef {
            package: r.package,
            name: r.name,
            version: r.version,
            line: r.line,
        })
        .collect();
    node.sources = out.sources;
    node.depends_on_macros = out.macros_called.into_iter().collect();
    finish_config(&mut node);
    node.share_configs();
    let problem = check_materialization(&node).err();
    (node, problem)
}

const MATERIALIZATIONS: &[&str] = &[
    "view",
    "table",
    "incremental",
    "ephemeral",
    "seed",
    "snapshot",
    "test",
    "materialized_view",
];

fn check_materialization(node: &Node) -> Result<(), Diagnostic> {
    if node.resource_type != ResourceType::Model {
        return Ok(());
    }
    let m = node.materialized();
    if MATERIALIZATIONS.contains(&m) {
        return Ok(());
    }
    let mut d = Diagnostic::error(
        codes::UNKNOWN_MATERIALIZATION,
        format!(
            "model `{}` uses the unknown materialization `{m}`",
            node.name
        ),
    )
    .at(node.original_file_path.clone(), 1, 1)
    .with_source(node.raw_code.clone(), 0);
    if let Some(s) = hangar_project::suggest(m, MATERIALIZATIONS.iter().copied()) {
        d = d.with_hint(format!("did you mean `{s}`?"));
    }
    Err(d)
}

/// Generic tests declared on models, seeds, snapshots and sources, in
/// batches (one per YAML entry) so that no large list is copied twice.
fn yaml_tests(
    session: &Session,
    files: &[&hangar_project::properties::PropertyFile],
    nodes: &[Box<Node>],
    sources: &BTreeMap<String, SourceNode>,
    memo: &FolderConfigMemo,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Vec<Box<Node>>> {
    let root = session.root_package();
    let node_ids: std::collections::HashMap<(ResourceType, &str, &str), &str> = nodes
        .iter()
        .map(|n| {
            (
                (n.resource_type, n.package_name.as_str(), n.name.as_str()),
                n.unique_id.as_str(),
            )
        })
        .collect();
    // Collect every YAML entry that carries tests, then build the test
    // nodes in parallel: large projects declare tens of thousands.
    let mut jobs: Vec<TestJob<'_>> = Vec::new();
    for file in files {
        let Some(package) = session.project.package(&file.package) else {
            continue;
        };
        let groups = [
            (ResourceType::Model, &file.models, "models"),
            (ResourceType::Seed, &file.seeds, "seeds"),
            (ResourceType::Snapshot, &file.snapshots, "snapshots"),
        ];
        for (rt, patches, file_key) in groups {
            for patch in patches.iter() {
                let key = (rt, package.name.as_str(), patch.name.as_str());
                let Some(attached_id) = node_ids.get(&key) else {
                    continue;
                };
                jobs.push(TestJob {
                    file,
                    package,
                    attachment: Attachment {
                        target: crate::generic_tests::TestTarget::Node {
                            name: &patch.name,
                            version: None,
                            is_model: rt == ResourceType::Model,
                        },
                        attached_id: (*attached_id).to_string(),
                        file_key_name: [file_key, ".", &patch.name].concat(),
                    },
                    tests: &patch.data_tests,
                    columns: &patch.columns,
                });
            }
        }
        for src in &file.sources {
            for table in &src.tables {
                let id = ["source.", &package.name, ".", &src.name, ".", &table.name].concat();
                if !sources.contains_key(&id) {
                    continue;
                }
                jobs.push(TestJob {
                    file,
                    package,
                    attachment: Attachment {
                        target: crate::generic_tests::TestTarget::Source {
                            source: &src.name,
                            table: &table.name,
                        },
                        attached_id: id,
                        file_key_name: format!("sources.{}", src.name),
                    },
                    tests: &table.data_tests,
                    columns: &table.columns,
                });
            }
        }
    }
    let context = TestContext {
        memo,
        jinja: &session.jinja,
        root,
    };
    let built: Vec<(Vec<Box<Node>>, Vec<Diagnostic>)> = jobs
        .par_iter()
        .map(|job| {
            let mut problems = Vec::new();
            let nodes = generic_tests_for(
                &context,
                job.file,
                job.package,
                &job.attachment,
                job.tests,
                job.columns,
                &mut problems,
            );
            (nodes, problems)
        })
        .collect();
    let mut tests = Vec::with_capacity(built.len());
    for (nodes, problems) in built {
        tests.push(nodes);
        diagnostics.extend(problems);
    }
    tests
}

/// One YAML entry whose tests are to be built.
struct TestJob<'a> {
    file: &'a hangar_project::properties::PropertyFile,
    package: &'a Package,
    attachment: Attachment<'a>,
    tests: &'a [hangar_project::properties::TestDef],
    columns: &'a [hangar_project::properties::ColumnDef],
}

/// dbt renders a source's `database`, `schema` and `identifier`
/// (`"{{ var('raw_db', target.database) }}"`).
fn render_source_fields(
    session: &Session,
    resolver: &ParseResolver<'_>,
    sources: &mut BTreeMap<String, SourceNode>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let problems: Vec<Vec<Diagnostic>> = sources
        .par_iter_mut()
        .map(|(_, source)| render_source_field_templates(session, resolver, source))
        .collect();
    diagnostics.extend(problems.into_iter().flatten());
}

/// [`render_source_fields`] for one source: its problems.
fn render_source_field_templates(
    session: &Session,
    resolver: &ParseResolver<'_>,
    source: &mut SourceNode,
) -> Vec<Diagnostic> {
    let templated = |s: &str| s.contains("{{") || s.contains("{%");
    let mut problems = Vec::new();
    let has_template = source.database.as_deref().is_some_and(templated)
        || templated(&source.schema)
        || templated(&source.identifier);
    if !has_template {
        return problems;
    }
    let input = NodeInput::new(
        Phase::Parse,
        &source.package_name,
        &source.original_file_path,
        "",
    );
    let mut render = |text: &str| -> Option<String> {
        match session.jinja.render_string(text, &input, resolver, None) {
            Ok(out) => Some(out.trim().to_string()),
            Err(d) => {
                problems.push(d);
                None
            }
        }
    };
    if let Some(db) = source.database.clone().filter(|d| templated(d)) {
        source.database = render(&db).filter(|d| !d.is_empty() && d != "None");
    }
    if templated(&source.schema) {
        source.schema = render(&source.schema.clone()).unwrap_or_default();
    }
    if templated(&source.identifier) {
        source.identifier = render(&source.identifier.clone()).unwrap_or_default();
    }
    problems
}

/// dbt renders a generic test's string configs (`where: "x > '{{ var(...) }}'"`).
fn render_test_configs(
    session: &Session,
    resolver: &ParseResolver<'_>,
    tests: &mut [Box<Node>],
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for test in tests.iter_mut() {
        let templated: Vec<String> = test
            .config
            .iter()
            .filter(|(_, v)| {
                v.as_str()
                    .is_some_and(|s| s.contains("{{") || s.contains("{%"))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in templated {
            let Some(template) = test
                .config
                .get(&key)
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
                continue;
            };
            let input = NodeInput::new(
                Phase::Parse,
                &test.package_name,
                &test.original_file_path,
                "",
            );
            match session
                .jinja
                .render_string(&template, &input, resolver, None)
            {
                Ok(rendered) => {
                    let rendered = Value::String(rendered);
                    let template = Value::String(template);
                    // dbt's raw code shows the test's own config rendered.
                    let (written, shown) = (
                        config_argument(&key, &template),
                        config_argument(&key, &rendered),
                    );
                    let generic = test.test.as_ref().is_some_and(|t| t.is_generic);
                    if generic && test.raw_code.contains(&written) {
                        test.raw_code = test.raw_code.replacen(&written, &shown, 1).into();
                    }
                    // dbt's unrendered config of a generic test holds its own
                    // config rendered, too.
                    if generic && test.unrendered_config.get(&key) == Some(&template) {
                        Arc::make_mut(&mut test.unrendered_config)
                            .insert(key.clone(), rendered.clone());
                        crate::node::reshare_config(&mut test.unrendered_config);
                    }
                    Arc::make_mut(&mut test.config).insert(key, rendered);
                    crate::node::reshare_config(&mut test.config);
                }
                Err(d) => diagnostics.push(d),
            }
        }
    }
    diagnostics
}

/// Takes the disabled nodes out in place: the enabled ones, most of a large
/// project, are not copied.
fn split_disabled(mut nodes: Vec<Box<Node>>) -> (Vec<Box<Node>>, BTreeMap<String, Vec<Node>>) {
    let mut disabled: BTreeMap<String, Vec<Node>> = BTreeMap::new();
    for n in nodes.extract_if(.., |n| !n.enabled()) {
        disabled.entry(n.unique_id.clone()).or_default().push(*n);
    }
    (nodes, disabled)
}

/// The nodes by unique id; a second node with an id already taken is
/// reported. The ids (the map's keys) are copied and sorted in parallel,
/// then the map is built in one pass from sorted input (inserting 40,000
/// nodes one by one moved them around inside the tree). Sorting the keys
/// beside their positions reads each id through one pointer, not two.
fn check_duplicates(
    boxed: Vec<Box<Node>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Box<Node>> {
    let mut keyed: Vec<(String, usize)> = boxed
        .par_iter()
        .enumerate()
        .map(|(i, n)| (n.unique_id.clone(), i))
        .collect();
    // By position among equal ids: of those, the first found stays first.
    keyed.par_sort_unstable();
    let mut slots: Vec<Option<Box<Node>>> = boxed.into_iter().map(Some).collect();
    let mut unique: Vec<(String, Box<Node>)> = Vec::with_capacity(keyed.len());
    for (id, i) in keyed {
        // Each position is listed once, so its slot is still full.
        let Some(n) = slots[i].take() else { continue };
        if let Some((_, existing)) = unique.last().filter(|(last, _)| *last == id) {
            diagnostics.push(
                Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    format!(
                        "two {}s are named `{}`: {} and {}",
                        n.resource_type, n.name, existing.original_file_path, n.original_file_path
                    ),
                )
                .at(n.original_file_path.clone(), 1, 1)
                .with_hint("names must be unique within a package; rename one of the files or give one an alias with a different name"),
            );
            continue;
        }
        unique.push((id, n));
    }
    unique.into_iter().collect()
}

fn doc_blocks(
    packages: &[Package],
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<String, DocBlock> {
    let mut docs = BTreeMap::new();
    for package in packages {
        for f in &package.files.docs {
            match blocks::docs_blocks(&f.contents) {
                Ok(found) => {
                    for b in found {
                        let unique_id = format!("doc.{}.{}", package.name, b.name);
                        docs.insert(
                            unique_id.clone(),
                            DocBlock {
                                unique_id,
                                name: b.name.to_string(),
                                package_name: package.name.clone(),
                                original_file_path: path_string(&f.path),
                                block_contents: b.body.trim().to_string(),
                            },
                        );
                    }
                }
                Err(e) => diagnostics.push(
                    Diagnostic::error(codes::JINJA_SYNTAX, e.message)
                        .at(f.path.clone(), e.line, 1)
                        .with_source(f.contents.clone(), 0),
                ),
            }
        }
    }
    docs
}

/// A parsed resource the graph holds.
#[derive(Clone, Copy)]
enum GraphMember<'a> {
    Node(&'a Node),
    Source(&'a SourceNode),
    Exposure(&'a Value),
}

impl<'a> GraphMember<'a> {
    fn depends_on(self) -> Cow<'a, [String]> {
        match self {
            GraphMember::Node(n) => Cow::Borrowed(n.depends_on_nodes.as_slice()),
            GraphMember::Source(_) => Cow::Borrowed(&[][..]),
            GraphMember::Exposure(e) => Cow::Owned(exposures::depends_on_nodes(e)),
        }
    }

    fn graph_node(self) -> GraphNode {
        match self {
            GraphMember::Node(n) => graph_node(n),
            GraphMember::Source(s) => source_graph_node(s),
            GraphMember::Exposure(e) => exposures::graph_node(e),
        }
    }

    fn original_file_path(self) -> String {
        match self {
            GraphMember::Node(n) => n.original_file_path.clone(),
            GraphMember::Source(s) => s.original_file_path.clone(),
            GraphMember::Exposure(e) => e
                .get("original_file_path")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        }
    }
}

/// Nodes, sources and exposures with their unique ids, sorted by them.
fn graph_members(parsed: &ParsedProject) -> Vec<(&str, GraphMember<'_>)> {
    let mut members: Vec<(&str, GraphMember<'_>)> =
        Vec::with_capacity(parsed.nodes.len() + parsed.sources.len() + parsed.exposures.len());
    members.extend(
        parsed
            .nodes
            .iter()
            .map(|(id, n)| (id.as_str(), GraphMember::Node(n))),
    );
    members.extend(
        parsed
            .sources
            .iter()
            .map(|(id, s)| (id.as_str(), GraphMember::Source(s))),
    );
    members.extend(
        parsed
            .exposures
            .iter()
            .map(|(id, e)| (id.as_str(), GraphMember::Exposure(e))),
    );
    // Three sorted runs: the stable sort merges them.
    members.sort_by(|a, b| a.0.cmp(b.0));
    members
}

/// Nodes, sources and exposures sorted by unique id, and at the same
/// positions their parents' ids, lent to the graph (which keeps indices).
/// Made in their final order, so the graph moves none of them.
fn graph_nodes(parsed: &ParsedProject) -> (Vec<GraphNode>, Vec<Cow<'_, [String]>>) {
    let mut nodes = Vec::new();
    let mut depends_on = Vec::new();
    graph_members(parsed)
        .par_iter()
        .map(|&(_, member)| (member.graph_node(), member.depends_on()))
        .unzip_into_vecs(&mut nodes, &mut depends_on);
    (nodes, depends_on)
}

/// The unique ids of a parsed project's nodes, sources and exposures,
/// sorted, and the checked links between them: the graph's problems
/// without its selectable nodes, for a command that selects nothing.
pub(crate) fn link_ids(parsed: &ParsedProject) -> Result<(Vec<&str>, Links), Failure> {
    let members = graph_members(parsed);
    let depends_on: Vec<Cow<'_, [String]>> = members.iter().map(|(_, m)| m.depends_on()).collect();
    let ids: Vec<&str> = members.iter().map(|(id, _)| *id).collect();
    let links = Links::build(&ids, &depends_on, &|i| members[i].1.original_file_path())
        .map_err(Failure::new)?;
    Ok((ids, links))
}

fn source_graph_node(s: &SourceNode) -> GraphNode {
    GraphNode {
        unique_id: s.unique_id.clone(),
        name: s.name.clone(),
        resource_type: ResourceType::Source,
        package_name: s.package_name.clone(),
        fqn: s.fqn.clone(),
        original_file_path: s.original_file_path.clone(),
        path: s.path.clone(),
        tags: s.tags.clone(),
        config: s.config.clone(),
        config_alias: None,
        source_name: Some(s.source_name.clone()),
        test: None,
        version: None,
        checksum: String::new(),
    }
}

fn graph_node(n: &Node) -> GraphNode {
    GraphNode {
        unique_id: n.unique_id.clone(),
        name: n.name.clone(),
        resource_type: n.resource_type,
        package_name: n.package_name.clone(),
        fqn: n.fqn.clone(),
        original_file_path: n.original_file_path.clone(),
        path: n.path.clone(),
        tags: n.tags.clone(),
        config: n.config.clone(),
        config_alias: n.config_alias.clone(),
        source_name: None,
        test: n.test.as_ref().map(|t| TestInfo {
            kind: if t.is_generic {
                TestKind::Generic
            } else {
                TestKind::Singular
            },
            test_name: t.test_name.as_ref().map(|name| match &t.namespace {
                Some(ns) => format!("{ns}.{name}"),
                None => name.clone(),
            }),
            attached_node: t.attached_node.clone(),
            column_name: t.column_name.clone(),
        }),
        version: n.version.clone(),
        checksum: n.checksum.clone(),
    }
}
