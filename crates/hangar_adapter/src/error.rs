//! Errors of the warehouse layer. Display texts are what users read: they name the
//! target, host or path concerned and never contain a password.

/// An error from a warehouse or from building an adapter.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// The warehouse could not be reached or refused the login.
    #[error("could not connect to target '{target}': {message}")]
    Connection { target: String, message: String },
    /// The profile output has a missing or invalid setting.
    #[error("invalid profile for target '{target}': {message}")]
    Config { target: String, message: String },
    /// A statement failed; `sql_state` is the SQLSTATE code where the warehouse gives one.
    #[error("{}", database_text(.message, .sql_state.as_deref()))]
    Database {
        message: String,
        sql_state: Option<String>,
    },
    /// The running statement was interrupted through its cancel handle.
    #[error("the query was cancelled")]
    Cancelled,
    /// The database file is held by another process.
    #[error(
        "the database file '{path}' is locked by another process: {message}\nhint: close the other program using it (a DuckDB shell, a notebook, another hangar run) and retry"
    )]
    Locked { path: String, message: String },
    /// A DuckDB extension could not be loaded.
    #[error(
        "could not load DuckDB extension '{name}': {message}\nhint: extensions cannot be downloaded here; install it into DuckDB's extension directory beforehand or remove it from the profile"
    )]
    Extension { name: String, message: String },
    /// A value of a bulk load does not fit its column.
    #[error("cannot load {relation}: row {row}, column '{column}': {message}")]
    BadValue {
        relation: String,
        row: u64,
        column: String,
        message: String,
    },
    /// The adapter type or one of its options is not implemented.
    #[error("{0}")]
    Unsupported(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn database_text(message: &str, sql_state: Option<&str>) -> String {
    match sql_state {
        Some(code) => format!("database error {code}: {message}"),
        None => format!("database error: {message}"),
    }
}

impl AdapterError {
    /// A database error without an SQLSTATE.
    pub fn database(message: impl Into<String>) -> Self {
        AdapterError::Database {
            message: message.into(),
            sql_state: None,
        }
    }

    /// The SQLSTATE of a database error, if any.
    pub fn sql_state(&self) -> Option<&str> {
        match self {
            AdapterError::Database { sql_state, .. } => sql_state.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_texts_name_what_they_concern() {
        let err = AdapterError::Database {
            message: "relation \"x\" does not exist".into(),
            sql_state: Some("42P01".into()),
        };
        assert_eq!(
            err.to_string(),
            "database error 42P01: relation \"x\" does not exist"
        );
        let err = AdapterError::BadValue {
            relation: "\"main\".\"seed\"".into(),
            row: 3,
            column: "id".into(),
            message: "'abc' is not an integer".into(),
        };
        assert_eq!(
            err.to_string(),
            "cannot load \"main\".\"seed\": row 3, column 'id': 'abc' is not an integer"
        );
    }
}
