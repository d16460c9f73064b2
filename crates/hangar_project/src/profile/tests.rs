use serde_json::json;

use super::*;
use crate::diagnostic::render;

const PROFILES: &str = r#"
config:
  send_anonymous_usage_stats: false
jaffle:
  target: "{{ env_var('TARGET', 'dev') }}"
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('DB_PATH') }}"
      threads: 4
    prod:
      type: postgres
      host: localhost
      port: "{{ env_var('PORT') }}"
      user: me
      password: "{{ env_var('PG_PASSWORD') }}"
      dbname: analytics
      schema: public
      threads: "{{ env_var('THREADS') }}"
      extra:
        client_secret: s
        keep: k
no_outputs:
  target: dev
"#;

/// Stands in for the Jinja layer: substitutes fixed env vars.
fn fake_render(text: &str) -> Result<String, String> {
    let vars = [
        ("{{ env_var('TARGET', 'dev') }}", "dev"),
        ("{{ env_var('DB_PATH') }}", "/tmp/x.duckdb"),
        ("{{ env_var('PORT') }}", "5432"),
        ("{{ env_var('PG_PASSWORD') }}", "hunter2"),
        ("{{ env_var('THREADS') }}", "8"),
    ];
    vars.iter()
        .find(|(template, _)| *template == text)
        .map(|(_, value)| value.to_string())
        .ok_or_else(|| format!("env var not set in `{text}`"))
}

fn dir_with_profiles(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(PROFILES_FILE), text).unwrap();
    dir
}

#[test]
fn default_target_is_rendered() {
    let dir = dir_with_profiles(PROFILES);
    let target = load_profile(dir.path(), "jaffle", None, &fake_render).unwrap();
    assert_eq!(target.target_name, "dev");
    assert_eq!(target.adapter_type, "duckdb");
    assert_eq!(target.threads, 4);
    assert_eq!(target.schema, "main");
    assert_eq!(target.database, None);
    assert_eq!(target.settings["path"], json!("/tmp/x.duckdb"));
}

#[test]
fn cli_target_overrides_and_secrets_are_redacted() {
    let dir = dir_with_profiles(PROFILES);
    let target = load_profile(dir.path(), "jaffle", Some("prod"), &fake_render).unwrap();
    assert_eq!(target.target_name, "prod");
    assert_eq!(target.threads, 8);
    assert_eq!(target.database.as_deref(), Some("analytics"));
    assert_eq!(target.schema, "public");
    assert_eq!(target.settings["port"], json!(5432));
    assert_eq!(target.settings["password"], json!("hunter2"));
    let shown = target.redacted();
    assert_eq!(shown["password"], json!("**********"));
    assert_eq!(
        shown["extra"],
        json!({"client_secret": "**********", "keep": "k"})
    );
    assert_eq!(shown["user"], json!("me"));
}

#[test]
fn unknown_target_suggests() {
    let dir = dir_with_profiles(PROFILES);
    let err = load_profile(dir.path(), "jaffle", Some("prd"), &fake_render).unwrap_err();
    assert_eq!(err.code, codes::PROFILE);
    assert_eq!(err.hint.as_deref(), Some("did you mean `prod`?"));
    assert_eq!(err.notes, ["targets of `jaffle`: `dev`, `prod`"]);
}

#[test]
fn missing_profile_lists_profiles() {
    let dir = dir_with_profiles(PROFILES);
    let err = load_profile(dir.path(), "jaffel", None, &fake_render).unwrap_err();
    assert_eq!(err.hint.as_deref(), Some("did you mean `jaffle`?"));
    assert_eq!(err.notes, ["profiles in the file: `jaffle`, `no_outputs`"]);
}

#[test]
fn profile_without_outputs_is_located() {
    let dir = dir_with_profiles(PROFILES);
    let err = load_profile(dir.path(), "no_outputs", None, &fake_render).unwrap_err();
    assert_eq!(err.location.as_ref().unwrap().line, 23);
}

#[test]
fn render_errors_name_the_key() {
    let dir = dir_with_profiles(
        "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('NOPE') }}\"\n",
    );
    let err = load_profile(dir.path(), "p", None, &fake_render).unwrap_err();
    assert_eq!(
        err.message,
        "cannot render `path` of target `dev` in profile `p`: env var not set in `{{ env_var('NOPE') }}`"
    );
}

#[test]
fn bad_threads_and_missing_type() {
    let dir = dir_with_profiles(
        "p:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      schema: s\n      threads: 0\n",
    );
    let err = load_profile(dir.path(), "p", None, &fake_render).unwrap_err();
    assert!(
        err.message.starts_with("`threads` of target `dev`"),
        "{}",
        err.message
    );
    let dir = dir_with_profiles("p:\n  outputs:\n    default:\n      schema: s\n");
    let err = load_profile(dir.path(), "p", None, &fake_render).unwrap_err();
    assert_eq!(err.message, "target `default` of profile `p` has no `type`");
}

#[test]
fn missing_file_and_broken_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_profile(dir.path(), "p", None, &fake_render).unwrap_err();
    assert!(err.message.starts_with("cannot read"));
    let dir = dir_with_profiles("p:\n  outputs: [\n");
    let err = load_profile(dir.path(), "p", None, &fake_render).unwrap_err();
    assert_eq!(err.code, codes::YAML_SYNTAX);
    let mut shown = render(&err, false);
    shown = shown.replace(&dir.path().display().to_string(), "<dir>");
    insta::assert_snapshot!(shown);
}

#[test]
fn profiles_dir_precedence() {
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    let home = Some(PathBuf::from("/home/u"));
    let cli = Path::new("/cli");
    let hangar = Some(PathBuf::from("/hangar"));
    let dbt = Some(PathBuf::from("/dbt"));
    assert_eq!(
        profiles_dir_from(Some(cli), hangar.clone(), dbt.clone(), root, home.clone()),
        cli
    );
    assert_eq!(
        profiles_dir_from(None, hangar.clone(), dbt.clone(), root, home.clone()),
        Path::new("/hangar")
    );
    assert_eq!(
        profiles_dir_from(None, None, dbt.clone(), root, home.clone()),
        Path::new("/dbt")
    );
    assert_eq!(
        profiles_dir_from(None, None, None, root, home.clone()),
        Path::new("/home/u/.dbt")
    );
    std::fs::write(root.join(PROFILES_FILE), "").unwrap();
    assert_eq!(profiles_dir_from(None, None, None, root, home), root);
}

#[test]
fn secret_keys() {
    let cases = [
        ("password", true),
        ("PASSWORD", true),
        ("private_key", true),
        ("private_key_passphrase", true),
        ("token", true),
        ("refresh_token", true),
        ("client_secret", true),
        ("secret_access_key", true),
        ("user", false),
        ("host", false),
        ("private_key_path", false),
    ];
    for (key, expected) in cases {
        assert_eq!(is_secret_key(key), expected, "{key}");
    }
}
