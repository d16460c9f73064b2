//! DAG-ordered execution over a bounded pool of worker threads.
//!
//! A node starts as soon as all of its (selected) parents have succeeded; a
//! failure skips every descendant. Each worker owns its own state (a warehouse
//! connection), created once per thread.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// How a node's work ended, as far as scheduling is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOutcome {
    /// Children may run.
    Success,
    /// Children may run, but something was reported (a test warning).
    Warned,
    /// Children are skipped.
    Failed,
}

/// What happened to a node in a scheduled run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskStatus {
    Done(TaskOutcome),
    /// Not run: the parent named here failed or was skipped.
    Skipped {
        because_of: String,
    },
    /// Not run: the run was cancelled or stopped by `--fail-fast`.
    NotRun,
}

/// One unit of work and the units it waits for.
#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub depends_on: Vec<String>,
}

/// Hooks the scheduler calls; implemented by the engine.
pub trait Executor: Sync {
    /// Per-thread state, e.g. a warehouse connection.
    type Worker: Send;
    fn make_worker(&self, index: usize) -> Result<Self::Worker, String>;
    fn execute(&self, worker: &mut Self::Worker, task_id: &str) -> TaskOutcome;
    /// Called on the scheduling thread for each skipped node.
    fn skipped(&self, task_id: &str, because_of: &str);
}

pub struct ScheduleOptions<'a> {
    pub threads: usize,
    pub fail_fast: bool,
    pub cancelled: &'a AtomicBool,
}

/// Run `tasks` in dependency order. Dependencies on ids outside `tasks` are
/// ignored (they were not selected). Returns the status of every task, or an
/// error when no worker could be created.
pub fn run_tasks<E: Executor>(
    tasks: &[Task],
    executor: &E,
    options: &ScheduleOptions<'_>,
) -> Result<BTreeMap<String, TaskStatus>, String> {
    let graph = TaskGraph::new(tasks);
    let threads = options.threads.max(1).min(tasks.len().max(1));
    let queue: Arc<Mutex<VecDeque<Option<usize>>>> = Arc::new(Mutex::new(VecDeque::new()));
    let ready_signal = Arc::new(std::sync::Condvar::new());
    let (done_tx, done_rx) = mpsc::channel::<(usize, TaskOutcome)>();

    let mut statuses: Vec<Option<TaskStatus>> = vec![None; tasks.len()];
    // Connect every worker before running anything: a connection problem is
    // hangar failing to do its job, not a model failure.
    let workers = (0..threads)
        .map(|index| executor.make_worker(index))
        .collect::<Result<Vec<_>, String>>()?;

    std::thread::scope(|scope| {
        for mut worker in workers {
            let queue = Arc::clone(&queue);
            let ready_signal = Arc::clone(&ready_signal);
            let done_tx = done_tx.clone();
            let graph = &graph;
            scope.spawn(move || {
                loop {
                    let next = {
                        let mut q = queue.lock().expect("poisoned");
                        loop {
                            if let Some(item) = q.pop_front() {
                                break item;
                            }
                            q = ready_signal.wait(q).expect("poisoned");
                        }
                    };
                    let Some(task) = next else { break };
                    let outcome = executor.execute(&mut worker, &graph.ids[task]);
                    if done_tx.send((task, outcome)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);

        let mut waiting: Vec<usize> = graph.parents.iter().map(Vec::len).collect();
        let mut in_flight = 0usize;
        let mut stop = false;
        let dispatch = |ids: Vec<usize>, in_flight: &mut usize| {
            let mut q = queue.lock().expect("poisoned");
            for id in ids {
                q.push_back(Some(id));
                *in_flight += 1;
            }
            ready_signal.notify_all();
        };
        let roots: Vec<usize> = (0..tasks.len()).filter(|&i| waiting[i] == 0).collect();
        dispatch(roots, &mut in_flight);

        while in_flight > 0 {
            let Ok((task, outcome)) = done_rx.recv() else {
                break;
            };
            in_flight -= 1;
            statuses[task] = Some(TaskStatus::Done(outcome));
            if options.cancelled.load(Ordering::SeqCst)
                || (options.fail_fast && outcome == TaskOutcome::Failed)
            {
                stop = true;
            }
            if stop {
                continue;
            }
            if outcome == TaskOutcome::Failed {
                skip_descendants(&graph, task, &mut statuses, executor);
                continue;
            }
            let mut ready = Vec::new();
            for &child in &graph.children[task] {
                waiting[child] -= 1;
                if waiting[child] == 0 && statuses[child].is_none() {
                    ready.push(child);
                }
            }
            dispatch(ready, &mut in_flight);
        }
        let mut q = queue.lock().expect("poisoned");
        q.clear();
        for _ in 0..threads {
            q.push_back(None);
        }
        ready_signal.notify_all();
    });

    Ok(graph
        .ids
        .iter()
        .zip(statuses)
        .map(|(id, s)| (id.clone(), s.unwrap_or(TaskStatus::NotRun)))
        .collect())
}

fn skip_descendants<E: Executor>(
    graph: &TaskGraph,
    failed: usize,
    statuses: &mut [Option<TaskStatus>],
    executor: &E,
) {
    let mut stack = vec![(failed, failed)];
    let mut seen = BTreeSet::new();
    while let Some((node, cause)) = stack.pop() {
        for &child in &graph.children[node] {
            if statuses[child].is_none() && seen.insert(child) {
                let because_of = graph.ids[cause].clone();
                executor.skipped(&graph.ids[child], &because_of);
                statuses[child] = Some(TaskStatus::Skipped { because_of });
                stack.push((child, cause));
            }
        }
    }
}

/// Index-based adjacency of the tasks, restricted to edges between tasks.
struct TaskGraph {
    ids: Vec<String>,
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
}

impl TaskGraph {
    fn new(tasks: &[Task]) -> Self {
        let index: HashMap<&str, usize> = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        let mut parents = vec![Vec::new(); tasks.len()];
        let mut children = vec![Vec::new(); tasks.len()];
        for (i, task) in tasks.iter().enumerate() {
            let mut deps: Vec<usize> = task
                .depends_on
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .filter(|&p| p != i)
                .collect();
            deps.sort_unstable();
            deps.dedup();
            for &p in &deps {
                children[p].push(i);
            }
            parents[i] = deps;
        }
        TaskGraph {
            ids: tasks.iter().map(|t| t.id.clone()).collect(),
            parents,
            children,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake {
        fail: Vec<&'static str>,
        log: Mutex<Vec<String>>,
        skipped: Mutex<Vec<String>>,
    }

    impl Executor for Fake {
        type Worker = usize;
        fn make_worker(&self, index: usize) -> Result<usize, String> {
            Ok(index)
        }
        fn execute(&self, _w: &mut usize, id: &str) -> TaskOutcome {
            self.log.lock().unwrap().push(id.to_string());
            if self.fail.contains(&id) {
                TaskOutcome::Failed
            } else {
                TaskOutcome::Success
            }
        }
        fn skipped(&self, id: &str, _because: &str) {
            self.skipped.lock().unwrap().push(id.to_string());
        }
    }

    fn task(id: &str, deps: &[&str]) -> Task {
        Task {
            id: id.into(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    fn fake(fail: Vec<&'static str>) -> Fake {
        Fake {
            fail,
            log: Mutex::new(vec![]),
            skipped: Mutex::new(vec![]),
        }
    }

    fn diamond() -> Vec<Task> {
        vec![
            task("a", &[]),
            task("b", &["a"]),
            task("c", &["a", "outside"]),
            task("d", &["b", "c"]),
            task("e", &[]),
        ]
    }

    #[test]
    fn parents_run_before_children() {
        let cancelled = AtomicBool::new(false);
        let ex = fake(vec![]);
        let opts = ScheduleOptions {
            threads: 3,
            fail_fast: false,
            cancelled: &cancelled,
        };
        let statuses = run_tasks(&diamond(), &ex, &opts).unwrap();
        assert!(
            statuses
                .values()
                .all(|s| *s == TaskStatus::Done(TaskOutcome::Success))
        );
        let log = ex.log.lock().unwrap();
        let pos = |id: &str| log.iter().position(|x| x == id).unwrap();
        assert!(pos("a") < pos("b") && pos("a") < pos("c"));
        assert!(pos("b") < pos("d") && pos("c") < pos("d"));
        assert_eq!(log.len(), 5);
    }

    #[test]
    fn failure_skips_descendants_only() {
        let cancelled = AtomicBool::new(false);
        let ex = fake(vec!["b"]);
        let opts = ScheduleOptions {
            threads: 2,
            fail_fast: false,
            cancelled: &cancelled,
        };
        let statuses = run_tasks(&diamond(), &ex, &opts).unwrap();
        assert_eq!(statuses["b"], TaskStatus::Done(TaskOutcome::Failed));
        assert_eq!(
            statuses["d"],
            TaskStatus::Skipped {
                because_of: "b".into()
            }
        );
        assert_eq!(statuses["c"], TaskStatus::Done(TaskOutcome::Success));
        assert_eq!(statuses["e"], TaskStatus::Done(TaskOutcome::Success));
        assert_eq!(*ex.skipped.lock().unwrap(), vec!["d".to_string()]);
    }

    #[test]
    fn fail_fast_stops_dispatching() {
        let cancelled = AtomicBool::new(false);
        let ex = fake(vec!["a"]);
        let tasks = vec![task("a", &[]), task("b", &["a"]), task("c", &["b"])];
        let opts = ScheduleOptions {
            threads: 1,
            fail_fast: true,
            cancelled: &cancelled,
        };
        let statuses = run_tasks(&tasks, &ex, &opts).unwrap();
        assert_eq!(statuses["b"], TaskStatus::NotRun);
        assert_eq!(statuses["c"], TaskStatus::NotRun);
    }

    #[test]
    fn cancellation_runs_nothing_new() {
        let cancelled = AtomicBool::new(true);
        let ex = fake(vec![]);
        let tasks = vec![task("a", &[]), task("b", &["a"])];
        let opts = ScheduleOptions {
            threads: 1,
            fail_fast: false,
            cancelled: &cancelled,
        };
        let statuses = run_tasks(&tasks, &ex, &opts).unwrap();
        assert_eq!(statuses["b"], TaskStatus::NotRun);
    }

    #[test]
    fn worker_creation_failure_is_an_error() {
        struct NoConn;
        impl Executor for NoConn {
            type Worker = ();
            fn make_worker(&self, _i: usize) -> Result<(), String> {
                Err("connection refused".into())
            }
            fn execute(&self, _w: &mut (), _id: &str) -> TaskOutcome {
                TaskOutcome::Success
            }
            fn skipped(&self, _id: &str, _b: &str) {}
        }
        let cancelled = AtomicBool::new(false);
        let opts = ScheduleOptions {
            threads: 2,
            fail_fast: false,
            cancelled: &cancelled,
        };
        let result = run_tasks(&[task("a", &[])], &NoConn, &opts);
        assert_eq!(result.unwrap_err(), "connection refused");
    }
}
