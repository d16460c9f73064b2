//! Command-line arguments, following dbt's conventions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "hangar",
    version,
    about = "A dbt-compatible SQL transformation compiler",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Directory holding hangar_project.yml or dbt_project.yml.
    #[arg(long, global = true, value_name = "DIR")]
    pub project_dir: Option<PathBuf>,
    /// Directory holding profiles.yml (also HANGAR_PROFILES_DIR, DBT_PROFILES_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub profiles_dir: Option<PathBuf>,
    /// Target of the profile to use (defaults to the profile's `target:`).
    #[arg(long, short = 't', global = true)]
    pub target: Option<String>,
    /// Variables as a YAML or JSON mapping, e.g. '{start_date: 2024-01-01}'.
    #[arg(long, global = true, value_name = "YAML")]
    pub vars: Option<String>,
    /// Number of concurrent warehouse connections.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Print only errors and results asked for.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Disable coloured output (also NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SelectionArgs {
    /// Nodes to include (dbt selection syntax); repeatable, space-separated.
    #[arg(long, short = 's', num_args = 1.., value_name = "SELECTOR", alias = "models", short_alias = 'm')]
    pub select: Vec<String>,
    /// Nodes to leave out.
    #[arg(long, num_args = 1.., value_name = "SELECTOR")]
    pub exclude: Vec<String>,
    /// A named selector from selectors.yml.
    #[arg(long, value_name = "NAME")]
    pub selector: Option<String>,
    /// How tests attached to selected nodes are selected.
    #[arg(long, value_enum, default_value_t = IndirectSelectionArg::Eager)]
    pub indirect_selection: IndirectSelectionArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum IndirectSelectionArg {
    #[default]
    Eager,
    Cautious,
    Buildable,
    Empty,
}

#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Rebuild incremental models and seeds from scratch.
    #[arg(long, short = 'f')]
    pub full_refresh: bool,
    /// Stop at the first failure.
    #[arg(long, short = 'x')]
    pub fail_fast: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load the project, render every node and write target/manifest.json.
    Parse,
    /// Compile selected nodes to SQL under target/compiled.
    Compile {
        #[command(flatten)]
        selection: SelectionArgs,
        /// Compile this SQL instead of the project's nodes and print it.
        #[arg(long)]
        inline: Option<String>,
    },
    /// List selected resources.
    #[command(alias = "list")]
    Ls {
        #[command(flatten)]
        selection: SelectionArgs,
        /// Only these resource types (model, seed, snapshot, test, source, …).
        #[arg(long, num_args = 1.., value_name = "TYPE")]
        resource_type: Vec<String>,
        #[arg(long, short = 'o', value_enum, default_value_t = ListOutput::Selector)]
        output: ListOutput,
        /// Keys of each node to print with `--output json`.
        #[arg(long, num_args = 1.., value_name = "KEY")]
        output_keys: Vec<String>,
    },
    /// Delete the project's clean-targets (target/, dbt_packages/ by default).
    Clean,
    /// Create a new project with a DuckDB profile.
    Init {
        /// Name of the new project (a directory of that name is created).
        project_name: String,
    },
    /// Show the resolved project, profile and target, and check the connection.
    Debug,
    /// Build the selected models.
    Run(RunArgs),
    /// Load the selected seeds.
    Seed(RunArgs),
    /// Seeds, models, snapshots and tests in DAG order.
    Build(RunArgs),
    /// Run the selected data tests.
    Test(RunArgs),
    /// Build the selected snapshots.
    Snapshot(RunArgs),
    /// Preview the results of a model or an inline query.
    Show {
        #[command(flatten)]
        selection: SelectionArgs,
        #[arg(long)]
        inline: Option<String>,
        /// Rows to show.
        #[arg(long, default_value_t = 5)]
        limit: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListOutput {
    Name,
    Path,
    Json,
    Selector,
}
