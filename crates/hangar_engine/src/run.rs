//! Run phase: seeds, models, snapshots and tests executed in DAG order over
//! a bounded pool of warehouse connections.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use hangar_adapter::{Adapter, AdapterError, CancelHandle, Connection, RelationCache, RelationRef};
use hangar_graph::ResourceType;
use hangar_jinja::{NodeInput, Phase};
use hangar_project::{Diagnostic, codes};
use serde_json::Value;

use crate::Failure;
use crate::compile::{Compiler, write_compiled};
use crate::events::{Event, NodeDescription, NodeOutcome, NodeStatus, Reporter, Summary};
use crate::jinja_adapter::JinjaAdapter;
use crate::materialize::{self, IncrementalConfig, Materialized, TMP_SUFFIX, Target};
use crate::node::Node;
use crate::parse::ParsedProject;
use crate::scheduler::{Executor, ScheduleOptions, Task, TaskOutcome, TaskStatus, run_tasks};
use crate::seed_file::read_seed_file;
use crate::session::Session;
use crate::tests_run;

/// Which command is running, and so which resource types it executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    Run,
    Seed,
    Snapshot,
    Test,
    Build,
}

impl RunKind {
    pub fn resource_types(self) -> &'static [ResourceType] {
        match self {
            RunKind::Run => &[ResourceType::Model],
            RunKind::Seed => &[ResourceType::Seed],
            RunKind::Snapshot => &[ResourceType::Snapshot],
            RunKind::Test => &[ResourceType::Test, ResourceType::UnitTest],
            RunKind::Build => &[
                ResourceType::Model,
                ResourceType::Seed,
                ResourceType::Snapshot,
                ResourceType::Test,
                ResourceType::UnitTest,
            ],
        }
    }
}

/// Cancels a run from another thread (Ctrl-C): stops dispatching and
/// interrupts every running statement.
#[derive(Default)]
pub struct CancelToken {
    cancelled: AtomicBool,
    handles: Mutex<Vec<Box<dyn CancelHandle>>>,
}

impl CancelToken {
    pub fn new() -> Arc<Self> {
        Arc::new(CancelToken::default())
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        if let Ok(handles) = self.handles.lock() {
            for h in handles.iter() {
                h.cancel();
            }
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    fn register(&self, handle: Box<dyn CancelHandle>) {
        if let Ok(mut handles) = self.handles.lock() {
            handles.push(handle);
        }
    }
}

pub struct RunOutcome {
    /// Results in the order nodes finished.
    pub results: Vec<(String, NodeOutcome)>,
    pub summary: Summary,
    pub cancelled: bool,
}

impl RunOutcome {
    pub fn has_failures(&self) -> bool {
        self.summary.error > 0
    }
}

pub struct RunOptions<'a> {
    pub kind: RunKind,
    pub selected: Vec<String>,
    pub reporter: &'a dyn Reporter,
    pub cancel: Arc<CancelToken>,
    pub target_dir: PathBuf,
}

/// Execute the selected nodes. Errors of single nodes are results; a
/// `Failure` means hangar could not do its job (e.g. no connection).
pub fn execute(
    session: &Session,
    parsed: &ParsedProject,
    options: RunOptions<'_>,
) -> Result<RunOutcome, Failure> {
    let started = Instant::now();
    let adapter = connect_adapter(session)?;
    let cache = RelationCache::new();
    let compiler = Compiler::new(session, parsed);
    let tasks = build_tasks(parsed, &options.selected, options.kind);
    let reported: Vec<&Node> = tasks
        .iter()
        .filter_map(|t| parsed.node(&t.id))
        .filter(|n| !n.is_ephemeral())
        .collect();
    let total = reported.len();
    let descriptions: HashMap<String, NodeDescription> = reported
        .iter()
        .map(|n| (n.unique_id.clone(), describe(n)))
        .collect();

    let runner = NodeRunner {
        session,
        parsed,
        compiler,
        adapter: adapter.as_ref(),
        cache,
        reporter: options.reporter,
        descriptions,
        next_index: AtomicUsize::new(0),
        total,
        outcomes: Mutex::new(Vec::new()),
        cancel: Arc::clone(&options.cancel),
        schemas_created: Mutex::new(HashSet::new()),
        target_dir: options.target_dir.clone(),
        full_refresh: session.invocation.full_refresh,
    };
    run_hooks(
        &runner,
        "on-run-start",
        &session.root_package().config.on_run_start,
        None,
    )?;
    options.reporter.report(Event::RunStarted {
        total,
        description: run_description(&reported),
    });
    let schedule = ScheduleOptions {
        threads: session.threads(),
        fail_fast: session.invocation.fail_fast,
        cancelled: &options.cancel.cancelled,
    };
    let statuses = run_tasks(&tasks, &runner, &schedule)
        .map_err(|e| Failure::single(Diagnostic::error(codes::CONNECTION, e)))?;
    let cancelled = options.cancel.is_cancelled();
    if cancelled {
        drop_temporary_relations(&runner);
    }
    let mut results = runner.outcomes.into_inner().unwrap_or_default();
    add_not_run(
        &statuses,
        &results.iter().map(|(id, _)| id.clone()).collect(),
        &runner.descriptions,
        &mut results,
    );
    let summary = summarize(&results, started.elapsed().as_secs_f64());
    if !cancelled {
        let runner_results = results_context(&results);
        let end_hooks = &session.root_package().config.on_run_end;
        let runner = NodeRunner {
            outcomes: Mutex::new(Vec::new()),
            ..runner
        };
        run_hooks(&runner, "on-run-end", end_hooks, Some(runner_results))?;
    }
    options
        .reporter
        .report(Event::RunFinished { summary: &summary });
    Ok(RunOutcome {
        results,
        summary,
        cancelled,
    })
}

pub fn connect_adapter(session: &Session) -> Result<Arc<dyn Adapter>, Failure> {
    hangar_adapter::adapter_from_profile(
        &session.profile.adapter_type,
        &session.profile.target_name,
        &session.profile.settings,
        &session.project.root,
    )
    .map_err(|e| {
        Failure::single(
            Diagnostic::error(codes::CONNECTION, e.to_string()).with_hint(format!(
                "check target `{}` in profiles.yml (`hangar debug` shows it)",
                session.profile.target_name
            )),
        )
    })
}

/// Tasks for the selected nodes. In `build`, a node's children also wait
/// for the node's tests, so nothing builds on data that failed its tests.
fn build_tasks(parsed: &ParsedProject, selected: &[String], kind: RunKind) -> Vec<Task> {
    let types = kind.resource_types();
    let chosen: BTreeSet<&str> = selected
        .iter()
        .map(String::as_str)
        .filter(|id| {
            parsed
                .node(id)
                .is_some_and(|n| types.contains(&n.resource_type))
        })
        .collect();
    // Ephemeral models that selected nodes reach stay in as silent tasks so
    // that dependency order passes through them.
    let mut tasks: Vec<Task> = chosen
        .iter()
        .filter_map(|id| parsed.node(id))
        .map(|n| Task {
            id: n.unique_id.clone(),
            depends_on: n.depends_on_nodes.clone(),
        })
        .collect();
    if kind == RunKind::Build {
        add_test_gates(parsed, &chosen, &mut tasks);
    }
    order_unit_tests(parsed, &mut tasks);
    tasks
}

/// A unit test runs after its model's parents and before the model, so a
/// failing unit test keeps the model (and what builds on it) from building.
fn order_unit_tests(parsed: &ParsedProject, tasks: &mut [Task]) {
    let mut gates: HashMap<String, Vec<String>> = HashMap::new();
    for task in tasks.iter_mut() {
        let Some(unit) = parsed.node(&task.id).and_then(|n| n.unit.as_deref()) else {
            continue;
        };
        task.depends_on = parsed
            .node(&unit.model_id)
            .map(|m| m.depends_on_nodes.clone())
            .unwrap_or_default();
        gates
            .entry(unit.model_id.clone())
            .or_default()
            .push(task.id.clone());
    }
    for task in tasks.iter_mut() {
        if let Some(units) = gates.remove(&task.id) {
            task.depends_on.extend(units);
        }
    }
}

/// dbt's build rule: a test gates each child of its parents whose ancestors
/// include all of the test's parents (so no cycle can form).
fn add_test_gates(parsed: &ParsedProject, chosen: &BTreeSet<&str>, tasks: &mut [Task]) {
    let mut extra: HashMap<String, Vec<String>> = HashMap::new();
    for id in chosen {
        let Some(test) = parsed
            .node(id)
            .filter(|n| n.resource_type == ResourceType::Test)
        else {
            continue;
        };
        let parents: BTreeSet<&str> = test.depends_on_nodes.iter().map(String::as_str).collect();
        for parent in &parents {
            for child in parsed.graph.children(parent) {
                if !chosen.contains(child) || parents.contains(child) {
                    continue;
                }
                let Some(c) = parsed.node(child) else {
                    continue;
                };
                if c.resource_type == ResourceType::Test {
                    continue;
                }
                let ancestors: HashSet<&str> =
                    parsed.graph.ancestors(child, None).into_iter().collect();
                if parents.iter().all(|p| ancestors.contains(p)) {
                    extra
                        .entry(child.to_string())
                        .or_default()
                        .push(test.unique_id.clone());
                }
            }
        }
    }
    for t in tasks.iter_mut() {
        if let Some(more) = extra.remove(&t.id) {
            t.depends_on.extend(more);
        }
    }
}

fn describe(n: &Node) -> NodeDescription {
    NodeDescription {
        unique_id: n.unique_id.clone(),
        name: n.name.clone(),
        resource_type: n.resource_type.to_string(),
        materialized: n.materialized().to_string(),
        original_file_path: n.original_file_path.clone(),
        // dbt names tests by their name, unit tests `model::test`,
        // relations by `schema.alias`.
        display_relation: if n.unit.is_some() {
            let model = n.fqn.len().checked_sub(2).and_then(|i| n.fqn.get(i));
            format!("{}::{}", model.map_or("", String::as_str), n.name)
        } else if n.schema.is_empty() || n.resource_type == ResourceType::Test {
            n.name.clone()
        } else {
            format!("{}.{}", n.schema, n.alias)
        },
    }
}

fn run_description(nodes: &[&Node]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for n in nodes {
        let label = match n.resource_type {
            ResourceType::Model => "model",
            ResourceType::Seed => "seed",
            ResourceType::Snapshot => "snapshot",
            ResourceType::Test => "data test",
            ResourceType::UnitTest => "unit test",
            _ => "node",
        };
        *counts.entry(label).or_default() += 1;
    }
    counts
        .iter()
        .map(|(label, n)| format!("{n} {label}{}", if *n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) struct NodeRunner<'a> {
    session: &'a Session,
    parsed: &'a ParsedProject,
    compiler: Compiler<'a>,
    adapter: &'a dyn Adapter,
    cache: RelationCache,
    reporter: &'a dyn Reporter,
    descriptions: HashMap<String, NodeDescription>,
    next_index: AtomicUsize,
    total: usize,
    outcomes: Mutex<Vec<(String, NodeOutcome)>>,
    cancel: Arc<CancelToken>,
    schemas_created: Mutex<HashSet<(Option<String>, String)>>,
    target_dir: PathBuf,
    full_refresh: bool,
}

pub(crate) struct Worker {
    conn: Mutex<Box<dyn Connection>>,
    thread_id: String,
    /// When the current node's SQL was rendered: dbt's `compile` timing.
    compile_span: std::cell::Cell<Option<(chrono::DateTime<Utc>, chrono::DateTime<Utc>)>>,
}

impl Worker {
    pub(crate) fn conn_lock(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, Box<dyn Connection>>, String> {
        self.conn
            .lock()
            .map_err(|_| "connection lock poisoned".to_string())
    }
}

/// What one node's execution produced before timing is added.
pub(crate) struct Executed {
    pub status: NodeStatus,
    pub message: String,
    pub rows_affected: Option<u64>,
    pub failures: Option<u64>,
    pub compiled_code: Option<String>,
    pub adapter_message: String,
}

impl Executed {
    pub(crate) fn error(message: String, compiled_code: Option<String>) -> Self {
        Executed {
            status: NodeStatus::Error,
            message,
            rows_affected: None,
            failures: None,
            compiled_code,
            adapter_message: String::new(),
        }
    }
}

impl Executor for NodeRunner<'_> {
    type Worker = Worker;

    fn make_worker(&self, index: usize) -> Result<Worker, String> {
        let conn = self.adapter.connect().map_err(|e| e.to_string())?;
        self.cancel.register(conn.cancel_handle());
        Ok(Worker {
            conn: Mutex::new(conn),
            thread_id: format!("Thread-{} (worker)", index + 1),
            compile_span: std::cell::Cell::new(None),
        })
    }

    fn execute(&self, worker: &mut Worker, task_id: &str) -> TaskOutcome {
        let Some(node) = self.parsed.node(task_id) else {
            return TaskOutcome::Failed;
        };
        if node.is_ephemeral() {
            return TaskOutcome::Success;
        }
        // A cancel that arrived before this node started: do not start it.
        if self.cancel.is_cancelled() {
            return TaskOutcome::Failed;
        }
        let Some(description) = self.descriptions.get(task_id) else {
            return TaskOutcome::Failed;
        };
        let index = self.next_index.fetch_add(1, Ordering::SeqCst) + 1;
        let started_at = Utc::now();
        self.reporter.report(Event::NodeStarted {
            index,
            total: self.total,
            node: description,
            started_at,
        });
        let clock = Instant::now();
        let grants = crate::grants::GrantsStep::before(self, worker, node);
        let executed = match node.resource_type {
            ResourceType::Seed => self.run_seed(worker, node),
            ResourceType::Model => self.run_model(worker, node),
            ResourceType::Test => tests_run::run_test(self, worker, node),
            ResourceType::UnitTest => crate::unit_tests::run_unit_test(self, worker, node),
            ResourceType::Snapshot => crate::snapshot::run_snapshot(self, worker, node),
            other => Executed::error(format!("hangar cannot run {other} nodes"), None),
        };
        let executed = grants.apply(self, worker, executed);
        let outcome = NodeOutcome {
            status: executed.status,
            message: executed.message,
            rows_affected: executed.rows_affected,
            failures: executed.failures,
            started_at,
            completed_at: Utc::now(),
            compile_started_at: worker.compile_span.get().map(|(s, _)| s),
            compile_completed_at: worker.compile_span.take().map(|(_, e)| e),
            execution_time: clock.elapsed().as_secs_f64(),
            thread_id: worker.thread_id.clone(),
            compiled_code: executed.compiled_code,
            relation_name: node.relation_name.clone(),
            adapter_message: executed.adapter_message,
        };
        self.reporter.report(Event::NodeFinished {
            index,
            total: self.total,
            node: description,
            outcome: &outcome,
        });
        let task_outcome = match outcome.status {
            NodeStatus::Error | NodeStatus::Fail | NodeStatus::Skipped => TaskOutcome::Failed,
            NodeStatus::Warn => TaskOutcome::Warned,
            _ => TaskOutcome::Success,
        };
        if let Ok(mut o) = self.outcomes.lock() {
            o.push((task_id.to_string(), outcome));
        }
        task_outcome
    }

    fn skipped(&self, task_id: &str, because_of: &str) {
        let Some(description) = self.descriptions.get(task_id) else {
            return;
        };
        let outcome = NodeOutcome::skipped(format!("SKIP (upstream {because_of} did not succeed)"));
        let index = self.next_index.fetch_add(1, Ordering::SeqCst) + 1;
        self.reporter.report(Event::NodeFinished {
            index,
            total: self.total,
            node: description,
            outcome: &outcome,
        });
        if let Ok(mut o) = self.outcomes.lock() {
            o.push((task_id.to_string(), outcome));
        }
    }
}

impl NodeRunner<'_> {
    pub(crate) fn adapter(&self) -> &dyn Adapter {
        self.adapter
    }

    pub(crate) fn compiler(&self) -> &Compiler<'_> {
        &self.compiler
    }

    pub(crate) fn parsed(&self) -> &ParsedProject {
        self.parsed
    }

    pub(crate) fn cache(&self) -> &RelationCache {
        &self.cache
    }

    /// Whether `node` is rebuilt from scratch: its `full_refresh` config, else the flag.
    pub(crate) fn full_refresh_for(&self, node: &Node) -> bool {
        node.config
            .get("full_refresh")
            .and_then(Value::as_bool)
            .unwrap_or(self.full_refresh)
    }

    pub(crate) fn target_dir(&self) -> &std::path::Path {
        &self.target_dir
    }

    /// Render a node for execution, recording dbt's `compile` timing.
    pub(crate) fn compile_node(
        &self,
        worker: &Worker,
        node: &Node,
        is_incremental: bool,
    ) -> Result<String, Diagnostic> {
        let started = Utc::now();
        let handle = self.jinja_adapter(worker);
        let compiled = self
            .compiler
            .compile(node, Some(&handle), is_incremental)
            .map(|c| c.sql);
        worker.compile_span.set(Some((started, Utc::now())));
        compiled
    }

    pub(crate) fn jinja_adapter<'w>(&'w self, worker: &'w Worker) -> JinjaAdapter<'w> {
        JinjaAdapter {
            adapter: self.adapter,
            conn: &worker.conn,
            cache: &self.cache,
            quote_policy: crate::parse::quote_policy(self.session),
        }
    }

    pub(crate) fn relation_ref(node: &Node) -> RelationRef {
        RelationRef {
            database: node.database.clone(),
            schema: node.schema.clone(),
            identifier: node.alias.clone(),
        }
    }

    /// Create the schema once per run and read its relations once.
    pub(crate) fn prepare_schema(
        &self,
        conn: &mut dyn Connection,
        database: Option<&str>,
        schema: &str,
    ) -> Result<(), AdapterError> {
        let key = (database.map(str::to_string), schema.to_string());
        let mut created = self
            .schemas_created
            .lock()
            .map_err(|_| AdapterError::Database {
                message: "schema lock poisoned".into(),
                sql_state: None,
            })?;
        if !created.contains(&key) {
            conn.execute(&self.adapter.sql_create_schema(database, schema))?;
            created.insert(key);
        }
        drop(created);
        self.cache.ensure_schema(conn, database, schema)
    }

    fn run_seed(&self, worker: &mut Worker, node: &Node) -> Executed {
        let delimiter = node
            .config_str("delimiter")
            .and_then(|d| d.bytes().next())
            .unwrap_or(b',');
        let table = match read_seed_file(&node.abs_path, delimiter) {
            Ok(t) => t,
            Err(e) => {
                return Executed::error(
                    format!(
                        "{}:{}:{}: {}",
                        node.original_file_path, e.line, e.column, e.message
                    ),
                    None,
                );
            }
        };
        let overrides = node
            .config
            .get("column_types")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let types = materialize::seed_column_types(self.adapter, &table, &overrides);
        let quote = node
            .config
            .get("quote_columns")
            .and_then(Value::as_bool)
            .unwrap_or(self.adapter.capabilities().quote_seed_columns);
        let target = Target {
            adapter: self.adapter,
            cache: &self.cache,
            relation: Self::relation_ref(node),
            contract: None,
            transient: None,
        };
        let mut conn = match worker.conn.lock() {
            Ok(c) => c,
            Err(_) => return Executed::error("connection lock poisoned".into(), None),
        };
        let result = self
            .prepare_schema(conn.as_mut(), node.database.as_deref(), &node.schema)
            .and_then(|()| materialize::seed(&target, conn.as_mut(), &table, &types, quote));
        drop(conn);
        self.finish_materialized(node, worker, result, None)
    }

    fn finish_materialized(
        &self,
        node: &Node,
        worker: &Worker,
        result: Result<Materialized, AdapterError>,
        compiled: Option<String>,
    ) -> Executed {
        match result {
            Ok(m) => {
                if let Err(e) = self.persist_docs(worker, node) {
                    return Executed::error(e, compiled);
                }
                Executed {
                    status: NodeStatus::Success,
                    message: m.message.clone(),
                    rows_affected: m.rows_affected,
                    failures: None,
                    compiled_code: compiled,
                    adapter_message: m.message,
                }
            }
            Err(e) => Executed::error(e.to_string(), compiled),
        }
    }

    fn run_model(&self, worker: &mut Worker, node: &Node) -> Executed {
        let relation = Self::relation_ref(node);
        {
            let mut conn = match worker.conn.lock() {
                Ok(c) => c,
                Err(_) => return Executed::error("connection lock poisoned".into(), None),
            };
            if let Err(e) = self.prepare_schema(
                conn.as_mut(),
                relation.database.as_deref(),
                &relation.schema,
            ) {
                return Executed::error(e.to_string(), None);
            }
        }
        let contract = crate::contracts::contract_of(node);
        let target = Target {
            adapter: self.adapter,
            cache: &self.cache,
            relation,
            contract: contract.as_ref(),
            transient: node.config.get("transient").and_then(Value::as_bool),
        };
        let materialized = node.materialized();
        let full_refresh = self.full_refresh_for(node);
        let is_incremental = materialized == "incremental"
            && !full_refresh
            && target.existing() == Some(hangar_adapter::RelationKind::Table);
        // Same rule as `compile::is_incremental`, answered from the run's cache.
        let compiled = match self.compile_node(worker, node, is_incremental) {
            Ok(sql) => sql,
            Err(d) => return Executed::error(render_diagnostic(&d), None),
        };
        if let Err(d) = write_compiled(&self.target_dir, node, &compiled) {
            return Executed::error(render_diagnostic(&d), Some(compiled));
        }
        if let Some(contract) = &contract {
            if let Err(e) = self.check_contract(worker, contract, &compiled) {
                return Executed::error(e, Some(compiled));
            }
            for skipped in crate::contracts::unsupported_constraints(self.adapter, contract) {
                self.reporter.report(Event::Warning(format!(
                    "{}: the {skipped} is not supported by {} and is left out of the table",
                    node.name,
                    self.adapter.adapter_type()
                )));
            }
        }
        if let Err(e) = self.run_node_hooks(worker, node, "pre-hook") {
            return Executed::error(e, Some(compiled));
        }
        let result = {
            let mut conn = match worker.conn.lock() {
                Ok(c) => c,
                Err(_) => {
                    return Executed::error("connection lock poisoned".into(), Some(compiled));
                }
            };
            let conn = conn.as_mut();
            match materialized {
                "view" => materialize::view(&target, conn, &compiled),
                "incremental" if is_incremental => materialize::incremental(
                    &target,
                    conn,
                    &compiled,
                    &incremental_config(node, self.adapter),
                ),
                _ => materialize::table(&target, conn, &compiled),
            }
        };
        if result.is_ok()
            && let Err(e) = self.run_node_hooks(worker, node, "post-hook")
        {
            return Executed::error(e, Some(compiled));
        }
        self.finish_materialized(node, worker, result, Some(compiled))
    }

    /// Runs the model's SQL without rows to read its output columns and
    /// compares them with the contract, before anything is built.
    fn check_contract(
        &self,
        worker: &Worker,
        contract: &crate::contracts::Contract,
        compiled: &str,
    ) -> Result<(), String> {
        let probe = format!("select * from (\n{compiled}\n) as model_subq where 1 = 0");
        let columns = worker
            .conn_lock()?
            .query(&probe, &[])
            .map_err(|e| e.to_string())?
            .columns;
        crate::contracts::compare(contract, &columns)
    }

    fn node_input<'n>(&self, node: &'n Node) -> NodeInput<'n> {
        self.compiler.node_input(node, true, false)
    }

    fn run_node_hooks(&self, worker: &Worker, node: &Node, key: &str) -> Result<(), String> {
        let hooks = hook_sqls(node.config.get(key));
        if hooks.is_empty() {
            return Ok(());
        }
        let input = self.node_input(node);
        let handle = self.jinja_adapter(worker);
        let resolver = crate::compile::resolver_for(&self.compiler, &node.package_name);
        for hook in hooks {
            let sql = self
                .session
                .jinja
                .render_string(&hook, &input, &resolver, Some(&handle))
                .map_err(|d| render_diagnostic(&d))?;
            if sql.trim().is_empty() {
                continue;
            }
            let mut conn = worker
                .conn
                .lock()
                .map_err(|_| "connection lock poisoned".to_string())?;
            conn.execute(&sql)
                .map_err(|e| format!("{key} failed: {e}"))?;
        }
        Ok(())
    }

    fn persist_docs(&self, worker: &Worker, node: &Node) -> Result<(), String> {
        let Some(pd) = node.config.get("persist_docs").and_then(Value::as_object) else {
            return Ok(());
        };
        let relation_docs = pd.get("relation").and_then(Value::as_bool).unwrap_or(false);
        let column_docs = pd.get("columns").and_then(Value::as_bool).unwrap_or(false);
        if !(relation_docs || column_docs) || !self.adapter.capabilities().comments {
            return Ok(());
        }
        let r = Self::relation_ref(node);
        let kind = if node.materialized() == "view" {
            hangar_adapter::RelationKind::View
        } else {
            hangar_adapter::RelationKind::Table
        };
        let mut statements = Vec::new();
        if relation_docs && !node.description.is_empty() {
            statements.extend(self.adapter.sql_comment(&r, kind, None, &node.description));
        }
        if column_docs {
            for (name, col) in &node.columns {
                if !col.description.is_empty() {
                    let desc = &col.description;
                    statements.extend(self.adapter.sql_comment(&r, kind, Some(name), desc));
                }
            }
        }
        let mut conn = worker
            .conn
            .lock()
            .map_err(|_| "connection lock poisoned".to_string())?;
        for s in statements {
            conn.execute(&s)
                .map_err(|e| format!("persist_docs failed: {e}"))?;
        }
        Ok(())
    }
}

fn incremental_config(node: &Node, adapter: &dyn Adapter) -> IncrementalConfig {
    let unique_key = match node.config.get("unique_key") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let predicates = match node.config.get("incremental_predicates") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    IncrementalConfig {
        strategy: node
            .config_str("incremental_strategy")
            .map(str::to_string)
            .unwrap_or_else(|| {
                adapter
                    .capabilities()
                    .default_incremental_strategy
                    .to_string()
            }),
        unique_key,
        on_schema_change: node
            .config_str("on_schema_change")
            .unwrap_or("ignore")
            .to_string(),
        predicates,
    }
}

/// Hook entries are strings or `{sql: …, transaction: …}` maps.
pub fn hook_sqls(value: Option<&Value>) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => m.get("sql").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => Vec::new(),
    }
}

pub fn render_diagnostic(d: &Diagnostic) -> String {
    hangar_project::render(d, false)
}

fn run_hooks(
    runner: &NodeRunner<'_>,
    name: &str,
    hooks: &[String],
    results: Option<Value>,
) -> Result<(), Failure> {
    if hooks.is_empty() {
        return Ok(());
    }
    let worker = runner
        .make_worker(0)
        .map_err(|e| Failure::single(Diagnostic::error(codes::CONNECTION, e)))?;
    let handle = runner.jinja_adapter(&worker);
    let resolver = crate::compile::resolver_for(&runner.compiler, &runner.parsed.root_package);
    let mut input = NodeInput::new(
        Phase::Run,
        &runner.parsed.root_package,
        "hangar_project.yml",
        "",
    );
    input.name = name.to_string();
    if let Some(results) = results {
        input.extra.insert("results".into(), results);
    }
    let schemas: BTreeSet<&str> = runner
        .parsed
        .nodes
        .values()
        .filter(|n| !n.schema.is_empty())
        .map(|n| n.schema.as_str())
        .collect();
    input.extra.insert(
        "schemas".into(),
        Value::from(schemas.into_iter().collect::<Vec<_>>()),
    );
    for hook in hooks {
        let sql = runner
            .session
            .jinja
            .render_string(hook, &input, &resolver, Some(&handle))
            .map_err(Failure::single)?;
        if sql.trim().is_empty() {
            continue;
        }
        let mut conn = worker
            .conn
            .lock()
            .map_err(|_| Failure::single(Diagnostic::error(codes::DATABASE, "lock poisoned")))?;
        conn.execute(&sql).map_err(|e| {
            Failure::single(Diagnostic::error(
                codes::DATABASE,
                format!("{name} hook failed: {e}"),
            ))
        })?;
    }
    Ok(())
}

fn results_context(results: &[(String, NodeOutcome)]) -> Value {
    Value::Array(
        results
            .iter()
            .map(|(id, o)| {
                serde_json::json!({
                    "unique_id": id,
                    "status": o.status.as_str(),
                    "message": o.message,
                    "execution_time": o.execution_time,
                    "failures": o.failures,
                    "node": {"unique_id": id},
                })
            })
            .collect(),
    )
}

/// Drop the `__hangar_tmp` relations a cancelled run left, on a fresh connection.
fn drop_temporary_relations(runner: &NodeRunner<'_>) {
    let Ok(mut conn) = runner.adapter.connect() else {
        return;
    };
    for info in runner.cache.all_relations() {
        if info.relation.identifier.ends_with(TMP_SUFFIX) {
            let _ = conn.execute(&runner.adapter.sql_drop(&info.relation, info.kind));
        }
    }
}

/// Every selected node that produced no result (not started after a
/// cancel or `--fail-fast`) is reported as skipped, so run_results lists all.
fn add_not_run(
    statuses: &BTreeMap<String, TaskStatus>,
    done: &HashSet<String>,
    descriptions: &HashMap<String, NodeDescription>,
    results: &mut Vec<(String, NodeOutcome)>,
) {
    for id in statuses.keys() {
        if !done.contains(id) && descriptions.contains_key(id) {
            results.push((id.clone(), NodeOutcome::skipped("SKIP".into())));
        }
    }
}

fn summarize(results: &[(String, NodeOutcome)], elapsed: f64) -> Summary {
    let mut s = Summary {
        total: results.len(),
        elapsed,
        ..Default::default()
    };
    for (_, o) in results {
        match o.status {
            NodeStatus::Success | NodeStatus::Pass => s.pass += 1,
            NodeStatus::Warn => s.warn += 1,
            NodeStatus::Error | NodeStatus::Fail => s.error += 1,
            NodeStatus::Skipped => s.skip += 1,
        }
    }
    s
}
