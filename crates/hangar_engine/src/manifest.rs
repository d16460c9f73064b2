//! The engine's parsed project written as dbt's artifacts:
//! target/manifest.json (v12) and target/run_results.json (v6).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use hangar_artifacts::manifest::{
    Contract, DependencyMaps, DependsOn, FileHash, InjectedCte, Kwargs, LazyNodes,
    MacroDependsOnList, Manifest, ManifestDoc, ManifestMacro, ManifestMetadata, ManifestNode,
    ManifestSource, Quoting, RefArgs, ResourceType as ArtifactType, TestMetadata,
};
use hangar_artifacts::run_results::{
    AdapterResponse, RunResult, RunResults, RunStatus, TimingInfo,
};
use hangar_artifacts::{ArtifactMetadata, dbt_timestamp, unix_seconds, write_json};
use hangar_graph::{Graph, Links, ResourceType};
use hangar_project::{Diagnostic, codes};
use serde_json::{Map, Value};

use crate::Failure;
use crate::events::{NodeOutcome, NodeStatus};
use crate::node::{Node, SourceNode};
use crate::parse::ParsedProject;
use crate::run::RunOutcome;
use crate::session::Session;

pub fn artifact_type(rt: ResourceType) -> ArtifactType {
    match rt {
        ResourceType::Seed => ArtifactType::Seed,
        ResourceType::Snapshot => ArtifactType::Snapshot,
        ResourceType::Test => ArtifactType::Test,
        ResourceType::Analysis => ArtifactType::Analysis,
        ResourceType::Operation => ArtifactType::Operation,
        ResourceType::Source => ArtifactType::Source,
        _ => ArtifactType::Model,
    }
}

/// Everything in the manifest except the nodes, which [`write_manifest`]
/// makes while it writes them.
pub fn build_manifest(session: &Session, parsed: &ParsedProject) -> Manifest {
    let created_at = unix_seconds(session.invocation.started_at);
    let mut manifest = Manifest::new(manifest_metadata(session, parsed));
    for node in parsed.nodes.values() {
        if let Some(unit) = node.unit.as_deref() {
            let model = parsed.node(&unit.model_id);
            manifest.unit_tests.insert(
                node.unique_id.clone(),
                unit_test_json(node, unit, model, created_at),
            );
        }
    }
    for source in parsed.sources.values() {
        manifest.sources.insert(
            source.unique_id.clone(),
            manifest_source(source, created_at),
        );
    }
    for m in session.jinja.macros() {
        manifest.macros.insert(
            m.unique_id.clone(),
            ManifestMacro {
                name: m.name.clone(),
                package_name: m.package.clone(),
                path: m.path.clone(),
                original_file_path: m.path.clone(),
                unique_id: m.unique_id.clone(),
                macro_sql: m.macro_sql.clone(),
                depends_on: MacroDependsOnList {
                    macros: m.depends_on.clone(),
                },
                created_at,
                supported_languages: None,
                ..ManifestMacro::default()
            },
        );
    }
    for doc in parsed.docs.values() {
        manifest.docs.insert(
            doc.unique_id.clone(),
            ManifestDoc {
                name: doc.name.clone(),
                package_name: doc.package_name.clone(),
                path: doc.original_file_path.clone(),
                original_file_path: doc.original_file_path.clone(),
                unique_id: doc.unique_id.clone(),
                block_contents: doc.block_contents.clone(),
                ..ManifestDoc::default()
            },
        );
    }
    manifest.exposures = parsed.exposures.clone();
    for (id, nodes) in &parsed.disabled {
        let list = nodes
            .iter()
            .filter_map(|n| serde_json::to_value(manifest_node(n, None, created_at)).ok())
            .collect();
        manifest.disabled.insert(id.clone(), list);
    }
    manifest
}

fn manifest_metadata(session: &Session, parsed: &ParsedProject) -> ManifestMetadata {
    let inv = &session.invocation;
    ManifestMetadata::new(
        &parsed.root_package,
        session.adapter_type(),
        &inv.invocation_id,
        inv.started_at,
        project_quoting(session),
    )
}

/// `parent_map` and `child_map` over every resource: the graph's nodes
/// (nodes, unit tests, sources, exposures) and the manifest's untyped
/// resources (metrics and the like), which the graph does not hold.
fn dependency_maps<'a>(
    graph_lists: Vec<(&'a str, &'a [usize])>,
    manifest: &'a Manifest,
) -> DependencyMaps<'a> {
    let mut untyped: Vec<(&str, &Value)> = [
        &manifest.metrics,
        &manifest.semantic_models,
        &manifest.saved_queries,
    ]
    .into_iter()
    .flatten()
    .map(|(id, resource)| (id.as_str(), resource))
    .collect();
    untyped.sort_unstable_by_key(|(id, _)| *id);
    // Merge the two sorted id lists, remembering where each graph node went.
    let mut ids = Vec::with_capacity(graph_lists.len() + untyped.len());
    let mut position_of_graph_node = Vec::with_capacity(graph_lists.len());
    let (mut g, mut u) = (0, 0);
    while g < graph_lists.len() || u < untyped.len() {
        if u == untyped.len() || (g < graph_lists.len() && graph_lists[g].0 < untyped[u].0) {
            position_of_graph_node.push(ids.len() as u32);
            ids.push(graph_lists[g].0);
            g += 1;
        } else {
            ids.push(untyped[u].0);
            u += 1;
        }
    }
    let mut parents = vec![Vec::new(); ids.len()];
    for ((_, graph_parents), &at) in graph_lists.iter().zip(&position_of_graph_node) {
        parents[at as usize] = graph_parents
            .iter()
            .map(|&p| position_of_graph_node[p])
            .collect();
    }
    for (id, resource) in &untyped {
        let Ok(at) = ids.binary_search(id) else {
            continue;
        };
        parents[at] = resource
            .pointer("/depends_on/nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|parent| ids.binary_search(&parent.as_str()?).ok())
            .map(|p| p as u32)
            .collect();
    }
    DependencyMaps::from_parents(ids, parents)
}

/// The nodes that go under the manifest's `nodes` (unit tests have their own key).
fn manifest_nodes(parsed: &ParsedProject) -> impl Iterator<Item = &Node> {
    parsed
        .nodes
        .values()
        .map(|n| &**n)
        .filter(|n| n.unit.is_none())
}

/// A unit test as dbt's manifest writes it (`UnitTestDefinition`).
fn unit_test_json(
    node: &Node,
    unit: &crate::unit_tests::UnitTestData,
    model: Option<&Node>,
    created_at: f64,
) -> Value {
    let def = &unit.definition;
    let fixture = |v: Option<&Value>| {
        let v = v.and_then(Value::as_object);
        serde_json::json!({
            "rows": v.and_then(|m| m.get("rows")).cloned().unwrap_or(Value::Null),
            "format": v.and_then(|m| m.get("format")).cloned().unwrap_or_else(|| "dict".into()),
            "fixture": v.and_then(|m| m.get("fixture")).cloned().unwrap_or(Value::Null),
        })
    };
    let given: Vec<Value> = def
        .get("given")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|g| {
                    let mut f = fixture(Some(g));
                    f["input"] = g.get("input").cloned().unwrap_or(Value::Null);
                    f
                })
                .collect()
        })
        .unwrap_or_default();
    let overrides = def.get("overrides").cloned().unwrap_or(Value::Null);
    let checksum = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(def.to_string().as_bytes()))
    };
    serde_json::json!({
        "model": model.map_or("", |m| m.name.as_str()),
        "given": given,
        "expect": fixture(def.get("expect")),
        "name": node.name,
        "resource_type": "unit_test",
        "package_name": node.package_name,
        "path": node.path,
        "original_file_path": node.original_file_path,
        "unique_id": node.unique_id,
        "fqn": node.fqn,
        "description": node.description,
        "overrides": overrides,
        "depends_on": {"macros": [], "nodes": node.depends_on_nodes},
        "config": {
            "tags": node.tags,
            "meta": node.meta,
            "enabled": node.enabled(),
        },
        "checksum": checksum,
        "schema": model.map_or("", |m| m.schema.as_str()),
        "created_at": created_at,
        "versions": def.get("versions").cloned().unwrap_or(Value::Null),
        "version": model.and_then(|m| m.version.clone()),
    })
}

fn project_quoting(session: &Session) -> Quoting {
    let q = &session.root_package().config.quoting;
    let flag = |k: &str| q.get(k).and_then(Value::as_bool);
    Quoting {
        database: flag("database"),
        schema: flag("schema"),
        identifier: flag("identifier"),
        column: flag("column"),
    }
}

/// dbt's `build_contract_checksum`: sha256 of each column's name, type and
/// constraints (sorted by name), then, for tables and incremental models,
/// the materialization and model-level constraints, all as Python prints
/// them (`state:modified.contract` compares it).
fn contract_checksum(node: &Node) -> String {
    use sha2::Digest;
    let mut columns: Vec<_> = node.columns.values().collect();
    columns.sort_by(|a, b| a.name.cmp(&b.name));
    let mut state = String::new();
    for column in columns {
        state.push('|');
        state.push_str(&column.name);
        state.push_str(column.data_type.as_deref().unwrap_or("None"));
        state.push_str(&constraints_repr(
            &column.constraints,
            "ColumnLevelConstraint",
        ));
    }
    let materialized = node.materialized();
    if matches!(materialized, "table" | "incremental") {
        state.push_str(materialized);
        state.push_str(&constraints_repr(&node.constraints, "ModelLevelConstraint"));
    }
    hex::encode(sha2::Sha256::digest(state.as_bytes()))
}

/// `str()` of a list of dbt's constraint dataclasses.
fn constraints_repr(constraints: &[Value], class: &str) -> String {
    let field = |c: &Value, key: &str, default: Value| {
        crate::pyrepr::py_repr(c.get(key).unwrap_or(&default))
    };
    let items: Vec<String> = constraints
        .iter()
        .map(|c| {
            let kind = c.get("type").and_then(Value::as_str).unwrap_or_default();
            let mut fields = vec![
                format!("type=<ConstraintType.{kind}: '{kind}'>"),
                format!("name={}", field(c, "name", Value::Null)),
                format!("expression={}", field(c, "expression", Value::Null)),
                format!(
                    "warn_unenforced={}",
                    field(c, "warn_unenforced", Value::Bool(true))
                ),
                format!(
                    "warn_unsupported={}",
                    field(c, "warn_unsupported", Value::Bool(true))
                ),
                format!("to={}", field(c, "to", Value::Null)),
                format!(
                    "to_columns={}",
                    field(c, "to_columns", Value::Array(Vec::new()))
                ),
            ];
            if class == "ModelLevelConstraint" {
                fields.push(format!(
                    "columns={}",
                    field(c, "columns", Value::Array(Vec::new()))
                ));
            }
            format!("{class}({})", fields.join(", "))
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// dbt's `MAXIMUM_SEED_SIZE`: larger seeds get a path checksum.
const MAXIMUM_SEED_SIZE: usize = 1024 * 1024;

/// A seed whose file is over [`MAXIMUM_SEED_SIZE`] (a seed's raw code is its file).
fn is_big_seed(node: &Node) -> bool {
    node.resource_type == ResourceType::Seed && node.raw_code.len() > MAXIMUM_SEED_SIZE
}

/// Borrows what it can from `node`: the manifest is written a batch of
/// nodes at a time, and copying every node's strings cost 5 % of a parse.
fn manifest_node<'a>(
    node: &'a Node,
    compiled_code: Option<&'a String>,
    created_at: f64,
) -> ManifestNode<'a> {
    let mut contract = node
        .config
        .get("contract")
        .and_then(|c| serde_json::from_value::<Contract>(c.clone()).ok())
        .unwrap_or_default();
    if contract.enforced && node.resource_type == ResourceType::Model {
        contract.checksum = Some(contract_checksum(node));
    }
    let generic = node.test.as_ref().filter(|t| t.is_generic);
    ManifestNode {
        database: node.database.as_deref().map(Cow::Borrowed),
        schema: Cow::Borrowed(&node.schema),
        name: Cow::Borrowed(&node.name),
        resource_type: artifact_type(node.resource_type),
        package_name: Cow::Borrowed(&node.package_name),
        path: Cow::Borrowed(&node.path),
        original_file_path: Cow::Borrowed(&node.original_file_path),
        unique_id: Cow::Borrowed(&node.unique_id),
        fqn: Cow::Borrowed(&node.fqn),
        alias: Cow::Borrowed(&node.alias),
        checksum: if generic.is_some() {
            FileHash::none()
        } else if is_big_seed(node) {
            // dbt does not hash seeds over 1 MiB; it records their path.
            FileHash {
                name: "path".into(),
                checksum: node.original_file_path.clone(),
            }
        } else {
            FileHash {
                name: "sha256".into(),
                checksum: node.checksum.clone(),
            }
        },
        config: node.config.clone(),
        config_alias: node.config_alias.as_deref().map(Cow::Borrowed),
        tags: Cow::Borrowed(&node.tags),
        description: Cow::Borrowed(&node.description),
        columns: Cow::Borrowed(&node.columns),
        meta: Cow::Borrowed(&node.meta),
        group: node
            .config
            .get("group")
            .and_then(Value::as_str)
            .map(str::to_string),
        docs: node.docs.clone(),
        patch_path: node.patch_path.as_deref().map(Cow::Borrowed),
        build_path: None,
        unrendered_config: node.unrendered_config.clone(),
        created_at,
        relation_name: node.relation_name.as_deref().map(Cow::Borrowed),
        raw_code: Cow::Borrowed(match node.resource_type {
            ResourceType::Seed => "",
            // dbt strips the files it reads; a snapshot's raw code is the
            // body of its block, kept as it is.
            ResourceType::Model | ResourceType::Analysis | ResourceType::Test => {
                node.raw_code.trim()
            }
            _ => &node.raw_code,
        }),
        doc_blocks: Cow::Borrowed(&node.doc_blocks),
        primary_key: Cow::Borrowed(&node.primary_key),
        root_path: node.root_path.as_deref().map(Cow::Borrowed),
        language: "sql".into(),
        refs: node
            .refs
            .iter()
            .map(|r| RefArgs {
                name: r.name.clone(),
                package: r.package.clone(),
                version: r.version.clone().map(Value::String),
            })
            .collect(),
        sources: node
            .sources
            .iter()
            .map(|(s, t)| vec![s.clone(), t.clone()])
            .collect(),
        depends_on: DependsOn {
            macros: Cow::Borrowed(&node.depends_on_macros),
            nodes: Cow::Borrowed(&node.depends_on_nodes),
        },
        compiled_path: compiled_code.map(|_| {
            crate::compile::compiled_path(Path::new("target"), node)
                .to_string_lossy()
                .replace('\\', "/")
        }),
        compiled: compiled_code.is_some(),
        compiled_code: compiled_code.map(|code| Cow::Borrowed(code.as_str())),
        extra_ctes_injected: compiled_code.is_some(),
        extra_ctes: Vec::<InjectedCte>::new(),
        contract,
        access: node
            .config
            .get("access")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                (node.resource_type == ResourceType::Model).then(|| "protected".to_string())
            }),
        constraints: Cow::Borrowed(&node.constraints),
        version: node.version.clone().map(Value::String),
        latest_version: node.latest_version.clone().map(Value::String),
        // Hooks: their position in `on-run-start` / `on-run-end`.
        index: (node.resource_type == ResourceType::Operation)
            .then(|| node.name.rsplit('-').next().and_then(|i| i.parse().ok()))
            .flatten(),
        column_name: generic.and_then(|t| t.column_name.clone()),
        file_key_name: generic.and_then(|t| t.file_key_name.clone()),
        attached_node: generic.and_then(|t| t.attached_node.clone()),
        test_metadata: generic.map(|t| TestMetadata {
            name: t.test_name.clone().unwrap_or_default(),
            kwargs: Kwargs::Sorted(t.kwargs.as_slice()),
            namespace: t.namespace.clone(),
        }),
        ..ManifestNode::default()
    }
}

fn manifest_source(s: &SourceNode, created_at: f64) -> ManifestSource {
    let flag = |k: &str| s.quoting.get(k).and_then(Value::as_bool);
    ManifestSource {
        database: s.database.clone(),
        schema: s.schema.clone(),
        name: s.name.clone(),
        package_name: s.package_name.clone(),
        path: s.path.clone(),
        original_file_path: s.original_file_path.clone(),
        unique_id: s.unique_id.clone(),
        fqn: s.fqn.clone(),
        source_name: s.source_name.clone(),
        source_description: s.source_description.clone(),
        loader: s.loader.clone(),
        identifier: s.identifier.clone(),
        quoting: Quoting {
            database: flag("database"),
            schema: flag("schema"),
            identifier: flag("identifier"),
            column: flag("column"),
        },
        loaded_at_field: s.loaded_at_field.clone(),
        freshness: serde_json::from_value(s.freshness.clone()).ok(),
        external: (!s.external.is_null()).then(|| s.external.clone()),
        description: s.description.clone(),
        columns: s.columns.clone(),
        meta: s.meta.clone(),
        source_meta: s.source_meta.clone(),
        tags: s.tags.clone(),
        config: s.config.clone(),
        patch_path: None,
        relation_name: Some(s.relation_name.clone()),
        created_at,
        ..ManifestSource::default()
    }
}

fn io_failure(path: &Path, e: std::io::Error) -> Failure {
    Failure::single(Diagnostic::error(
        codes::IO,
        format!("cannot write {}: {e}", path.display()),
    ))
}

/// Writes target/manifest.json with each node's compiled code; `links` is
/// the project's graph, or what [`Graph::into_links`] kept of it.
pub fn write_manifest(
    session: &Session,
    parsed: &ParsedProject,
    compiled: &BTreeMap<String, String>,
    links: &impl ParentLists,
    target_dir: &Path,
) -> Result<(), Failure> {
    // The fields after the nodes are written after them here, not beside
    // them as `hangar parse` does: a compile holds every node's compiled
    // code, and a buffer of those fields beside it took its peak over
    // 300 MB on a 10,000-model project.
    let manifest = build_manifest(session, parsed);
    let nodes = NodesToWrite::new(session, parsed, compiled);
    let make = |i| nodes.make(i);
    let lazy = LazyNodes {
        ids: nodes.ids(),
        make: Some(&make),
        maps: Some(dependency_maps(links.parent_lists(), &manifest)),
    };
    let path = target_dir.join("manifest.json");
    hangar_artifacts::write_with(&path, |out| manifest.write_json_with(out, &lazy))
        .map_err(|e| io_failure(&path, e))
}

/// What the manifest's `parent_map` and `child_map` are written from (the
/// graph, or only the links between resources): each resource's id with
/// its parents as indices into that order (sorted).
pub trait ParentLists: Send {
    fn parent_lists(&self) -> Vec<(&str, &[usize])>;
}

impl ParentLists for Graph {
    fn parent_lists(&self) -> Vec<(&str, &[usize])> {
        Graph::parent_lists(self).collect()
    }
}

impl<S: AsRef<str> + Send> ParentLists for (Vec<S>, Links) {
    fn parent_lists(&self) -> Vec<(&str, &[usize])> {
        let (ids, links) = self;
        ids.iter()
            .map(AsRef::as_ref)
            .zip(links.parents().iter().map(Vec::as_slice))
            .collect()
    }
}

/// [`write_manifest`] for a parsed project whose graph is not built:
/// `link` (the graph, or only the links between resources) runs while the
/// nodes are written (they do not need it), and so do building and
/// serializing everything after the nodes (sources, macros, the dependency
/// maps from what `link` made…) into a buffer, appended once the nodes are
/// written: serialized after them, those fields kept one core waiting for
/// the other. When `link` fails, no manifest is written and its errors are
/// returned.
pub(crate) fn write_manifest_while_linking<L: ParentLists>(
    session: &Session,
    parsed: &ParsedProject,
    target_dir: &Path,
    link: impl FnOnce() -> Result<L, Failure> + Send,
) -> Result<L, Failure> {
    let path = target_dir.join("manifest.json");
    let rest_json = || -> Result<(L, Vec<u8>), Failure> {
        let (manifest, links) = rayon::join(|| build_manifest(session, parsed), link);
        let links = links?;
        let maps = dependency_maps(links.parent_lists(), &manifest);
        let mut rest = Vec::new();
        manifest
            .write_json_rest(&mut rest, Some(&maps))
            .map_err(|e| io_failure(&path, e))?;
        Ok((links, rest))
    };
    let header = Manifest::new(manifest_metadata(session, parsed));
    let compiled = BTreeMap::new();
    let nodes = NodesToWrite::new(session, parsed, &compiled);
    let make = |i| nodes.make(i);
    let lazy = LazyNodes {
        ids: nodes.ids(),
        make: Some(&make),
        maps: None,
    };
    let mut linked = None;
    let written = hangar_artifacts::write_with(&path, |out| {
        let (rest, nodes) = rayon::join(rest_json, || header.write_json_nodes(out, &lazy));
        let rest = linked.insert(rest);
        nodes?;
        let Ok((_, rest)) = rest else {
            // Leaves no manifest behind: the failure (the graph's errors, or
            // the fields after the nodes not serialized) is reported below.
            return Err(std::io::Error::other(
                "the resources could not be linked or written",
            ));
        };
        out.write_all(rest)
    });
    match (linked, written) {
        (Some(Err(failure)), _) => Err(failure),
        (Some(Ok((links, _))), Ok(())) => Ok(links),
        (_, Err(e)) => Err(io_failure(&path, e)),
        // The closure links the resources before it can succeed.
        (None, Ok(())) => Err(io_failure(
            &path,
            std::io::Error::other("the resources were not linked"),
        )),
    }
}

/// The manifest's nodes in id order, each with its compiled code. Their
/// manifest nodes are made while the manifest is written, in parallel
/// batches, so the manifest never holds a second copy of every node; by
/// position, as looking 40,000 ids up in two maps cost more than making
/// the nodes' simpler fields.
struct NodesToWrite<'a> {
    nodes: Vec<(&'a Node, Option<&'a String>)>,
    created_at: f64,
}

impl<'a> NodesToWrite<'a> {
    fn new(
        session: &Session,
        parsed: &'a ParsedProject,
        compiled: &'a BTreeMap<String, String>,
    ) -> Self {
        // Both are sorted by id: one merging pass pairs them.
        let mut compiled = compiled.iter().peekable();
        let nodes = manifest_nodes(parsed)
            .map(|node| {
                let id = node.unique_id.as_str();
                while compiled.next_if(|(other, _)| other.as_str() < id).is_some() {}
                let code = compiled.next_if(|(other, _)| *other == id).map(|(_, c)| c);
                (node, code)
            })
            .collect();
        NodesToWrite {
            nodes,
            created_at: unix_seconds(session.invocation.started_at),
        }
    }

    fn ids(&self) -> Vec<&'a str> {
        self.nodes
            .iter()
            .map(|(node, _)| node.unique_id.as_str())
            .collect()
    }

    fn make(&self, i: usize) -> Option<ManifestNode<'a>> {
        let (node, code) = *self.nodes.get(i)?;
        Some(manifest_node(node, code, self.created_at))
    }
}

fn run_status(s: NodeStatus) -> RunStatus {
    match s {
        NodeStatus::Success => RunStatus::Success,
        NodeStatus::Error => RunStatus::Error,
        NodeStatus::Skipped => RunStatus::Skipped,
        NodeStatus::Pass => RunStatus::Pass,
        NodeStatus::Fail => RunStatus::Fail,
        NodeStatus::Warn => RunStatus::Warn,
    }
}

fn run_result(id: &str, o: &NodeOutcome) -> RunResult {
    let timing = if o.status == NodeStatus::Skipped {
        Vec::new()
    } else {
        let ts = |t| Some(dbt_timestamp(t));
        vec![
            TimingInfo {
                name: "compile".into(),
                started_at: ts(o.compile_started_at.unwrap_or(o.started_at)),
                completed_at: ts(o.compile_completed_at.unwrap_or(o.started_at)),
            },
            TimingInfo {
                name: "execute".into(),
                started_at: ts(o.compile_completed_at.unwrap_or(o.started_at)),
                completed_at: ts(o.completed_at),
            },
        ]
    };
    let adapter_response = if o.adapter_message.is_empty() {
        AdapterResponse::default()
    } else {
        AdapterResponse {
            message: Some(o.adapter_message.clone()),
            code: o
                .adapter_message
                .split_whitespace()
                .next()
                .map(str::to_string),
            rows_affected: o.rows_affected.map(|r| r as i64),
            ..AdapterResponse::default()
        }
    };
    RunResult {
        status: run_status(o.status),
        timing,
        thread_id: o.thread_id.clone(),
        execution_time: o.execution_time,
        adapter_response,
        message: (!o.message.is_empty()).then(|| o.message.clone()),
        failures: o.failures,
        unique_id: id.to_string(),
        compiled: Some(o.compiled_code.is_some()),
        compiled_code: o.compiled_code.clone(),
        relation_name: o.relation_name.clone(),
        batch_results: None,
    }
}

pub fn write_run_results(
    session: &Session,
    outcome: &RunOutcome,
    target_dir: &Path,
) -> Result<(), Failure> {
    let inv = &session.invocation;
    let mut args = Map::new();
    args.insert("which".into(), Value::String(inv.command.clone()));
    args.insert("select".into(), Value::from(inv.selection.select.clone()));
    args.insert("exclude".into(), Value::from(inv.selection.exclude.clone()));
    args.insert("full_refresh".into(), Value::Bool(inv.full_refresh));
    args.insert(
        "target".into(),
        Value::String(session.profile.target_name.clone()),
    );
    args.insert(
        "invocation_command".into(),
        Value::String(format!("hangar {}", inv.command)),
    );
    let results = RunResults {
        metadata: ArtifactMetadata::new(
            hangar_artifacts::run_results::RUN_RESULTS_SCHEMA_URL,
            &inv.invocation_id,
            inv.started_at,
        ),
        results: outcome
            .results
            .iter()
            .map(|(id, o)| run_result(id, o))
            .collect(),
        elapsed_time: outcome.summary.elapsed,
        args,
    };
    let path = target_dir.join("run_results.json");
    write_json(&results, &path).map_err(|e| io_failure(&path, e))
}
