//! `run_results.json`, schema v6.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ArtifactMetadata, JsonMap};

pub const RUN_RESULTS_SCHEMA_URL: &str = "https://schemas.getdbt.com/dbt/run-results/v6.json";

/// The whole `run_results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub metadata: ArtifactMetadata,
    pub results: Vec<RunResult>,
    /// Wall-clock seconds of the whole invocation.
    pub elapsed_time: f64,
    /// The invocation's flags, as dbt's `args` (`which`, `select`, ...).
    #[serde(default)]
    pub args: JsonMap,
}

/// A node's outcome. Models, seeds and snapshots report `success`; tests
/// report `pass`/`fail`/`warn`; source freshness can report `runtime error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RunStatus {
    #[serde(rename = "success")]
    Success,
    #[serde(rename = "error")]
    Error,
    #[serde(rename = "skipped")]
    Skipped,
    #[serde(rename = "pass")]
    Pass,
    #[serde(rename = "fail")]
    Fail,
    #[serde(rename = "warn")]
    Warn,
    #[serde(rename = "runtime error")]
    RuntimeError,
    /// Microbatch models where some batches failed.
    #[serde(rename = "partial success")]
    PartialSuccess,
    #[serde(rename = "no-op")]
    NoOp,
}

/// One result in `results`. Field order is dbt's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub status: RunStatus,
    /// `compile` then `execute`; empty for skipped nodes.
    #[serde(default)]
    pub timing: Vec<TimingInfo>,
    /// `"Thread-1 (worker)"` for worker threads, `"main"` for hooks.
    pub thread_id: String,
    pub execution_time: f64,
    #[serde(default)]
    pub adapter_response: AdapterResponse,
    #[serde(default)]
    pub message: Option<String>,
    /// Rows returned by a test; 0 for passing tests and hooks, null otherwise.
    #[serde(default)]
    pub failures: Option<u64>,
    pub unique_id: String,
    #[serde(default)]
    pub compiled: Option<bool>,
    #[serde(default)]
    pub compiled_code: Option<String>,
    #[serde(default)]
    pub relation_name: Option<String>,
    /// Microbatch `{successful, failed}` batch lists.
    #[serde(default)]
    pub batch_results: Option<Value>,
}

/// The worker thread name dbt gives its first worker.
pub fn worker_thread_id(worker: usize) -> String {
    format!("Thread-{} (worker)", worker + 1)
}

/// A timed step of a node's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingInfo {
    /// `compile` or `execute`.
    pub name: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
}

/// What the warehouse said about the last statement: `{}` for hooks and
/// errors, `{"_message": "OK"}` for most, plus `code` and `rows_affected`
/// for seeds. Adapter-specific keys (e.g. Snowflake's `query_id`) go in
/// `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdapterResponse {
    #[serde(rename = "_message", default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_affected: Option<i64>,
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl AdapterResponse {
    /// `{"_message": message}`.
    pub fn message(message: &str) -> Self {
        AdapterResponse {
            message: Some(message.to_string()),
            ..AdapterResponse::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_use_dbt_spelling() {
        let json = serde_json::to_string(&[RunStatus::RuntimeError, RunStatus::NoOp]).unwrap();
        assert_eq!(json, r#"["runtime error","no-op"]"#);
    }

    #[test]
    fn empty_adapter_response_is_an_empty_object() {
        assert_eq!(
            serde_json::to_string(&AdapterResponse::default()).unwrap(),
            "{}"
        );
        assert_eq!(
            serde_json::to_string(&AdapterResponse::message("OK")).unwrap(),
            r#"{"_message":"OK"}"#
        );
    }

    #[test]
    fn worker_thread_ids_start_at_one() {
        assert_eq!(worker_thread_id(0), "Thread-1 (worker)");
    }
}
