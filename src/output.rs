//! Terminal output: dbt-style run lines, or one JSON object per line with
//! dbt's event names for orchestrators that read dbt's logs.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use chrono::Utc;
use hangar_engine::events::{Event, NodeDescription, NodeOutcome, NodeStatus, Reporter, Summary};
use serde_json::{Value, json};

use crate::cli::LogFormat;

/// How output looks, decided once from the flags and the environment.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub format: LogFormat,
    pub color: bool,
    pub quiet: bool,
}

impl Style {
    pub fn new(format: LogFormat, no_color: bool, quiet: bool) -> Self {
        let color = !no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stdout().is_terminal()
            && format == LogFormat::Text;
        Style {
            format,
            color,
            quiet,
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Prints engine events to stdout.
pub struct TerminalReporter {
    style: Style,
    invocation_id: String,
    lock: Mutex<()>,
    /// A progress bar under the log lines, only on an interactive terminal.
    progress: Option<indicatif::ProgressBar>,
}

impl TerminalReporter {
    pub fn new(style: Style, invocation_id: String) -> Self {
        let interactive =
            std::io::stdout().is_terminal() && style.format == LogFormat::Text && !style.quiet;
        TerminalReporter {
            style,
            invocation_id,
            lock: Mutex::new(()),
            progress: interactive.then(|| {
                let bar = indicatif::ProgressBar::hidden();
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:40} {pos}/{len} nodes  {elapsed}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar
            }),
        }
    }

    fn line(&self, text: &str) {
        let stamped = format!("{}  {text}", Utc::now().format("%H:%M:%S"));
        if let Some(bar) = self.progress.as_ref().filter(|b| !b.is_hidden()) {
            bar.println(stamped);
            return;
        }
        let _guard = self.lock.lock();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{stamped}");
    }

    fn json(&self, name: &str, code: &str, level: &str, msg: &str, data: Value) {
        let event = json!({
            "info": {
                "name": name,
                "code": code,
                "level": level,
                "msg": msg,
                "invocation_id": self.invocation_id,
                "pid": std::process::id(),
                "thread": std::thread::current().name().unwrap_or("MainThread"),
                "ts": hangar_artifacts::dbt_timestamp(Utc::now()),
                "category": "",
                "extra": {},
            },
            "data": data,
        });
        let _guard = self.lock.lock();
        let _ = writeln!(std::io::stdout().lock(), "{event}");
    }

    pub fn version_banner(&self) {
        let msg = format!("Running with hangar={}", env!("CARGO_PKG_VERSION"));
        match self.style.format {
            LogFormat::Json => self.json(
                "MainReportVersion",
                "A001",
                "info",
                &msg,
                json!({"version": format!("={}", env!("CARGO_PKG_VERSION")), "log_version": 3}),
            ),
            LogFormat::Text if !self.style.quiet => self.line(&msg),
            LogFormat::Text => {}
        }
    }
}

fn dotted(left: &str, right: &str) -> String {
    const WIDTH: usize = 80;
    let dots = WIDTH
        .saturating_sub(left.chars().count() + right.chars().count() + 2)
        .max(3);
    format!("{left} {} {right}", ".".repeat(dots))
}

fn kind_label(node: &NodeDescription) -> String {
    match node.resource_type.as_str() {
        "model" => format!("sql {} model", node.materialized),
        "seed" => "seed file".to_string(),
        "snapshot" => "snapshot".to_string(),
        "test" => "test".to_string(),
        "unit_test" => "unit test".to_string(),
        other => other.to_string(),
    }
}

fn result_event_name(node: &NodeDescription) -> (&'static str, &'static str) {
    match node.resource_type.as_str() {
        "seed" => ("LogSeedResult", "Q016"),
        "snapshot" => ("LogSnapshotResult", "Q015"),
        "test" | "unit_test" => ("LogTestResult", "Q007"),
        _ => ("LogModelResult", "Q012"),
    }
}

fn node_info(
    node: &NodeDescription,
    status: &str,
    started: Option<String>,
    finished: Option<String>,
) -> Value {
    json!({
        "unique_id": node.unique_id,
        "node_name": node.name,
        "node_path": node.original_file_path,
        "resource_type": node.resource_type,
        "materialized": node.materialized,
        "node_status": status,
        "node_started_at": started.unwrap_or_default(),
        "node_finished_at": finished.unwrap_or_default(),
        "node_relation": {"relation_name": node.display_relation},
        "meta": {},
    })
}

impl TerminalReporter {
    fn finished_text(
        &self,
        index: usize,
        total: usize,
        node: &NodeDescription,
        o: &NodeOutcome,
    ) -> String {
        let label = kind_label(node);
        let prefix = format!("{index} of {total}");
        // Unit tests read `model::test`, as in dbt.
        let test_name = if node.resource_type == "unit_test" {
            &node.display_relation
        } else {
            &node.name
        };
        let secs = format!("{:.2}s", o.execution_time);
        let (left, badge) = match o.status {
            NodeStatus::Success => {
                let detail = if o.adapter_message.is_empty() {
                    "OK".to_string()
                } else {
                    o.adapter_message.clone()
                };
                let verb = if node.resource_type == "seed" {
                    "loaded"
                } else {
                    "created"
                };
                (
                    format!("{prefix} OK {verb} {label} {}", node.display_relation),
                    self.style
                        .paint(&format!("[{} in {secs}]", short_message(&detail)), "32"),
                )
            }
            NodeStatus::Pass => (
                format!("{prefix} PASS {test_name}"),
                self.style.paint(&format!("[PASS in {secs}]"), "32"),
            ),
            NodeStatus::Warn => (
                format!("{prefix} WARN {} {test_name}", o.failures.unwrap_or(0)),
                self.style.paint(
                    &format!("[WARN {} in {secs}]", o.failures.unwrap_or(0)),
                    "33",
                ),
            ),
            NodeStatus::Fail => (
                format!("{prefix} FAIL {} {test_name}", o.failures.unwrap_or(0)),
                self.style.paint(
                    &format!("[FAIL {} in {secs}]", o.failures.unwrap_or(0)),
                    "31",
                ),
            ),
            NodeStatus::Error => (
                format!("{prefix} ERROR creating {label} {}", node.display_relation),
                self.style.paint(&format!("[ERROR in {secs}]"), "31"),
            ),
            NodeStatus::Skipped => (
                format!("{prefix} SKIP relation {}", node.display_relation),
                self.style.paint("[SKIP]", "33"),
            ),
        };
        dotted(&left, &badge)
    }
}

/// `INSERT 1200` → `INSERT 1200`; `CREATE TABLE (1200)` → `OK 1200`, as dbt prints.
fn short_message(message: &str) -> String {
    if let Some(rows) = message
        .strip_prefix("CREATE TABLE (")
        .and_then(|r| r.strip_suffix(')'))
    {
        return format!("OK {rows}");
    }
    if message == "CREATE VIEW" {
        return "OK".into();
    }
    message.to_string()
}

impl Reporter for TerminalReporter {
    fn report(&self, event: Event<'_>) {
        match self.style.format {
            LogFormat::Json => self.report_json(event),
            LogFormat::Text => self.report_text(event),
        }
    }
}

impl TerminalReporter {
    fn report_text(&self, event: Event<'_>) {
        match event {
            Event::Info(msg) if !self.style.quiet => self.line(&msg),
            Event::Warning(msg) => self.line(&self.style.paint(&format!("[WARNING]: {msg}"), "33")),
            Event::RunStarted { total, description } if !self.style.quiet && total > 0 => {
                self.line(&format!("Concurrency: running {description}"));
                if let Some(bar) = &self.progress {
                    bar.set_length(total as u64);
                    bar.set_draw_target(indicatif::ProgressDrawTarget::stdout());
                }
            }
            Event::NodeStarted {
                index, total, node, ..
            } if !self.style.quiet => {
                let left = format!(
                    "{index} of {total} START {} {}",
                    kind_label(node),
                    node.display_relation
                );
                self.line(&dotted(&left, "[RUN]"));
            }
            Event::NodeFinished {
                index,
                total,
                node,
                outcome,
            } => {
                if let Some(bar) = &self.progress {
                    bar.inc(1);
                }
                if !self.style.quiet || outcome.status.is_failure() {
                    self.line(&self.finished_text(index, total, node, outcome));
                }
                if outcome.status == NodeStatus::Error || outcome.status == NodeStatus::Fail {
                    self.line(&self.style.paint(
                        &format!(
                            "  {} in {} ({})",
                            status_word(outcome.status),
                            node.name,
                            node.original_file_path
                        ),
                        "31",
                    ));
                    for l in outcome.message.lines() {
                        self.line(&format!("    {l}"));
                    }
                }
            }
            Event::RunFinished { summary } => {
                if let Some(bar) = &self.progress {
                    bar.finish_and_clear();
                }
                self.summary_text(summary)
            }
            _ => {}
        }
    }

    fn summary_text(&self, s: &Summary) {
        self.line("");
        self.line(&format!(
            "Finished running {} nodes in {:.2} seconds.",
            s.total, s.elapsed
        ));
        let verdict = if s.error > 0 {
            self.style.paint("Completed with errors", "31")
        } else if s.warn > 0 {
            self.style.paint("Completed with warnings", "33")
        } else {
            self.style.paint("Completed successfully", "32")
        };
        self.line(&verdict);
        self.line(&format!(
            "Done. PASS={} WARN={} ERROR={} SKIP={} NO-OP={} TOTAL={}",
            s.pass, s.warn, s.error, s.skip, s.no_op, s.total
        ));
    }

    fn report_json(&self, event: Event<'_>) {
        match event {
            Event::Info(msg) => self.json("Note", "Z050", "info", &msg, json!({"msg": msg})),
            Event::Warning(msg) => self.json("Note", "Z050", "warn", &msg, json!({"msg": msg})),
            Event::RunStarted { total, description } => self.json(
                "ConcurrencyLine",
                "Q026",
                "info",
                &description,
                json!({"num_threads": 0, "node_count": total}),
            ),
            Event::NodeStarted {
                index,
                total,
                node,
                started_at,
            } => {
                let started = hangar_artifacts::dbt_timestamp(started_at);
                self.json(
                    "NodeStart",
                    "Q024",
                    "debug",
                    &format!("Began running node {}", node.unique_id),
                    json!({"node_info": node_info(node, "started", Some(started), None)}),
                );
                let msg = format!(
                    "{index} of {total} START {} {}",
                    kind_label(node),
                    node.display_relation
                );
                self.json("LogStartLine", "Q011", "info", &msg, json!({"index": index, "total": total, "description": kind_label(node), "node_info": node_info(node, "started", None, None)}));
            }
            Event::NodeFinished {
                index,
                total,
                node,
                outcome,
            } => {
                let (name, code) = result_event_name(node);
                let started = Some(hangar_artifacts::dbt_timestamp(outcome.started_at));
                let finished = Some(hangar_artifacts::dbt_timestamp(outcome.completed_at));
                let info = node_info(node, outcome.status.as_str(), started, finished);
                let level = if outcome.status.is_failure() {
                    "error"
                } else {
                    "info"
                };
                let msg = self.finished_text(index, total, node, outcome);
                self.json(
                    name,
                    code,
                    level,
                    &msg,
                    json!({
                        "node_info": info,
                        "index": index,
                        "total": total,
                        "status": outcome.status.as_str(),
                        "execution_time": outcome.execution_time,
                        "num_failures": outcome.failures,
                        "msg": outcome.message,
                    }),
                );
                self.json("NodeFinished", "Q025", "debug", &format!("Finished running node {}", node.unique_id), json!({"node_info": info, "run_result": {"status": outcome.status.as_str(), "message": outcome.message, "execution_time": outcome.execution_time, "failures": outcome.failures}}));
            }
            Event::RunFinished { summary } => {
                let msg = format!(
                    "Done. PASS={} WARN={} ERROR={} SKIP={} NO-OP={} TOTAL={}",
                    summary.pass,
                    summary.warn,
                    summary.error,
                    summary.skip,
                    summary.no_op,
                    summary.total
                );
                self.json("EndOfRunSummary", "Z030", "info", "", json!({"num_errors": summary.error, "num_warnings": summary.warn, "keyboard_interrupt": false}));
                self.json("StatsLine", "Z023", "info", &msg, json!({"stats": {"pass": summary.pass, "warn": summary.warn, "error": summary.error, "skip": summary.skip, "total": summary.total}}));
            }
        }
    }
}

fn status_word(s: NodeStatus) -> &'static str {
    match s {
        NodeStatus::Fail => "Failure",
        _ => "Database Error",
    }
}
