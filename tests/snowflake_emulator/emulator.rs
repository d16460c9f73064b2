//! The local Snowflake emulator for tests: fakesnow's server behind this
//! directory's `shim.py`, both on free loopback ports.
//!
//! fakesnow is installed (pinned) into `$HOME/.cache/hangar/fakesnow-venv` the
//! first time it is needed, so a fresh clone sets itself up. Tests running at
//! the same time share one emulator through [`Emulator::shared`]; it stops when
//! the last of them drops its handle. Each test works in its own database.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// What the venv must hold; the marker file records that it was installed.
const REQUIREMENTS: [&str; 2] = [
    "fakesnow[server]==0.12.1",
    // 5.x removed the module fakesnow 0.12.1 imports at start-up.
    "snowflake-connector-python<5",
];
const MARKER: &str = ".hangar-fakesnow-0.12.1";
/// Start-up under load (two cores shared with a DuckDB build) can take long.
const START_TIMEOUT: Duration = Duration::from_secs(180);

pub struct Emulator {
    /// The shim's port: what a profile's `port` points at.
    pub port: u16,
    children: Vec<Child>,
    logs: tempfile::TempDir,
}

static SHARED: Mutex<Weak<Emulator>> = Mutex::new(Weak::new());

impl Emulator {
    /// The running emulator, started if no test holds one.
    pub fn shared() -> Arc<Emulator> {
        let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(running) = slot.upgrade() {
            return running;
        }
        let started = match Emulator::start() {
            Ok(e) => Arc::new(e),
            Err(message) => panic!("cannot start the Snowflake emulator: {message}"),
        };
        *slot = Arc::downgrade(&started);
        started
    }

    fn start() -> Result<Emulator, String> {
        let venv = ensure_venv()?;
        let logs = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let mut emulator = Emulator {
            port: 0,
            children: Vec::new(),
            logs,
        };
        let fakesnow_port = free_port()?;
        emulator.spawn(
            "fakesnow",
            Command::new(venv.join("bin/fakesnow")).args([
                "-s",
                "--host",
                "127.0.0.1",
                "-p",
                &fakesnow_port.to_string(),
            ]),
        )?;
        emulator.wait_for(fakesnow_port, "fakesnow")?;
        let shim_port = free_port()?;
        emulator.spawn(
            "shim",
            Command::new(venv.join("bin/python")).args([
                &shim_path().display().to_string(),
                "--port",
                &shim_port.to_string(),
                "--upstream",
                &format!("http://127.0.0.1:{fakesnow_port}"),
            ]),
        )?;
        emulator.wait_for(shim_port, "shim")?;
        emulator.port = shim_port;
        Ok(emulator)
    }

    fn spawn(&mut self, name: &str, command: &mut Command) -> Result<(), String> {
        let log = std::fs::File::create(self.logs.path().join(format!("{name}.log")))
            .map_err(|e| format!("{name} log: {e}"))?;
        let err = log.try_clone().map_err(|e| format!("{name} log: {e}"))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot run {name}: {e}"))?;
        self.children.push(child);
        Ok(())
    }

    fn wait_for(&mut self, port: u16, name: &str) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            for child in &mut self.children {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("{name} exited ({status}):\n{}", self.log_tail()));
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "{name} did not answer on port {port} within {} s:\n{}",
            START_TIMEOUT.as_secs(),
            self.log_tail()
        ))
    }

    /// The end of fakesnow's and the shim's logs, for failure messages.
    pub fn log_tail(&self) -> String {
        ["fakesnow", "shim"]
            .iter()
            .map(|name| {
                let text = std::fs::read_to_string(self.logs.path().join(format!("{name}.log")))
                    .unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(40)..].join("\n");
                format!("--- {name} log (end) ---\n{tail}")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A profile output for this emulator (YAML, indented for `outputs:`).
    pub fn profile_yaml(&self, database: &str, schema: &str, threads: usize) -> String {
        format!(
            "      type: snowflake\n      account: hangar_test\n      user: hangar\n      password: emulator-password\n      \
             database: {database}\n      schema: {schema}\n      warehouse: test_wh\n      threads: {threads}\n      \
             host: 127.0.0.1\n      port: {}\n      protocol: http\n      connect_timeout: 30\n",
            self.port
        )
    }

    /// The same settings as a map, for `hangar_adapter::adapter_from_profile`.
    pub fn settings(
        &self,
        database: &str,
        schema: &str,
    ) -> serde_json::Map<String, serde_json::Value> {
        let value = serde_json::json!({
            "account": "hangar_test", "user": "hangar", "password": "emulator-password",
            "database": database, "schema": schema, "warehouse": "test_wh", "threads": 1,
            "host": "127.0.0.1", "port": self.port, "protocol": "http", "connect_timeout": 30,
        });
        value.as_object().cloned().unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A database name no other test (or earlier run) uses.
pub fn unique_database(label: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("HANGAR_{}_{}_{n}", label.to_uppercase(), std::process::id())
}

fn shim_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("tests/snowflake_emulator/shim.py"))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("tests/snowflake_emulator/shim.py"))
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("free port: {e}"))
}

/// `$HOME/.cache/hangar/fakesnow-venv` with the pinned packages, installed once.
/// A lock file keeps two test binaries from installing at the same time.
fn ensure_venv() -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let cache = PathBuf::from(home).join(".cache/hangar");
    let venv = cache.join("fakesnow-venv");
    if venv.join(MARKER).exists() {
        return Ok(venv);
    }
    std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let _lock = InstallLock::acquire(&cache.join("fakesnow-venv.lock"))?;
    if venv.join(MARKER).exists() {
        return Ok(venv);
    }
    let log_path = cache.join("fakesnow-venv-install.log");
    let log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let run = |program: &Path, args: &[&str]| -> Result<(), String> {
        let out = log.try_clone().map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let status = Command::new(program)
            .args(args)
            .stdout(out)
            .stderr(err)
            .status()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} {} failed ({status}); see {}",
                program.display(),
                args.join(" "),
                log_path.display()
            ))
        }
    };
    let venv_arg = venv.display().to_string();
    run(Path::new("python3"), &["-m", "venv", "--clear", &venv_arg])?;
    let mut pip_args = vec!["install", "--quiet"];
    pip_args.extend(REQUIREMENTS);
    run(&venv.join("bin/pip"), &pip_args)?;
    std::fs::write(venv.join(MARKER), REQUIREMENTS.join("\n"))
        .map_err(|e| format!("{}: {e}", venv.display()))?;
    Ok(venv)
}

/// An exclusive lock held while the venv is installed: the file is created
/// with `create_new`, waited on while another process holds it, and removed.
struct InstallLock(PathBuf);

impl InstallLock {
    fn acquire(path: &Path) -> Result<InstallLock, String> {
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(_) => return Ok(InstallLock(path.to_path_buf())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // A lock older than the deadline was left by a killed run.
                    let stale = std::fs::metadata(path)
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(900));
                    if stale {
                        let _ = std::fs::remove_file(path);
                    } else if Instant::now() > deadline {
                        return Err(format!("{} is held by another install", path.display()));
                    } else {
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
