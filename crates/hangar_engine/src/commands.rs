//! The commands, as library functions: each returns values and diagnostics
//! for the binary to print.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hangar_graph::{
    IndirectSelection, ResourceType, SelectionSpec, parse_selection, parse_selectors_yml, select,
};
use hangar_project::{Diagnostic, codes};
use serde_json::{Map, Value, json};

use crate::Failure;
use crate::compile::{Compiler, compile_selected};
use crate::events::Reporter;
use crate::invocation::{Invocation, SelectionFlags};
use crate::manifest::write_manifest_while_linking;
use crate::parse::{ParsedProject, parse_project};
use crate::run::{CancelToken, RunKind, RunOptions, RunOutcome, execute};
use crate::session::{Session, load_session};

/// `target/` of the project (its `target-path`).
pub fn target_dir(session: &Session) -> PathBuf {
    session
        .project
        .root
        .join(&session.root_package().config.target_path)
}

/// Load and parse, then write target/manifest.json. The links between
/// resources (unknown refs, cycles) are checked while the manifest's nodes
/// are written; no selectable graph is built, so the returned project's
/// `graph` is empty.
pub fn parse(invocation: Invocation) -> Result<(Session, ParsedProject), Failure> {
    let session = load_session(invocation)?;
    let parsed = crate::parse::parse_project_keeping_entries(&session)?;
    let target = target_dir(&session);
    write_manifest_while_linking(&session, &parsed, &target, || {
        crate::parse::link_ids(&parsed)
    })?;
    Ok((session, parsed))
}

/// [`parse`] for a command that selects: the graph is built while the
/// manifest's nodes are written.
fn parse_with_graph(invocation: Invocation) -> Result<(Session, ParsedProject), Failure> {
    let mut session = load_session(invocation)?;
    let parsed = crate::parse::parse_project_keeping_entries(&session)?;
    session.project.release_property_entries();
    let target = target_dir(&session);
    let graph = write_manifest_while_linking(&session, &parsed, &target, || {
        crate::parse::build_graph(&parsed)
    })?;
    Ok((session, ParsedProject { graph, ..parsed }))
}

/// The selected unique ids of the given resource types, sorted.
pub fn selected_ids(
    session: &Session,
    parsed: &ParsedProject,
    flags: &SelectionFlags,
    types: &[ResourceType],
) -> Result<Vec<String>, Failure> {
    let spec = selection_spec(session, flags)?;
    let indirect: IndirectSelection = flags.indirect.into();
    let ids = select(&parsed.graph, &spec, indirect, None).map_err(Failure::single)?;
    Ok(ids
        .into_iter()
        .filter(|id| {
            parsed
                .graph
                .node(id)
                .is_some_and(|n| types.is_empty() || types.contains(&n.resource_type))
        })
        .collect())
}

fn selection_spec(session: &Session, flags: &SelectionFlags) -> Result<SelectionSpec, Failure> {
    let selectors_path = session.project.root.join("selectors.yml");
    let definitions = if selectors_path.is_file() {
        let text = std::fs::read_to_string(&selectors_path).map_err(|e| {
            Failure::single(Diagnostic::error(
                codes::IO,
                format!("cannot read selectors.yml: {e}"),
            ))
        })?;
        Some(parse_selectors_yml(&text, "selectors.yml").map_err(Failure::new)?)
    } else {
        None
    };
    if let Some(name) = &flags.selector {
        let Some(defs) = &definitions else {
            return Err(Failure::single(
                Diagnostic::error(
                    codes::UNKNOWN_SELECTOR,
                    format!("--selector {name}: the project has no selectors.yml"),
                )
                .with_hint("define selectors in selectors.yml at the project root"),
            ));
        };
        let spec = defs.resolve(name).map_err(Failure::single)?.clone();
        let exclude = parse_selection(&[], &flags.exclude).map_err(Failure::single)?;
        return Ok(match exclude {
            SelectionSpec::All => spec,
            SelectionSpec::Difference { components, .. } => SelectionSpec::difference(
                spec,
                components
                    .into_iter()
                    .nth(1)
                    .unwrap_or(SelectionSpec::Nothing),
            ),
            _ => spec,
        });
    }
    if flags.select.is_empty()
        && let Some(default) = definitions.as_ref().and_then(|d| d.default_selector())
    {
        return Ok(default.definition.clone());
    }
    parse_selection(&flags.select, &flags.exclude).map_err(Failure::single)
}

pub struct CompileOutcome {
    pub session: Session,
    /// The parsed project, its graph released once the nodes were selected.
    pub parsed: ParsedProject,
    pub compiled: BTreeMap<String, String>,
}

const COMPILED_TYPES: &[ResourceType] = &[
    ResourceType::Model,
    ResourceType::Test,
    ResourceType::Snapshot,
    ResourceType::Analysis,
];

/// Compile the selected nodes to target/compiled and write the manifest.
pub fn compile(invocation: Invocation) -> Result<CompileOutcome, Failure> {
    let mut session = load_session(invocation)?;
    let mut parsed = parse_project(&mut session)?;
    let ids = selected_ids(
        &session,
        &parsed,
        &session.invocation.selection,
        COMPILED_TYPES,
    )?;
    // Past the selection the manifest needs only the graph's links: its
    // copy of every node (about 30 MB of heap for 10,000 models) is freed
    // before the compiled SQL piles up.
    let links = std::mem::take(&mut parsed.graph).into_links();
    let target = target_dir(&session);
    let compiled = {
        // Like dbt, compile connects: models may query the warehouse
        // (`run_query`, `is_incremental()`).
        let adapter = crate::run::connect_adapter(&session)?;
        let conn = adapter
            .connect()
            .map_err(|e| Failure::single(Diagnostic::error(codes::CONNECTION, e.to_string())))?;
        let conn = std::sync::Mutex::new(conn);
        let cache = hangar_adapter::RelationCache::new();
        let handle = crate::jinja_adapter::JinjaAdapter {
            adapter: adapter.as_ref(),
            conn: &conn,
            cache: &cache,
            quote_policy: crate::parse::quote_policy(&session),
        };
        let compiler = Compiler::new(&session, &parsed);
        compile_selected(&compiler, &ids, &target, Some(&handle)).map_err(Failure::new)?
    };
    crate::manifest::write_manifest(&session, &parsed, &compiled, &links, &target)?;
    Ok(CompileOutcome {
        session,
        parsed,
        compiled,
    })
}

/// Compile one inline query in the root project's context.
pub fn compile_inline(
    session: &Session,
    parsed: &ParsedProject,
    sql: &str,
) -> Result<String, Failure> {
    let compiler = Compiler::new(session, parsed);
    let node = inline_node(session, sql);
    compiler
        .compile(&node, None, false)
        .map(|c| c.sql)
        .map_err(Failure::single)
}

fn inline_node(session: &Session, sql: &str) -> crate::node::Node {
    let root = session.root_package();
    let mut node = crate::parse::drafts::inline_draft(root, sql);
    node.schema = session.profile.schema.clone();
    node
}

/// `hangar ls`: one line per selected node in the requested format.
pub fn list(
    invocation: Invocation,
    resource_types: &[String],
    output: ListFormat,
    output_keys: &[String],
) -> Result<Vec<String>, Failure> {
    let (session, parsed) = parse_with_graph(invocation)?;
    let mut types = Vec::new();
    for t in resource_types {
        if t == "all" || t == "default" {
            continue;
        }
        let rt: ResourceType = t.parse().map_err(|_| {
            Failure::single(
                Diagnostic::error(codes::BAD_SELECTOR, format!("unknown resource type `{t}`"))
                    .with_hint("one of: model, seed, snapshot, test, analysis, source, exposure, unit_test"),
            )
        })?;
        types.push(rt);
    }
    let ids = selected_ids(&session, &parsed, &session.invocation.selection, &types)?;
    Ok(ids
        .iter()
        // Hooks are manifest entries, not resources a user lists or selects.
        .filter(|id| !id.starts_with("operation."))
        .filter_map(|id| list_line(&parsed, id, output, output_keys))
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Name,
    Path,
    Json,
    Selector,
}

fn list_line(
    parsed: &ParsedProject,
    id: &str,
    output: ListFormat,
    keys: &[String],
) -> Option<String> {
    let g = parsed.graph.node(id)?;
    Some(match output {
        ListFormat::Name => g.name.clone(),
        ListFormat::Path => g.original_file_path.clone(),
        // dbt's forms: sources by package, source and table, exposures by
        // package and name (folders left out), the rest by fqn.
        ListFormat::Selector => match (g.resource_type, &g.source_name) {
            (ResourceType::Source, Some(source)) => {
                format!("source:{}.{source}.{}", g.package_name, g.name)
            }
            (ResourceType::Exposure, _) => format!("exposure:{}.{}", g.package_name, g.name),
            _ => g.fqn.join("."),
        },
        ListFormat::Json => {
            let mut obj = Map::new();
            obj.insert("name".into(), json!(g.name));
            obj.insert("resource_type".into(), json!(g.resource_type.to_string()));
            obj.insert("package_name".into(), json!(g.package_name));
            obj.insert("original_file_path".into(), json!(g.original_file_path));
            obj.insert("unique_id".into(), json!(g.unique_id));
            // Sources and exposures have no alias.
            let config = match parsed.node(id) {
                Some(node) => {
                    obj.insert("alias".into(), json!(node.alias));
                    node.full_config()
                }
                None => g.config.clone(),
            };
            obj.insert("config".into(), Value::Object((*config).clone()));
            obj.insert("tags".into(), json!(g.tags));
            let depends_on = match parsed.exposures.get(id) {
                Some(exposure) => crate::parse::exposure_depends_on(exposure),
                None => parsed
                    .node(id)
                    .map_or_else(Vec::new, |n| n.depends_on_nodes.clone()),
            };
            obj.insert("depends_on".into(), json!({"nodes": depends_on}));
            obj.insert("fqn".into(), json!(g.fqn));
            if !keys.is_empty() {
                obj.retain(|k, _| keys.iter().any(|want| want == k));
            }
            Value::Object(obj).to_string()
        }
    })
}

/// `hangar run | seed | snapshot | test | build`.
pub fn run(
    invocation: Invocation,
    kind: RunKind,
    reporter: &dyn Reporter,
    cancel: Arc<CancelToken>,
) -> Result<RunOutcome, Failure> {
    let mut session = load_session(invocation)?;
    let parsed = parse_project(&mut session)?;
    let target = target_dir(&session);
    let selected = selected_ids(
        &session,
        &parsed,
        &session.invocation.selection,
        kind.resource_types(),
    )?;
    let outcome = execute(
        &session,
        &parsed,
        RunOptions {
            kind,
            selected,
            reporter,
            cancel,
            target_dir: target.clone(),
        },
    )?;
    let compiled: BTreeMap<String, String> = outcome
        .results
        .iter()
        .filter_map(|(id, o)| o.compiled_code.clone().map(|c| (id.clone(), c)))
        .collect();
    crate::manifest::write_manifest(&session, &parsed, &compiled, &parsed.graph, &target)?;
    crate::manifest::write_run_results(&session, &outcome, &target)?;
    Ok(outcome)
}

/// `hangar clean`: delete the clean-targets; returns what was removed.
pub fn clean(project_dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let (config, diags) = hangar_project::project::read_project_config(project_dir, project_dir);
    let Some(config) = config else {
        return Err(Failure::new(diags));
    };
    let targets = if config.clean_targets.is_empty() {
        vec![config.target_path.clone()]
    } else {
        config.clean_targets.clone()
    };
    let mut removed = Vec::new();
    for t in targets {
        let path = project_dir.join(&t);
        let inside = path
            .canonicalize()
            .ok()
            .zip(project_dir.canonicalize().ok())
            .is_some_and(|(p, root)| p.starts_with(&root) && p != root);
        if !path.exists() {
            continue;
        }
        if !inside {
            return Err(Failure::single(
                Diagnostic::error(codes::CONFIG_TYPE, format!("clean-target `{t}` is outside the project; refusing to delete it"))
                    .with_hint("clean-targets must name folders inside the project, e.g. target and dbt_packages"),
            ));
        }
        std::fs::remove_dir_all(&path).map_err(|e| {
            Failure::single(Diagnostic::error(
                codes::IO,
                format!("cannot delete {}: {e}", path.display()),
            ))
        })?;
        removed.push(path);
    }
    Ok(removed)
}

/// What `hangar debug` reports.
pub struct DebugReport {
    pub project_file: PathBuf,
    pub project_name: String,
    pub profiles_dir: PathBuf,
    pub profile_name: String,
    pub target_name: String,
    pub adapter_type: String,
    pub target: Value,
    pub connection: Result<(), String>,
}

pub fn debug(invocation: Invocation) -> Result<DebugReport, Failure> {
    let profiles_dir = hangar_project::profile::find_profiles_dir(
        invocation.profiles_dir.as_deref(),
        &invocation.project_dir,
    );
    let session = load_session(invocation)?;
    let connection = crate::run::connect_adapter(&session)
        .map_err(|f| {
            f.diagnostics
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .and_then(|adapter| {
            let mut conn = adapter.connect().map_err(|e| e.to_string())?;
            conn.query("select 1", &[])
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
    Ok(DebugReport {
        project_file: session.root_package().config.file.clone(),
        project_name: session.root_package().name.clone(),
        profiles_dir,
        profile_name: session.profile.profile_name.clone(),
        target_name: session.profile.target_name.clone(),
        adapter_type: session.profile.adapter_type.clone(),
        target: session.profile.redacted(),
        connection,
    })
}

/// Rows for `hangar show`.
pub struct ShowResult {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

pub fn show(
    invocation: Invocation,
    inline: Option<&str>,
    limit: usize,
) -> Result<ShowResult, Failure> {
    let mut session = load_session(invocation)?;
    let parsed = parse_project(&mut session)?;
    let (title, sql) = match inline {
        Some(sql) => (
            "inline query".to_string(),
            compile_inline(&session, &parsed, sql)?,
        ),
        None => {
            let ids = selected_ids(
                &session,
                &parsed,
                &session.invocation.selection,
                &[
                    ResourceType::Model,
                    ResourceType::Seed,
                    ResourceType::Snapshot,
                    ResourceType::Analysis,
                ],
            )?;
            let [id] = ids.as_slice() else {
                return Err(Failure::single(
                    Diagnostic::error(codes::BAD_SELECTOR, format!("`hangar show` needs exactly one node; the selection matched {}", ids.len()))
                        .with_hint("select one model, e.g. --select dim_members, or pass --inline \"select …\""),
                ));
            };
            let node = parsed.node(id).ok_or_else(|| {
                Failure::single(Diagnostic::error(
                    codes::BAD_SELECTOR,
                    "selected node vanished",
                ))
            })?;
            let sql = if node.resource_type == ResourceType::Seed {
                format!(
                    "select * from {}",
                    node.relation_name.clone().unwrap_or_default()
                )
            } else {
                Compiler::new(&session, &parsed)
                    .compile(node, None, false)
                    .map_err(Failure::single)?
                    .sql
            };
            (node.name.clone(), sql)
        }
    };
    let adapter = crate::run::connect_adapter(&session)?;
    let mut conn = adapter
        .connect()
        .map_err(|e| Failure::single(Diagnostic::error(codes::CONNECTION, e.to_string())))?;
    let wrapped = format!(
        "select * from (\n{}\n) as hangar_show limit {limit}",
        sql.trim().trim_end_matches(';')
    );
    let result = conn
        .query(&wrapped, &[])
        .map_err(|e| Failure::single(Diagnostic::error(codes::DATABASE, e.to_string())))?;
    Ok(ShowResult {
        title,
        columns: result.columns.into_iter().map(|c| c.name).collect(),
        rows: result.rows,
    })
}
