//! `scan --config tagtrail.toml`: every option of `scan` as a TOML key, named as its flag
//! (`fail-on = "never"`, `logs = ["s3://…"]`, `paths = ["trail/"]`). Flags given on the
//! command line win; a key that is not a scan option is an error at its line and column.
//! Relative paths in the file are taken from the file's folder.
//!
//! The file is turned into the flags it stands for and the command line parsed again, so
//! every value goes through the same parser and checks as a flag.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{bail, Context, Result};
use clap::parser::ValueSource;
use clap::{ArgAction, CommandFactory, Parser};
use toml::de::DeTable;

use crate::cli::Cli;

/// Options whose values are paths, taken from the config file's folder when relative (unless
/// they name S3, or `aws` for the inventory).
const PATH_KEYS: &[&str] = &["paths", "inventory", "policy", "out", "state", "rules"];

/// Parses the command line, with the `scan --config` file's options where no flag gives them.
pub fn parse() -> Cli {
    let argv: Vec<OsString> = std::env::args_os().collect();
    // A first look, not enforcing what the file may provide (`--inventory`).
    let matches = Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(&argv)
        .ok();
    let config = matches.as_ref().and_then(|m| {
        let scan = m.subcommand_matches("scan")?;
        Some((scan, scan.get_one::<std::path::PathBuf>("config")?))
    });
    let Some((scan, config)) = config else {
        return Cli::parse_from(argv);
    };
    let merged = flags_from_file(config, scan).and_then(|flags| {
        let at = argv
            .iter()
            .position(|a| a == "scan")
            .context("`scan` on the command line")?;
        let (mut positional, options): (Vec<_>, Vec<_>) =
            flags.into_iter().partition(|f| f.positional);
        let mut merged = argv[..=at].to_vec();
        merged.extend(options.into_iter().map(|f| f.text));
        merged.extend(argv[at + 1..].iter().cloned());
        if !positional.is_empty() {
            if !argv.iter().any(|a| a == "--") {
                merged.push("--".into());
            }
            merged.extend(positional.drain(..).map(|f| f.text));
        }
        Ok(merged)
    });
    match merged {
        Ok(merged) => Cli::parse_from(merged),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(2);
        }
    }
}

/// One command-line word the file stands for.
struct Flag {
    text: OsString,
    positional: bool,
}

/// The flags `file` stands for, leaving out the options `given` has from the command line.
fn flags_from_file(file: &Path, given: &clap::ArgMatches) -> Result<Vec<Flag>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the config file {}", file.display()))?;
    let name = file.display().to_string();
    let position = |offset: usize| {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("{name}:{line}:{column}")
    };
    let spans = DeTable::parse(&text).map_err(|err| {
        let at = position(err.span().map_or(0, |s| s.start));
        anyhow::anyhow!("{at}: TOML syntax: {}", err.message().trim())
    })?;
    let values: toml::Table = toml::from_str(&text).with_context(|| format!("{name}: TOML"))?;
    let command = Cli::command();
    let scan = command
        .find_subcommand("scan")
        .context("the scan command")?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut flags = Vec::new();
    for (key, _) in spans.get_ref().iter() {
        // Routes and targets of notifications (`tagtrail::notify`), read by `scan`.
        if key.get_ref() == "notify" {
            continue;
        }
        let key_text = key.get_ref().replace('_', "-");
        let arg = scan.get_arguments().find(|a| {
            a.get_long() == Some(key_text.as_str())
                || (a.is_positional() && a.get_id().as_str() == key_text)
        });
        let Some(arg) = arg.filter(|a| a.get_id() != "config" && !a.is_hide_set()) else {
            let known: Vec<String> = scan
                .get_arguments()
                .filter(|a| a.get_id() != "config" && !a.is_hide_set())
                .filter_map(|a| {
                    a.get_long()
                        .map(str::to_string)
                        .or_else(|| a.is_positional().then(|| a.get_id().to_string()))
                })
                .collect();
            let hint = known
                .iter()
                .min_by_key(|k| strsim::levenshtein(k, &key_text))
                .filter(|k| strsim::levenshtein(k, &key_text) <= 2)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_default();
            bail!(
                "{}: `{}` is not a scan option{hint} (the keys are the flags' names: {})",
                position(key.span().start),
                key.get_ref(),
                known.join(", ")
            );
        };
        let id = arg.get_id().as_str();
        if given.value_source(id) == Some(ValueSource::CommandLine) {
            continue; // the flag wins
        }
        let value = &values[key.get_ref().as_ref()];
        let at = position(key.span().start);
        let items: Vec<&toml::Value> = match value {
            toml::Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let takes_many = arg.is_positional()
            || matches!(arg.get_action(), ArgAction::Append)
            || arg.get_value_delimiter().is_some();
        if items.len() != 1 && !takes_many {
            bail!("{at}: `{}` takes one value", key.get_ref());
        }
        for item in items {
            let word = match (item, arg.get_action()) {
                (toml::Value::Boolean(true), ArgAction::SetTrue) => None,
                (toml::Value::Boolean(false), ArgAction::SetTrue) => continue,
                (toml::Value::Boolean(_), _) | (_, ArgAction::SetTrue) => {
                    bail!("{at}: `{}` must be true or false", key.get_ref())
                }
                (toml::Value::String(s), _) if PATH_KEYS.contains(&id) => {
                    Some(relative_to(base, s))
                }
                (toml::Value::String(s), _) => Some(s.clone()),
                (toml::Value::Integer(n), _) => Some(n.to_string()),
                (toml::Value::Float(n), _) => Some(n.to_string()),
                (other, _) => bail!("{at}: `{}` cannot be {}", key.get_ref(), other.type_str()),
            };
            let long = arg.get_long().unwrap_or(id);
            flags.push(match (arg.is_positional(), word) {
                (true, Some(word)) => Flag {
                    text: word.into(),
                    positional: true,
                },
                (_, Some(word)) => Flag {
                    text: format!("--{long}={word}").into(),
                    positional: false,
                },
                (_, None) => Flag {
                    text: format!("--{long}").into(),
                    positional: false,
                },
            });
        }
    }
    Ok(flags)
}

/// A path of the file, from the file's folder when relative (S3 URLs and `aws` as they are).
fn relative_to(base: &Path, value: &str) -> String {
    if value.starts_with("s3://") || value == "aws" || Path::new(value).is_absolute() {
        value.to_string()
    } else {
        base.join(value).display().to_string()
    }
}
