//! Every broken project under tests/fixtures/broken gives a clear,
//! located error (snapshotted), exit code 2, and never a panic.

mod support;

use support::{parse_case, run_in, text, write_case};

#[test]
fn broken_projects_report_clear_errors() {
    insta::glob!("fixtures/broken/*.txt", |path| {
        let case = parse_case(&std::fs::read_to_string(path).expect("read case"));
        let dir = tempfile::tempdir().expect("tempdir");
        write_case(dir.path(), &case);
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let out = run_in(dir.path(), &args);
        let stderr = text(&out.stderr).replace(&dir.path().display().to_string(), "<project>");
        assert!(
            !stderr.contains("panicked"),
            "{}: hangar panicked:\n{stderr}",
            path.display()
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: exit code\nstderr:\n{stderr}",
            path.display()
        );
        insta::assert_snapshot!(stderr);
    });
}

/// `parse` builds the graph while it writes the manifest's nodes: a graph
/// error (here a cycle) leaves no manifest, and no half-written file, behind.
#[test]
fn a_graph_error_leaves_no_manifest() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let case = parse_case(
        &std::fs::read_to_string(root.join("tests/fixtures/broken/cycle.txt")).expect("read case"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    write_case(dir.path(), &case);
    let out = run_in(dir.path(), &["parse"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cycle"), "{}", text(&out.stderr));
    let left: Vec<String> = std::fs::read_dir(dir.path().join("target"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("manifest"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
