//! A small project whose model, property file, macro file and selection come
//! from the input, taken through load, parse, selection, compile (without a
//! warehouse) and the manifest. Errors are expected; panics are bugs.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hangar_engine::commands::{selected_ids, target_dir};
use hangar_engine::compile::{Compiler, compile_selected};
use hangar_engine::invocation::Invocation;
use hangar_engine::manifest::write_manifest;
use hangar_engine::parse::parse_project;
use hangar_engine::session::load_session;
use libfuzzer_sys::fuzz_target;

const PROJECT: &str = "name: fuzz\nprofile: fuzz\nconfig-version: 2\n\
models:\n  fuzz:\n    +materialized: view\n    staging:\n      +schema: staging\n";
const PROFILES: &str = "fuzz:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n\
      host: 127.0.0.1\n      user: fuzz\n      dbname: fuzz\n      schema: main\n      threads: 2\n";

fn project_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path();
        std::fs::create_dir_all(root.join("models/staging")).unwrap();
        std::fs::create_dir_all(root.join("macros")).unwrap();
        std::fs::write(root.join("dbt_project.yml"), PROJECT).unwrap();
        std::fs::write(root.join("profiles.yml"), PROFILES).unwrap();
        std::fs::write(root.join("models/staging/base.sql"), "select 1 as id").unwrap();
        dir
    })
    .path()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split("\n~~\n");
    let model = parts.next().unwrap_or_default();
    let properties = parts.next().unwrap_or_default();
    let macros = parts.next().unwrap_or_default();
    let select = parts.next().unwrap_or_default();
    let root = project_dir();
    let files: [(PathBuf, &str); 3] = [
        (root.join("models/staging/fuzzed.sql"), model),
        (root.join("models/staging/schema.yml"), properties),
        (root.join("macros/fuzzed.sql"), macros),
    ];
    for (path, contents) in &files {
        std::fs::write(path, contents).unwrap();
    }

    let mut invocation = Invocation::new(root.to_path_buf(), "compile");
    invocation.profiles_dir = Some(root.to_path_buf());
    if !select.is_empty() {
        invocation.selection.select = select.split(' ').map(str::to_string).collect();
    }
    let Ok(mut session) = load_session(invocation) else {
        return;
    };
    let Ok(parsed) = parse_project(&mut session) else {
        return;
    };
    let flags = session.invocation.selection.clone();
    let Ok(ids) = selected_ids(&session, &parsed, &flags, &[]) else {
        return;
    };
    let target = target_dir(&session);
    let compiler = Compiler::new(&session, &parsed);
    let compiled = compile_selected(&compiler, &ids, &target, None).unwrap_or_default();
    let _ = write_manifest(&session, &parsed, &compiled, &parsed.graph, &target);
});
