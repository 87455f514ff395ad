//! The `tagtrail` binary: parse arguments, set up logging, run, map the outcome to an exit
//! code (0 clean, 1 findings or failing rules, 2 the tool could not do its job).

mod cli;
mod commands;

use std::process::ExitCode;

use std::io::IsTerminal;

use tracing_indicatif::filter::{hide_indicatif_span_fields, IndicatifFilter};
use tracing_indicatif::IndicatifLayer;
use tracing_subscriber::fmt::format::DefaultFields;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use cli::LogFormat;

/// mimalloc instead of glibc's allocator: see Cargo.toml.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc asks for transparent huge pages for its arenas, so each 2 MiB region the scan
/// touches is wholly resident: on the 1M-event benchmark peak memory was 197 MB with them and
/// 152 MB without, at the same speed. Turned off for this process (Linux only).
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    // Fault points (`schedule`) exist only in the binary the tests build; FAILPOINTS sets them.
    let _faults = fail::has_failpoints().then(fail::FailScenario::setup);
    let cli = commands::config_file::parse();
    init_logging(cli.verbose, cli.log_format);
    match commands::run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::debug!("{err:?}");
            eprintln!("error: {}", chain_text(&err));
            ExitCode::from(2)
        }
    }
}

/// Logs to stderr, as text or JSON lines (for schedulers). On a terminal, long work also shows
/// progress bars: spans that carry an `indicatif.pb_show` field, whatever the log level.
fn init_logging(verbose: u8, format: LogFormat) {
    let default_level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    // The final line of a scan (target `tagtrail::done`) is always written.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{default_level},tagtrail::done=info")));
    let registry = tracing_subscriber::registry();
    match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_filter(filter),
            )
            .init(),
        LogFormat::Text if std::io::stderr().is_terminal() => {
            let bars = IndicatifLayer::new()
                .with_span_field_formatter(hide_indicatif_span_fields(DefaultFields::new()));
            registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .fmt_fields(hide_indicatif_span_fields(DefaultFields::new()))
                        .with_writer(bars.get_stderr_writer())
                        .with_target(false)
                        .with_filter(filter),
                )
                .with(bars.with_filter(IndicatifFilter::new(false)))
                .init()
        }
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_target(false)
                    .with_ansi(false)
                    .with_filter(filter),
            )
            .init(),
    }
}

/// The error and its causes, `: `-separated, leaving out a cause whose text the message
/// already holds (many errors say their cause and also return it as their source).
fn chain_text(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// A closed stdout (`tagtrail resolve | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
