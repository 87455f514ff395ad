//! LookupEvents `Resources[]`: `ResourceName` is an ARN, or a bare name or id whose ARN is
//! built from the resource type's ARN format (Service Authorization Reference), the event's
//! partition, region and account.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::arn;
use crate::inventory::{ArnIndex, Completion};
use crate::ruleset::template::Template;

/// The type → ARN table, `data/lookup-types.toml`.
const TYPES_TOML: &str = include_str!("../../data/lookup-types.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypesFile {
    #[serde(rename = "type")]
    types: Vec<RawType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    #[serde(rename = "type")]
    name: String,
    arn: String,
    complete: Option<String>,
    trim_start: Option<String>,
    after_last: Option<String>,
}

/// How one resource type's bare names become ARNs.
struct TypeFormat {
    template: Template,
    complete: Option<Completion>,
    trim_start: Option<String>,
    after_last: Option<String>,
}

impl TypeFormat {
    /// The name as the template wants it: a queue URL's last segment, an SSM name without `/`.
    fn clean<'n>(&self, name: &'n str) -> &'n str {
        let name = match &self.after_last {
            Some(sep) => name.rsplit(sep.as_str()).next().unwrap_or(name),
            None => name,
        };
        match &self.trim_start {
            Some(prefix) => name.trim_start_matches(prefix.as_str()),
            None => name,
        }
    }
}

/// The table, parsed once. The file is part of the binary and a test parses it, so a bad entry
/// fails the build's tests, not a scan.
fn formats() -> &'static HashMap<String, TypeFormat> {
    static FORMATS: OnceLock<HashMap<String, TypeFormat>> = OnceLock::new();
    FORMATS.get_or_init(|| parse_types(TYPES_TOML).expect("data/lookup-types.toml is valid"))
}

fn parse_types(text: &str) -> Result<HashMap<String, TypeFormat>, String> {
    let file: TypesFile = toml::from_str(text).map_err(|e| e.to_string())?;
    file.types
        .into_iter()
        .map(|raw| {
            let template = Template::parse(&raw.arn).map_err(|e| format!("{}: {e}", raw.name))?;
            if let Some(var) = template
                .vars()
                .find(|v| !crate::ruleset::template::BUILTIN_VARS.contains(v))
            {
                return Err(format!("{}: unknown placeholder {{{var}}}", raw.name));
            }
            let complete = match raw.complete.as_deref() {
                Some(how) => Some(
                    Completion::parse(how)
                        .ok_or_else(|| format!("{}: complete = {how}", raw.name))?,
                ),
                None => None,
            };
            let format = TypeFormat {
                template,
                complete,
                trim_start: raw.trim_start,
                after_last: raw.after_last,
            };
            Ok((raw.name, format))
        })
        .collect()
}

/// The result of turning one LookupEvents resource into an ARN.
#[derive(Debug, PartialEq, Eq)]
pub enum Built {
    Arn {
        arn: String,
        completed: bool,
    },
    /// The type has no known ARN format (or no type was given for a bare name).
    UnknownType(String),
}

/// Builds the ARN of a LookupEvents resource.
pub fn build(
    kind: Option<&str>,
    name: &str,
    ctx: (&str, &str, &str),
    index: Option<&ArnIndex>,
) -> Built {
    let name = name.trim();
    if arn::is_arn(name) {
        return match arn::normalize(name) {
            Some(arn) => Built::Arn {
                arn,
                completed: false,
            },
            None => Built::UnknownType(kind.unwrap_or("?").to_string()),
        };
    }
    let kind = kind.unwrap_or("");
    let Some(format) = formats().get(kind) else {
        return Built::UnknownType(if kind.is_empty() {
            "(none)".into()
        } else {
            kind.into()
        });
    };
    let (partition, region, account) = ctx;
    let value = format.clean(name);
    let rendered = format.template.render(|var| match var {
        "partition" => Some(partition),
        "region" => Some(region),
        "account" => Some(account),
        "value" => Some(value),
        _ => None,
    });
    // A part the event lacks (no region, say): the type's ARN cannot be built.
    let Some(built) = rendered else {
        return Built::UnknownType(kind.into());
    };
    let built = arn::normalize(&built).unwrap_or(built);
    if let (Some(how), Some(index)) = (format.complete, index) {
        if let Some(full) = index.complete(&built, how) {
            let completed = full != built;
            return Built::Arn {
                arn: full,
                completed,
            };
        }
    }
    Built::Arn {
        arn: built,
        completed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: (&str, &str, &str) = ("aws", "ap-northeast-1", "123456789012");

    #[test]
    fn bare_names_from_the_seed_article() {
        assert_eq!(
            build(Some("AWS::S3::Bucket"), "hoge0109tmp", CTX, None),
            Built::Arn {
                arn: "arn:aws:s3:::hoge0109tmp".into(),
                completed: false
            }
        );
        assert_eq!(
            build(Some("AWS::EC2::Instance"), "i-05ae8f7dcc61815ac", CTX, None),
            Built::Arn {
                arn: "arn:aws:ec2:ap-northeast-1:123456789012:instance/i-05ae8f7dcc61815ac".into(),
                completed: false
            }
        );
        let trail = "arn:aws:cloudtrail:ap-northeast-1:123456789012:trail/management";
        assert_eq!(
            build(Some("AWS::CloudTrail::Trail"), trail, CTX, None),
            Built::Arn {
                arn: trail.into(),
                completed: false
            }
        );
        assert_eq!(
            build(Some("AWS::Foo::Bar"), "x", CTX, None),
            Built::UnknownType("AWS::Foo::Bar".into())
        );
        assert_eq!(
            build(
                Some("AWS::SQS::Queue"),
                "https://sqs.ap-northeast-1.amazonaws.com/123456789012/q1",
                CTX,
                None
            ),
            Built::Arn {
                arn: "arn:aws:sqs:ap-northeast-1:123456789012:q1".into(),
                completed: false
            }
        );
        assert_eq!(
            build(Some("AWS::SSM::Parameter"), "/app/db", CTX, None),
            Built::Arn {
                arn: "arn:aws:ssm:ap-northeast-1:123456789012:parameter/app/db".into(),
                completed: false
            }
        );
    }

    #[test]
    fn the_type_table_parses_and_a_bad_entry_is_named() {
        assert_eq!(formats().len(), 47);
        let bad = "[[type]]\ntype = \"AWS::X::Y\"\narn = \"arn:{partition}:x:{reigon}:{account}:y/{value}\"\n";
        let Err(err) = parse_types(bad) else {
            panic!("a bad entry is refused")
        };
        assert!(
            err.contains("AWS::X::Y: unknown placeholder {reigon}"),
            "{err}"
        );
    }
}
