//! Events the engine reports while it works. Only the binary prints them;
//! the engine hands them to a [`Reporter`].

use chrono::{DateTime, Utc};

/// How a node's run ended, with dbt's status words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeStatus {
    Success,
    Error,
    Skipped,
    Pass,
    Fail,
    Warn,
}

impl NodeStatus {
    /// The word dbt writes in run_results.json.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Success => "success",
            NodeStatus::Error => "error",
            NodeStatus::Skipped => "skipped",
            NodeStatus::Pass => "pass",
            NodeStatus::Fail => "fail",
            NodeStatus::Warn => "warn",
        }
    }

    pub fn is_failure(self) -> bool {
        matches!(self, NodeStatus::Error | NodeStatus::Fail)
    }
}

/// What a reporter needs to describe a node.
#[derive(Debug, Clone)]
pub struct NodeDescription {
    pub unique_id: String,
    pub name: String,
    pub resource_type: String,
    pub materialized: String,
    pub original_file_path: String,
    /// `schema.alias` as dbt prints it in run lines.
    pub display_relation: String,
}

/// The outcome of one node, as written to run_results.json.
#[derive(Debug, Clone)]
pub struct NodeOutcome {
    pub status: NodeStatus,
    pub message: String,
    pub rows_affected: Option<u64>,
    pub failures: Option<u64>,
    pub started_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
    pub compile_started_at: Option<DateTime<Utc>>,
    pub compile_completed_at: Option<DateTime<Utc>>,
    pub execution_time: f64,
    pub thread_id: String,
    pub compiled_code: Option<String>,
    pub relation_name: Option<String>,
    pub adapter_message: String,
}

impl NodeOutcome {
    /// A node that did not run, with dbt's SKIP message.
    pub fn skipped(message: String) -> Self {
        let now = chrono::Utc::now();
        NodeOutcome {
            status: NodeStatus::Skipped,
            message,
            rows_affected: None,
            failures: None,
            started_at: now,
            completed_at: now,
            compile_started_at: None,
            compile_completed_at: None,
            execution_time: 0.0,
            thread_id: "Thread-0 (main)".into(),
            compiled_code: None,
            relation_name: None,
            adapter_message: String::new(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub error: usize,
    pub skip: usize,
    pub no_op: usize,
    pub total: usize,
    pub elapsed: f64,
}

#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// A plain informational line.
    Info(String),
    Warning(String),
    /// Work is about to start on `total` nodes.
    RunStarted {
        total: usize,
        description: String,
    },
    NodeStarted {
        index: usize,
        total: usize,
        node: &'a NodeDescription,
        started_at: DateTime<Utc>,
    },
    NodeFinished {
        index: usize,
        total: usize,
        node: &'a NodeDescription,
        outcome: &'a NodeOutcome,
    },
    RunFinished {
        summary: &'a Summary,
    },
}

pub trait Reporter: Send + Sync {
    fn report(&self, event: Event<'_>);
}

/// A reporter that drops everything (tests, `--quiet` library use).
pub struct SilentReporter;

impl Reporter for SilentReporter {
    fn report(&self, _event: Event<'_>) {}
}
