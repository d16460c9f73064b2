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
