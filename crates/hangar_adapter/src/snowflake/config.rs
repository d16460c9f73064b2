//! dbt-snowflake's profile keys, read into a typed configuration. Secrets are
//! wrapped so that no `Debug` or error text can show them.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::AdapterError;
use crate::profile::Settings;

/// A password, private key, passphrase or token: printed as `<redacted>`.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How the session logs in (dbt-snowflake's `authenticator`).
#[derive(Clone, Debug)]
pub(crate) enum Credentials {
    Password(Secret),
    /// A PEM private key (read from `private_key_path` or given as `private_key`).
    KeyPair {
        pem: Secret,
        passphrase: Option<Secret>,
    },
    OAuth(Secret),
}

impl Credentials {
    /// Every secret value, so that messages can be scrubbed of them.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match self {
            Credentials::Password(p) | Credentials::OAuth(p) => vec![p.expose()],
            Credentials::KeyPair { pem, passphrase } => {
                let mut all = vec![pem.expose()];
                all.extend(passphrase.as_ref().map(Secret::expose));
                all
            }
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Credentials::Password(_) => "password",
            Credentials::KeyPair { .. } => "key pair",
            Credentials::OAuth(_) => "oauth",
        }
    }
}

/// One dbt-snowflake target.
#[derive(Clone, Debug)]
pub(crate) struct SnowflakeConfig {
    pub target: String,
    pub account: String,
    pub user: String,
    pub credentials: Credentials,
    pub role: Option<String>,
    pub warehouse: Option<String>,
    pub database: String,
    pub schema: String,
    pub threads: usize,
    pub query_tag: Option<String>,
    pub client_session_keep_alive: bool,
    pub connect_timeout: Duration,
    /// Extra login attempts after a network failure (dbt-snowflake's `connect_retries`).
    pub connect_retries: u64,
    /// `protocol://host:port` when `host` is set (a proxy, PrivateLink or a local emulator).
    pub base_url: Option<String>,
}

impl SnowflakeConfig {
    pub(crate) fn from_settings(
        s: &Settings<'_>,
        project_root: &Path,
    ) -> Result<Self, AdapterError> {
        let required = |key: &str| -> Result<String, AdapterError> {
            s.string(key)?
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| s.config_error(format!("'{key}' is required for snowflake")))
        };
        let credentials = credentials(s, project_root)?;
        let user = match &credentials {
            // An OAuth token names its user; dbt-snowflake lets `user` be left out then.
            Credentials::OAuth(_) => s.string("user")?.unwrap_or_default(),
            _ => required("user")?,
        };
        Ok(Self {
            target: s.target.to_string(),
            account: required("account")?,
            user,
            credentials,
            role: s.string("role")?,
            warehouse: s.string("warehouse")?,
            database: required("database")?,
            schema: required("schema")?,
            threads: s.threads()?,
            query_tag: s.string("query_tag")?,
            client_session_keep_alive: boolean(s, "client_session_keep_alive")?.unwrap_or(false),
            connect_timeout: Duration::from_secs(s.u64("connect_timeout")?.unwrap_or(10).max(1)),
            connect_retries: s.u64("connect_retries")?.unwrap_or(1),
            base_url: base_url(s)?,
        })
    }

    /// Where the target is, for messages: the host when one is set, else the account.
    pub(crate) fn describe_endpoint(&self) -> String {
        let place = match &self.base_url {
            Some(url) => format!("snowflake at {url} (account '{}'", self.account),
            None => format!(
                "snowflake account '{}' ({}.snowflakecomputing.com",
                self.account, self.account
            ),
        };
        format!(
            "{place}, user '{}', {} authentication)",
            self.user,
            self.credentials.describe()
        )
    }

    /// `message` with every secret of this target replaced, as a last line of defence.
    pub(crate) fn scrub(&self, message: &str) -> String {
        let mut text = message.to_string();
        for secret in self.credentials.secrets() {
            if !secret.is_empty() {
                text = text.replace(secret, "<redacted>");
            }
        }
        text
    }
}

fn credentials(s: &Settings<'_>, project_root: &Path) -> Result<Credentials, AdapterError> {
    let authenticator = s
        .string("authenticator")?
        .map(|a| a.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let secret = |key: &str| -> Result<Option<Secret>, AdapterError> {
        Ok(s.string(key)?.filter(|v| !v.is_empty()).map(Secret))
    };
    match authenticator.as_str() {
        "oauth" => secret("token")?
            .map(Credentials::OAuth)
            .ok_or_else(|| s.config_error("'authenticator: oauth' needs a 'token'")),
        "" | "snowflake" | "snowflake_jwt" => {
            if let Some(pem) = private_key(s, project_root)? {
                return Ok(Credentials::KeyPair {
                    pem,
                    passphrase: secret("private_key_passphrase")?,
                });
            }
            if authenticator == "snowflake_jwt" {
                return Err(s.config_error(
                    "'authenticator: snowflake_jwt' needs 'private_key_path' or 'private_key'",
                ));
            }
            secret("password")?.map(Credentials::Password).ok_or_else(|| {
                s.config_error(
                    "snowflake needs 'password', 'private_key_path' / 'private_key', or 'authenticator: oauth' with a 'token'",
                )
            })
        }
        other => Err(s.config_error(format!(
            "authenticator '{other}' is not supported yet (supported: snowflake with a password, key pair through private_key_path / private_key, oauth)"
        ))),
    }
}

/// The PEM text of `private_key_path` or `private_key`. dbt-snowflake accepts
/// `private_key` as PEM or as base64 DER; the latter is wrapped into PEM here.
fn private_key(s: &Settings<'_>, project_root: &Path) -> Result<Option<Secret>, AdapterError> {
    if let Some(path) = s.string("private_key_path")?.filter(|p| !p.is_empty()) {
        let full = if Path::new(&path).is_absolute() {
            Path::new(&path).to_path_buf()
        } else {
            project_root.join(&path)
        };
        let text = std::fs::read_to_string(&full).map_err(|e| {
            s.config_error(format!(
                "cannot read private_key_path '{}': {e}",
                full.display()
            ))
        })?;
        return Ok(Some(Secret(text)));
    }
    let Some(key) = s.string("private_key")?.filter(|k| !k.trim().is_empty()) else {
        return Ok(None);
    };
    if key.trim_start().starts_with("-----BEGIN") {
        return Ok(Some(Secret(key)));
    }
    let body: String = key.chars().filter(|c| !c.is_whitespace()).collect();
    if !body
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
    {
        return Err(s.config_error(
            "'private_key' must be a PEM private key or base64-encoded DER (PKCS#8)",
        ));
    }
    let label = if s.string("private_key_passphrase")?.is_some() {
        "ENCRYPTED PRIVATE KEY"
    } else {
        "PRIVATE KEY"
    };
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    Ok(Some(Secret(pem)))
}

/// `protocol://host:port` from dbt-snowflake's `host`, `port` and `protocol`.
fn base_url(s: &Settings<'_>) -> Result<Option<String>, AdapterError> {
    let Some(host) = s.string("host")?.filter(|h| !h.trim().is_empty()) else {
        if s.raw("port").is_some() || s.raw("protocol").is_some() {
            return Err(s.config_error("'port' and 'protocol' need a 'host'"));
        }
        return Ok(None);
    };
    let host = host.trim();
    if host.contains("://") || host.contains('/') {
        return Err(s.config_error(format!(
            "'host' must be a host name such as 'xy12345.eu-west-1.snowflakecomputing.com', got '{host}'; use 'protocol' and 'port' for the rest"
        )));
    }
    let protocol = s
        .string("protocol")?
        .map(|p| p.trim().to_ascii_lowercase())
        .unwrap_or_else(|| "https".to_string());
    if protocol != "https" && protocol != "http" {
        return Err(s.config_error(format!(
            "'protocol' must be https or http, got '{protocol}'"
        )));
    }
    let port = match s.u64("port")? {
        Some(p) => Some(
            u16::try_from(p)
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| s.config_error(format!("'port' {p} is not a valid port")))?,
        ),
        None => None,
    };
    Ok(Some(match port {
        Some(port) => format!("{protocol}://{host}:{port}"),
        None => format!("{protocol}://{host}"),
    }))
}

/// A boolean setting; env_var() renders them as strings.
fn boolean(s: &Settings<'_>, key: &str) -> Result<Option<bool>, AdapterError> {
    match s.raw(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(text)) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Some(true)),
            "false" | "no" | "0" | "" => Ok(Some(false)),
            _ => Err(s.config_error(format!("'{key}' must be true or false, got '{text}'"))),
        },
        Some(other) => Err(s.config_error(format!("'{key}' must be true or false, got {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: Value) -> Result<SnowflakeConfig, AdapterError> {
        let map = value.as_object().cloned().unwrap_or_default();
        let s = Settings {
            target: "prod",
            map: &map,
        };
        SnowflakeConfig::from_settings(&s, Path::new("/nonexistent-project"))
    }

    fn base() -> Value {
        json!({"account": "xy12345", "user": "loader", "database": "analytics", "schema": "dbt", "password": "hunter2-very-secret"})
    }

    fn with(mut value: Value, extra: Value) -> Value {
        if let (Some(map), Some(more)) = (value.as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                map.insert(k.clone(), v.clone());
            }
        }
        value
    }

    #[test]
    fn reads_dbt_snowflake_keys() {
        let c = config(with(
            base(),
            json!({"role": "transformer", "warehouse": "wh", "threads": "4", "query_tag": "hangar",
                   "client_session_keep_alive": "True", "connect_timeout": 3}),
        ))
        .expect("valid profile");
        assert_eq!(c.account, "xy12345");
        assert_eq!(c.role.as_deref(), Some("transformer"));
        assert_eq!(c.warehouse.as_deref(), Some("wh"));
        assert_eq!(c.threads, 4);
        assert_eq!(c.query_tag.as_deref(), Some("hangar"));
        assert!(c.client_session_keep_alive);
        assert_eq!(c.connect_timeout, Duration::from_secs(3));
        assert!(c.base_url.is_none());
        assert!(matches!(c.credentials, Credentials::Password(_)));
    }

    #[test]
    fn host_port_and_protocol_make_the_base_url() {
        let c = config(with(
            base(),
            json!({"host": "127.0.0.1", "port": "8085", "protocol": "http"}),
        ))
        .expect("valid profile");
        assert_eq!(c.base_url.as_deref(), Some("http://127.0.0.1:8085"));
        let c = config(with(
            base(),
            json!({"host": "acme.privatelink.snowflakecomputing.com"}),
        ))
        .expect("valid profile");
        assert_eq!(
            c.base_url.as_deref(),
            Some("https://acme.privatelink.snowflakecomputing.com")
        );
        let err = config(with(base(), json!({"host": "http://x", "port": 1})))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("'host' must be a host name"), "{err}");
        let err = config(with(base(), json!({"host": "x", "protocol": "ftp"})))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("'protocol' must be https or http"), "{err}");
    }

    #[test]
    fn key_pair_and_oauth_are_chosen_by_the_profile() {
        let c = config(with(
            base(),
            json!({"private_key": "MIIEvQIBADANBg+/=", "private_key_passphrase": "open-sesame"}),
        ))
        .expect("valid profile");
        match &c.credentials {
            Credentials::KeyPair { pem, passphrase } => {
                assert!(
                    pem.expose()
                        .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIEvQIBADANBg+/=\n")
                );
                assert_eq!(passphrase.as_ref().map(Secret::expose), Some("open-sesame"));
            }
            other => panic!("expected a key pair, got {other:?}"),
        }
        let c = config(json!({"account": "a", "database": "d", "schema": "s", "authenticator": "oauth", "token": "tok-123"}))
            .expect("valid profile");
        assert!(matches!(c.credentials, Credentials::OAuth(_)));
        let err = config(with(base(), json!({"authenticator": "externalbrowser"})))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("authenticator 'externalbrowser' is not supported yet"),
            "{err}"
        );
    }

    #[test]
    fn missing_keys_name_the_key_and_the_target() {
        let err = config(json!({"account": "a", "user": "u", "schema": "s", "password": "p"}))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            err,
            "invalid profile for target 'prod': 'database' is required for snowflake"
        );
        let err = config(json!({"account": "a", "user": "u", "database": "d", "schema": "s"}))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("snowflake needs 'password'"), "{err}");
        let err = config(with(base(), json!({"private_key_path": "keys/missing.p8"})))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("cannot read private_key_path '/nonexistent-project/keys/missing.p8'"),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_show_in_debug_or_scrubbed_text() {
        for profile in [
            base(),
            with(
                base(),
                json!({"private_key": "-----BEGIN PRIVATE KEY-----\nSECRETKEYBODY\n-----END PRIVATE KEY-----", "private_key_passphrase": "pass-phrase-42"}),
            ),
            json!({"account": "a", "database": "d", "schema": "s", "authenticator": "oauth", "token": "oauth-token-77"}),
        ] {
            let c = config(profile).expect("valid profile");
            let debug = format!("{c:?} {}", c.describe_endpoint());
            for secret in [
                "hunter2-very-secret",
                "SECRETKEYBODY",
                "pass-phrase-42",
                "oauth-token-77",
            ] {
                assert!(!debug.contains(secret), "{secret} leaked: {debug}");
            }
            for secret in c.credentials.secrets() {
                assert_eq!(
                    c.scrub(&format!("failed: {secret}!")),
                    "failed: <redacted>!"
                );
            }
        }
    }
}
