//! The `hangar` binary: arguments, dispatch, printing and exit codes.
//! Only this crate prints or exits.

mod cli;
mod output;

/// Parse and compile allocate many small maps and strings; mimalloc halves
/// the time glibc's allocator spends on them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// With transparent huge pages the kernel zeroes 2 MB at each first touch of
/// the heap. A 10,000-model parse spent 0.55-1.0 s of system time on that
/// on a 2-core VM, against 0.3 s with 4 KB pages (wall median 1.68 s against
/// 1.40 s), so hangar opts its own process out. Best effort: a kernel that
/// refuses changes nothing but speed.
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// mimalloc (v3) keeps freed memory committed for a second before it
/// returns it to the OS: longer than a whole parse, so memory freed on the
/// way (property entries, per-batch buffers) still counted at the peak.
/// With 50 ms, a 10,000-model compile peaks at 262-291 MB instead of over
/// 300 MB (the target), for about 8 % more CPU and wall time (pages handed
/// back are faulted in again). `parse` builds no selection graph and peaks
/// lower (255-270 MB with 50 ms), so it keeps freed memory for 250 ms:
/// 266-284 MB, and 5 % less wall time (0.530 → 0.505 s, 11 alternating
/// runs). `MIMALLOC_PURGE_DELAY` overrides both.
fn purge_delay_ms(command: &Command) -> std::ffi::c_long {
    match command {
        Command::Parse => 250,
        _ => 50,
    }
}

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e`; libmimalloc-sys
/// names no constant for it in v3.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn return_freed_memory_sooner(command: &Command) {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: called in main before any thread starts (mimalloc's
        // options are not synchronized; parsing arguments starts none);
        // plain integers.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, purge_delay_ms(command)) }
    }
}

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use hangar_engine::Failure;
use hangar_engine::commands::{self, ListFormat};
use hangar_engine::invocation::{Indirect, Invocation, SelectionFlags, parse_cli_vars};
use hangar_engine::run::{CancelToken, RunKind, RunOutcome};
use hangar_project::Diagnostic;

use cli::{Cli, Command, GlobalArgs, IndirectSelectionArg, ListOutput, SelectionArgs};
use output::{Style, TerminalReporter};

/// dbt's exit codes: 0 success, 1 model or test failures, 2 hangar failed.
const EXIT_OK: u8 = 0;
const EXIT_FAILURES: u8 = 1;
const EXIT_ERROR: u8 = 2;
/// What a shell reports for a process stopped by SIGINT.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    disable_transparent_huge_pages();
    let cli = Cli::parse();
    return_freed_memory_sooner(&cli.command);
    let style = Style::new(cli.global.log_format, cli.global.no_color, cli.global.quiet);
    match dispatch(&cli, style) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            print_diagnostics(&failure.diagnostics, style);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn print_diagnostics(diagnostics: &[Diagnostic], style: Style) {
    let mut err = std::io::stderr().lock();
    for d in diagnostics {
        if style.format == cli::LogFormat::Json {
            let obj = serde_json::json!({
                "info": {"name": "RunningOperationCaughtError", "level": if d.is_error() {"error"} else {"warn"}, "msg": d.message, "code": d.code},
                "data": {"code": d.code, "message": d.message, "file": d.location.as_ref().map(|l| l.file.display().to_string()), "line": d.location.as_ref().map(|l| l.line), "column": d.location.as_ref().map(|l| l.column), "hint": d.hint},
            });
            let _ = writeln!(err, "{obj}");
        } else {
            let _ = writeln!(err, "{}", hangar_project::render(d, style.color));
        }
    }
    if style.format == cli::LogFormat::Text && diagnostics.len() > 1 {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let _ = writeln!(
            err,
            "{errors} error{} found.",
            if errors == 1 { "" } else { "s" }
        );
    }
}

fn invocation(
    global: &GlobalArgs,
    command: &str,
    selection: Option<&SelectionArgs>,
) -> Result<Invocation, Failure> {
    let project_dir = global
        .project_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let mut inv = Invocation::new(project_dir, command);
    inv.profiles_dir = global.profiles_dir.clone();
    inv.target = global.target.clone();
    inv.threads = global.threads;
    if let Some(vars) = &global.vars {
        inv.vars = parse_cli_vars(vars)?;
    }
    if let Some(sel) = selection {
        inv.selection = SelectionFlags {
            select: sel.select.clone(),
            exclude: sel.exclude.clone(),
            selector: sel.selector.clone(),
            indirect: match sel.indirect_selection {
                IndirectSelectionArg::Eager => Indirect::Eager,
                IndirectSelectionArg::Cautious => Indirect::Cautious,
                IndirectSelectionArg::Buildable => Indirect::Buildable,
                IndirectSelectionArg::Empty => Indirect::Empty,
            },
        };
    }
    Ok(inv)
}

/// The process is about to exit: freeing a large project's nodes one by one
/// would only cost time (a tenth of `parse` on 10,000 models), so leave
/// that to the operating system.
fn exit_without_dropping<T>(value: T) {
    std::mem::forget(value);
}

fn dispatch(cli: &Cli, style: Style) -> Result<u8, Failure> {
    let g = &cli.global;
    match &cli.command {
        Command::Parse => {
            let inv = invocation(g, "parse", None)?;
            let (session, parsed) = commands::parse(inv)?;
            print_diagnostics(&parsed.warnings, style);
            if !style.quiet {
                println!(
                    "Parsed {} nodes, {} sources and {} macros; wrote {}",
                    parsed.nodes.len(),
                    parsed.sources.len(),
                    session.jinja.macros().len(),
                    commands::target_dir(&session)
                        .join("manifest.json")
                        .display()
                );
            }
            exit_without_dropping((session, parsed));
            Ok(EXIT_OK)
        }
        Command::Compile { selection, inline } => {
            let inv = invocation(g, "compile", Some(selection))?;
            if let Some(sql) = inline {
                let mut session = hangar_engine::session::load_session(inv)?;
                let parsed = hangar_engine::parse::parse_project(&mut session)?;
                println!("{}", commands::compile_inline(&session, &parsed, sql)?);
                return Ok(EXIT_OK);
            }
            let out = commands::compile(inv)?;
            print_diagnostics(&out.parsed.warnings, style);
            if !style.quiet {
                println!(
                    "Compiled {} nodes into {}",
                    out.compiled.len(),
                    commands::target_dir(&out.session)
                        .join("compiled")
                        .display()
                );
            }
            exit_without_dropping(out);
            Ok(EXIT_OK)
        }
        Command::Ls {
            selection,
            resource_type,
            output,
            output_keys,
        } => {
            let inv = invocation(g, "list", Some(selection))?;
            let format = match output {
                ListOutput::Name => ListFormat::Name,
                ListOutput::Path => ListFormat::Path,
                ListOutput::Json => ListFormat::Json,
                ListOutput::Selector => ListFormat::Selector,
            };
            let mut out = std::io::stdout().lock();
            for line in commands::list(inv, resource_type, format, output_keys)? {
                let _ = writeln!(out, "{line}");
            }
            Ok(EXIT_OK)
        }
        Command::Clean => {
            let dir = g.project_dir.clone().unwrap_or_else(|| PathBuf::from("."));
            for removed in commands::clean(&dir)? {
                if !style.quiet {
                    println!("Deleted {}", removed.display());
                }
            }
            Ok(EXIT_OK)
        }
        Command::Init { project_name } => {
            let parent = g.project_dir.clone().unwrap_or_else(|| PathBuf::from("."));
            let root = hangar_engine::init::init_project(&parent, project_name)?;
            println!(
                "Created {}. Next: cd {} && hangar build",
                root.display(),
                root.display()
            );
            Ok(EXIT_OK)
        }
        Command::Debug => debug(g),
        Command::Run(args) => run(g, "run", RunKind::Run, args, style),
        Command::Seed(args) => run(g, "seed", RunKind::Seed, args, style),
        Command::Build(args) => run(g, "build", RunKind::Build, args, style),
        Command::Test(args) => run(g, "test", RunKind::Test, args, style),
        Command::Snapshot(args) => run(g, "snapshot", RunKind::Snapshot, args, style),
        Command::Show {
            selection,
            inline,
            limit,
        } => {
            let inv = invocation(g, "show", Some(selection))?;
            let shown = commands::show(inv, inline.as_deref(), *limit)?;
            println!("Previewing {}:", shown.title);
            print!("{}", format_table(&shown.columns, &shown.rows));
            Ok(EXIT_OK)
        }
    }
}

fn debug(g: &GlobalArgs) -> Result<u8, Failure> {
    let inv = invocation(g, "debug", None)?;
    let report = commands::debug(inv)?;
    println!("hangar {}", env!("CARGO_PKG_VERSION"));
    println!(
        "project file: {} (project `{}`)",
        report.project_file.display(),
        report.project_name
    );
    println!("profiles dir: {}", report.profiles_dir.display());
    println!(
        "profile: {}  target: {}  type: {}",
        report.profile_name, report.target_name, report.adapter_type
    );
    println!(
        "target settings: {}",
        serde_json::to_string_pretty(&report.target).unwrap_or_default()
    );
    match report.connection {
        Ok(()) => {
            println!("Connection test: [OK connection ok]");
            println!("All checks passed!");
            Ok(EXIT_OK)
        }
        Err(e) => {
            println!("Connection test: [ERROR]\n  {e}");
            Ok(EXIT_FAILURES)
        }
    }
}

fn run(
    g: &GlobalArgs,
    command: &str,
    kind: RunKind,
    args: &cli::RunArgs,
    style: Style,
) -> Result<u8, Failure> {
    let mut inv = invocation(g, command, Some(&args.selection))?;
    inv.full_refresh = args.full_refresh;
    inv.fail_fast = args.fail_fast;
    let reporter = TerminalReporter::new(style, inv.invocation_id.clone());
    reporter.version_banner();
    let cancel = CancelToken::new();
    let handler_token = Arc::clone(&cancel);
    // A second Ctrl-C while cleaning up is ignored: cleanup must finish.
    let _ = ctrlc::set_handler(move || handler_token.cancel());
    let outcome: RunOutcome = commands::run(inv, kind, &reporter, cancel)?;
    if outcome.cancelled {
        eprintln!(
            "Cancelled: running statements were interrupted and temporary relations dropped."
        );
        return Ok(EXIT_INTERRUPTED);
    }
    Ok(if outcome.has_failures() {
        EXIT_FAILURES
    } else {
        EXIT_OK
    })
}

/// A plain text table for `hangar show`.
fn format_table(columns: &[String], rows: &[Vec<serde_json::Value>]) -> String {
    let cell = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "".to_string(),
        other => other.to_string(),
    };
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(cell).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r.get(i).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
                .max(c.chars().count())
        })
        .collect();
    let line = |vals: Vec<&str>| {
        let parts: Vec<String> = vals
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!(" {v:<w$} "))
            .collect();
        format!("|{}|\n", parts.join("|"))
    };
    let sep = format!(
        "|{}|\n",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    let mut out = line(columns.iter().map(String::as_str).collect());
    out.push_str(&sep);
    for r in &cells {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn purge_delay_index_names_mimallocs_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // Its default is 1000 ms: another index would read another option.
        // SAFETY: a read of an integer option.
        let default = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(default, 1000);
    }
}
