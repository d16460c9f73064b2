//! The real binary on a fixture project against the local PostgreSQL
//! (127.0.0.1:5432, trust auth). Each test creates its own database and
//! drops it afterwards.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{copy_fixture, hangar, run_in, text, write};

/// A fresh database, dropped when the guard goes out of scope.
struct TestDatabase {
    name: String,
}

impl TestDatabase {
    fn create(label: &str) -> TestDatabase {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("hangar_e2e_{label}_{}_{nanos}", std::process::id());
        admin()
            .batch_execute(&format!("create database {name}"))
            .expect("create database");
        TestDatabase { name }
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port=5432 user=postgres dbname={}",
                self.name
            ),
            postgres::NoTls,
        )
        .expect("connect to test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = admin().batch_execute(&format!(
            "drop database if exists {} with (force)",
            self.name
        ));
    }
}

fn admin() -> postgres::Client {
    postgres::Client::connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres",
        postgres::NoTls,
    )
    .expect("PostgreSQL must run on 127.0.0.1:5432 (scripts/test starts it)")
}

/// Points the project's profile (named in its project file) at `db`.
fn use_postgres(project: &Path, db: &TestDatabase) {
    write(
        project,
        "profiles.yml",
        &format!(
            "{}:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      password: ''\n      dbname: {}\n      schema: ci\n      threads: 2\n",
            profile_name(project),
            db.name
        ),
    );
}

fn profile_name(project: &Path) -> String {
    let text = std::fs::read_to_string(project.join("dbt_project.yml")).expect("project file");
    text.lines()
        .find_map(|l| l.strip_prefix("profile:"))
        .map(|p| p.trim().trim_matches('"').to_string())
        .expect("profile key")
}

fn count(client: &mut postgres::Client, relation: &str) -> i64 {
    client
        .query_one(&format!("select count(*) from {relation}"), &[])
        .unwrap_or_else(|e| panic!("count {relation}: {e}"))
        .get(0)
}

fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn builds_twice_with_the_same_results() {
    let db = TestDatabase::create("build");
    let (_tmp, project) = copy_fixture("gym_mini");
    use_postgres(&project, &db);
    for _ in 0..2 {
        let out = run_in(&project, &["build"]);
        assert_success(&out);
        assert!(text(&out.stdout).contains("ERROR=0"));
    }
    let mut c = db.client();
    assert_eq!(count(&mut c, "ci_raw.raw_visits"), 6);
    assert_eq!(count(&mut c, "ci_marts.dim_members"), 5);
    assert_eq!(
        count(&mut c, "ci_marts.fct_visits"),
        6,
        "delete+insert keeps one row per key"
    );
    assert_eq!(
        count(&mut c, "ci_marts.visits_merged"),
        6,
        "merge keeps one row per key"
    );
    assert_eq!(
        count(&mut c, "ci_marts.visits_appended"),
        6,
        "the is_incremental() filter appends nothing new"
    );
    assert_eq!(count(&mut c, "snapshots.members_snapshot"), 5);
    let kind: String = c
        .query_one("select table_type from information_schema.tables where table_schema = 'ci_staging' and table_name = 'stg_members'", &[])
        .expect("stg_members")
        .get(0);
    assert_eq!(kind, "VIEW");
}

#[test]
fn a_failing_model_leaves_the_previous_table() {
    let db = TestDatabase::create("fail");
    let (_tmp, project) = copy_fixture("gym_mini");
    use_postgres(&project, &db);
    assert_success(&run_in(&project, &["build"]));
    write(
        &project,
        "models/marts/dim_members.sql",
        "select member_id, no_such_column from {{ ref('stg_members') }}\n",
    );
    let out = run_in(&project, &["run", "--select", "dim_members"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("no_such_column"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(count(&mut db.client(), "ci_marts.dim_members"), 5);
}

// --- grants ----------------------------------------------------------------------------

/// Roles made for one test run (names unique to it), dropped after the test's database
/// (declare them first, so they are dropped last).
struct TestRoles {
    names: Vec<String>,
}

impl TestRoles {
    fn create(names: &[String]) -> TestRoles {
        let mut admin = admin();
        for name in names {
            admin
                .batch_execute(&format!("create role {}", quote(name)))
                .unwrap_or_else(|e| panic!("create role {name}: {e}"));
        }
        TestRoles {
            names: names.to_vec(),
        }
    }
}

impl Drop for TestRoles {
    fn drop(&mut self) {
        let mut admin = admin();
        for name in &self.names {
            let _ = admin.batch_execute(&format!("drop role if exists {}", quote(name)));
        }
    }
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{}_{nanos}", std::process::id())
}

/// `(privilege, grantee)` pairs on one relation, other than its owner's.
fn grants_on(c: &mut postgres::Client, schema: &str, name: &str) -> BTreeSet<(String, String)> {
    c.query(
        "select privilege_type::text, grantee::text from information_schema.role_table_grants \
         where table_schema = $1 and table_name = $2 and grantee <> current_user",
        &[&schema, &name],
    )
    .expect("role_table_grants")
    .iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect()
}

fn select_for(roles: &[&String]) -> BTreeSet<(String, String)> {
    roles
        .iter()
        .map(|r| ("SELECT".to_string(), r.to_string()))
        .collect()
}

#[test]
fn grants_are_applied_and_revoked_to_match_the_config() {
    let suffix = unique_suffix();
    let (a, b, q) = (
        format!("hangar_reader_a_{suffix}"),
        format!("hangar_reader_b_{suffix}"),
        format!("Hangar Reader Q {suffix}"),
    );
    let _roles = TestRoles::create(&[a.clone(), b.clone(), q.clone()]);
    let db = TestDatabase::create("grants");
    let (_tmp, project) = copy_fixture("pg_grants");
    use_postgres(&project, &db);
    let vars = |incremental: &str| {
        format!(
            "{{reader_a: {a}, reader_b: {b}, quoted_reader: '{q}', incremental_readers: [{incremental}]}}"
        )
    };
    let out = run_in(&project, &["build", "--vars", &vars(&a)]);
    assert_success(&out);
    let mut c = db.client();
    assert_eq!(grants_on(&mut c, "ci", "people"), select_for(&[&b]), "seed");
    assert_eq!(
        grants_on(&mut c, "ci", "granted_table"),
        select_for(&[&a, &b, &q]),
        "project grants plus the model's `+select`"
    );
    assert_eq!(grants_on(&mut c, "ci", "granted_view"), select_for(&[&a]));
    assert_eq!(
        grants_on(&mut c, "ci", "granted_incremental"),
        select_for(&[&a])
    );
    assert_eq!(
        grants_on(&mut c, "snapshots", "people_snapshot"),
        select_for(&[&a])
    );

    // Grants made outside hangar: stale ones on relations updated in place are revoked,
    // rebuilt relations start from the config alone.
    c.batch_execute(&format!(
        "grant select on ci.granted_incremental to {qb}; \
         grant insert on ci.granted_incremental to {qa}; \
         grant select on snapshots.people_snapshot to {qb}; \
         grant update on ci.granted_table to {qa}",
        qa = quote(&a),
        qb = quote(&b)
    ))
    .expect("extra grants");
    let out = run_in(&project, &["build", "--vars", &vars(&b)]);
    assert_success(&out);
    assert_eq!(
        grants_on(&mut c, "ci", "granted_incremental"),
        select_for(&[&b]),
        "the incremental run revoked what the config no longer lists"
    );
    assert_eq!(
        grants_on(&mut c, "snapshots", "people_snapshot"),
        select_for(&[&a])
    );
    assert_eq!(
        grants_on(&mut c, "ci", "granted_table"),
        select_for(&[&a, &b, &q])
    );
    assert_eq!(grants_on(&mut c, "ci", "granted_view"), select_for(&[&a]));
    let reader_can_select: bool = c
        .query_one(
            "select has_table_privilege($1, 'ci.granted_view', 'select')",
            &[&a],
        )
        .expect("has_table_privilege")
        .get(0);
    assert!(reader_can_select);
}

#[test]
fn a_grant_to_a_missing_role_fails_the_model_clearly() {
    let db = TestDatabase::create("grants_missing");
    let (_tmp, project) = copy_fixture("pg_grants");
    use_postgres(&project, &db);
    let role = format!("hangar_no_such_role_{}", unique_suffix());
    let vars = format!("{{reader_b: {role}}}");
    let out = run_in(&project, &["seed", "--vars", &vars]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("applying grants on") && stdout.contains(&role),
        "{stdout}"
    );
}

// --- reliability -------------------------------------------------------------------------

#[test]
fn a_killed_connection_fails_the_model_and_the_next_build_succeeds() {
    let db = TestDatabase::create("killed");
    let (_tmp, project) = copy_fixture("pg_slow");
    use_postgres(&project, &db);
    assert_success(&run_in(&project, &["build"]));

    let child = hangar()
        .args(["build", "--vars", "{sleep_seconds: 120}", "--no-color"])
        .arg("--project-dir")
        .arg(&project)
        .arg("--profiles-dir")
        .arg(&project)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hangar");
    let mut c = db.client();
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid: i32 = loop {
        let rows = c
            .query(
                "select pid from pg_stat_activity where datname = $1 \
                 and application_name = 'hangar' and state = 'active' \
                 and query like '%pg_sleep%'",
                &[&db.name],
            )
            .expect("pg_stat_activity");
        if let Some(row) = rows.first() {
            break row.get(0);
        }
        assert!(
            Instant::now() < deadline,
            "hangar's slow statement never appeared in pg_stat_activity"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    c.query_one("select pg_terminate_backend($1)", &[&pid])
        .expect("terminate");
    let out = child.wait_with_output().expect("hangar output");
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    // The server's 57P01 notice or, when the socket closes first, the lost connection.
    let error_line = stdout
        .lines()
        .find(|l| {
            l.contains("terminating connection")
                || (l.contains("connection to postgres at 127.0.0.1:5432") && l.contains("lost"))
        })
        .unwrap_or_else(|| panic!("no error for the killed statement:\n{stdout}"));
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.join("target/run_results.json")).expect("run_results"),
    )
    .expect("json");
    let status_of = |name: &str| {
        results["results"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["unique_id"] == format!("model.pg_slow.{name}"))
            .map(|r| r["status"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert_eq!(status_of("slow"), "error", "{error_line}");
    assert!(
        stdout.contains("Error in slow (models/slow.sql)"),
        "the error names the model:\n{stdout}"
    );
    assert_eq!(status_of("slow_view"), "skipped");
    assert_eq!(status_of("independent"), "success");
    assert_eq!(count(&mut c, "ci.slow"), 3, "the previous table is intact");
    assert_eq!(count(&mut c, "ci.slow_view"), 3, "and the view on it");
    let leftovers: i64 = c
        .query_one(
            "select count(*) from pg_class where relname like '%hangar_tmp%'",
            &[],
        )
        .expect("leftovers")
        .get(0);
    assert_eq!(leftovers, 0, "no temporary relation stays behind");

    let again = run_in(&project, &["build"]);
    assert_success(&again);
    assert_eq!(count(&mut c, "ci.slow_view"), 3);
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .map(|bytes| String::from_utf8_lossy(&bytes).contains(needle))
            .unwrap_or(false)
        {
            found.push(path.display().to_string());
        }
    }
    found
}

fn profile_with(port: u16, host: &str, password: &str) -> String {
    format!(
        "gym_mini:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: {host}\n      port: {port}\n      user: postgres\n      password: {password}\n      dbname: nowhere\n      schema: ci\n      connect_timeout: 2\n      retries: 0\n"
    )
}

/// Runs `build` with a profile that cannot connect; checks exit code 2, a message
/// naming target and host, the time taken, and that the password is nowhere.
fn assert_connection_failure(profile: &str, host_port: &str, password: &str) -> String {
    let (_tmp, project) = copy_fixture("gym_mini");
    write(&project, "profiles.yml", profile);
    // Parsing writes artifacts without connecting; they must not hold the password either.
    assert_success(&run_in(&project, &["parse"]));
    let debug = run_in(&project, &["debug"]);
    let started = Instant::now();
    let out = run_in(&project, &["build"]);
    let elapsed = started.elapsed();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let debug_text = format!("{}{}", text(&debug.stdout), text(&debug.stderr));
    assert!(
        !debug_text.contains(password),
        "password in debug: {debug_text}"
    );
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("target 'ci'"), "{all}");
    assert!(all.contains(host_port), "{all}");
    assert!(
        elapsed < Duration::from_secs(6),
        "took {elapsed:?} with connect_timeout 2"
    );
    assert!(!all.contains(password), "password in the output: {all}");
    // Nothing hangar wrote (target/, logs) holds it either; the profile itself does.
    let leaked: Vec<String> = files_containing(&project, password)
        .into_iter()
        .filter(|f| !f.ends_with("profiles.yml"))
        .collect();
    assert!(leaked.is_empty(), "password written to {leaked:?}");
    assert!(project.join("target/manifest.json").is_file());
    all
}

#[test]
fn an_unreachable_host_names_the_target_and_hides_the_password() {
    // Nothing listens on port 1.
    let all = assert_connection_failure(
        &profile_with(1, "127.0.0.1", "hunter2-very-secret"),
        "127.0.0.1:1",
        "hunter2-very-secret",
    );
    assert!(all.contains("could not connect"), "{all}");
    // A server that accepts and then stays silent: the error comes within connect_timeout.
    let silent = TcpListener::bind(("127.0.0.1", 0)).expect("listener");
    let port = silent.local_addr().expect("addr").port();
    let all = assert_connection_failure(
        &profile_with(port, "127.0.0.1", "hunter3-very-secret"),
        &format!("127.0.0.1:{port}"),
        "hunter3-very-secret",
    );
    assert!(all.contains("within connect_timeout (2 s)"), "{all}");
    drop(silent);
}

/// Speaks just enough of the protocol to refuse a password, as a server with password
/// auth does (the local one trusts everyone): declines TLS, asks for a cleartext
/// password, answers 28P01.
fn refuse_passwords(listener: TcpListener) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { return };
        let mut buf = [0u8; 1024];
        if matches!(stream.read(&mut buf), Ok(8)) && buf[4..8] == [0x04, 0xd2, 0x16, 0x2f] {
            let _ = stream.write_all(b"N");
            let _ = stream.read(&mut buf); // startup message
        }
        let _ = stream.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]);
        let _ = stream.read(&mut buf); // the password
        let mut body = Vec::new();
        for (field, value) in [
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', "28P01"),
            (b'M', "password authentication failed for user \"postgres\""),
        ] {
            body.push(field);
            body.extend_from_slice(value.as_bytes());
            body.push(0);
        }
        body.push(0);
        let mut message = vec![b'E'];
        message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        message.extend_from_slice(&body);
        let _ = stream.write_all(&message);
    }
}

#[test]
fn a_wrong_password_names_the_target_and_hides_the_password() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("listener");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || refuse_passwords(listener));
    let all = assert_connection_failure(
        &profile_with(port, "127.0.0.1", "wrong-pw-4242"),
        &format!("127.0.0.1:{port}"),
        "wrong-pw-4242",
    );
    assert!(all.contains("password authentication failed"), "{all}");
}

/// A proxy in front of the local server that declines TLS, as a server without it does.
fn server_without_tls() -> u16 {
    use std::net::TcpStream;
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("listener");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            std::thread::spawn(move || {
                let mut first = [0u8; 8];
                let Ok(mut upstream) = client
                    .read_exact(&mut first)
                    .and_then(|()| TcpStream::connect(("127.0.0.1", 5432)))
                else {
                    return;
                };
                let relayed = if first[4..8] == [0x04, 0xd2, 0x16, 0x2f] {
                    client.write_all(b"N")
                } else {
                    upstream.write_all(&first)
                };
                let (Ok(()), Ok(mut client_in), Ok(mut upstream_out)) =
                    (relayed, client.try_clone(), upstream.try_clone())
                else {
                    return;
                };
                std::thread::spawn(move || std::io::copy(&mut client_in, &mut upstream_out));
                let _ = std::io::copy(&mut upstream, &mut client);
            });
        }
    });
    port
}

#[test]
fn sslmode_require_without_server_tls_fails_and_prefer_falls_back() {
    let db = TestDatabase::create("sslmode");
    let port = server_without_tls();
    let (_tmp, project) = copy_fixture("gym_mini");
    let profile = |mode: &str| {
        format!(
            "gym_mini:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n      port: {port}\n      user: postgres\n      password: ''\n      dbname: {}\n      schema: ci\n      sslmode: {mode}\n      connect_timeout: 5\n",
            db.name
        )
    };
    write(&project, "profiles.yml", &profile("require"));
    let out = run_in(&project, &["seed", "--select", "raw_members"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("target 'ci'")
            && all.contains(&format!("127.0.0.1:{port}"))
            && all.contains("sslmode 'require'")
            && all.contains("server does not support TLS"),
        "{all}"
    );

    write(&project, "profiles.yml", &profile("prefer"));
    assert_success(&run_in(&project, &["seed", "--select", "raw_members"]));
    assert_eq!(count(&mut db.client(), "ci_raw.raw_members"), 5);
}

// --- identifiers --------------------------------------------------------------------------

#[test]
fn identifiers_with_spaces_quotes_and_mixed_case_work() {
    let db = TestDatabase::create("identifiers");
    let (_tmp, project) = copy_fixture("identifiers_odd");
    use_postgres(&project, &db);
    let out = run_in(&project, &["build"]);
    assert_success(&out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ERROR=0") && stdout.contains("PASS="),
        "{stdout}"
    );
    let mut c = db.client();
    assert_eq!(count(&mut c, r#"ci_raw.odd_people"#), 3);
    assert_eq!(count(&mut c, r#"ci."Odd ""Model"" Name""#), 3);
    assert_eq!(count(&mut c, r#"ci."Odd View""#), 1);
    let columns: Vec<String> = c
        .query(
            "select column_name::text from information_schema.columns \
             where table_schema = 'ci' and table_name = 'Odd \"Model\" Name' \
             order by ordinal_position",
            &[],
        )
        .expect("columns")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        columns,
        ["id", "Full Name", "Say \"Hi\"", "status", "UPPER Name"]
    );
    let quoted: String = c
        .query_one(
            r#"select "Say ""Hi""" from ci."Odd ""Model"" Name" where id = 2"#,
            &[],
        )
        .expect("row 2")
        .get(0);
    assert_eq!(quoted, "it's \"quoted\"");

    // An accepted value with a quote matches, and a row outside the list still fails.
    write(
        &project,
        "seeds/odd_people.csv",
        "id,Full Name,\"Say \"\"Hi\"\"\",status\n1,Ada Lovelace,hello,active\n2,Conan O'Brien,\"it's \"\"quoted\"\"\",it's odd\n3,Grace Hopper,hey,it's new\n",
    );
    let out = run_in(&project, &["build", "--select", "odd_people"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("accepted_values_odd_people_status"),
        "{}",
        text(&out.stdout)
    );
}
