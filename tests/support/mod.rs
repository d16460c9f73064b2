//! Helpers for the end-to-end tests: fixture projects written to temporary
//! directories and the real `hangar` binary run on them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const DEFAULT_PROJECT: &str = "name: broken\nprofile: broken\nconfig-version: 2\n";
pub const DEFAULT_PROFILE: &str = "broken:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n      schema: main\n      threads: 1\n";

/// A project described in one text file: `# command: …` on the first line,
/// then `--- file: path` sections (and `--- delete: path`).
pub struct CaseFile {
    pub args: Vec<String>,
    pub files: Vec<(String, Option<String>)>,
}

pub fn parse_case(text: &str) -> CaseFile {
    let mut args = Vec::new();
    let mut files: Vec<(String, Option<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(cmd) = line.strip_prefix("# command:") {
            args = split_args(cmd.trim());
        } else if let Some(path) = line.strip_prefix("--- file:") {
            files.push((path.trim().to_string(), Some(String::new())));
        } else if let Some(path) = line.strip_prefix("--- delete:") {
            files.push((path.trim().to_string(), None));
        } else if let Some((_, Some(body))) = files.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    CaseFile { args, files }
}

/// Shell-like splitting with double quotes.
pub fn split_args(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(current);
    }
    out
}

/// Write the default project and profile, then the case's files.
pub fn write_case(dir: &Path, case: &CaseFile) {
    write(dir, "dbt_project.yml", DEFAULT_PROJECT);
    write(dir, "profiles.yml", DEFAULT_PROFILE);
    for (path, body) in &case.files {
        match body {
            Some(text) => write(dir, path, text),
            None => {
                let _ = std::fs::remove_file(dir.join(path));
            }
        }
    }
}

pub fn write(dir: &Path, path: &str, text: &str) {
    let full = dir.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).expect("create fixture dir");
    }
    std::fs::write(full, text).expect("write fixture file");
}

pub fn hangar() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hangar"))
}

/// Run hangar in `dir` with the given args (project and profiles dir set).
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    hangar()
        .args(args)
        .arg("--project-dir")
        .arg(dir)
        .arg("--profiles-dir")
        .arg(dir)
        .arg("--no-color")
        .env("NO_COLOR", "1")
        .env_remove("DBT_PROFILES_DIR")
        .env_remove("HANGAR_PROFILES_DIR")
        .output()
        .expect("run hangar")
}

/// `target/manifest.json` of `project`, parsed.
pub fn read_manifest(project: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(project.join("target/manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("manifest is JSON")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Copy a fixture project from tests/fixtures into a fresh temp dir.
pub fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dst = tmp.path().join(name);
    copy_dir(&src, &dst);
    (tmp, dst)
}

pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for entry in std::fs::read_dir(src).expect("read fixture dir") {
        let entry = entry.expect("dir entry");
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).expect("copy fixture file");
        }
    }
}
