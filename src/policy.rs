//! The policy file: real-world exceptions to "principal and resource carry the same product".
//!
//! ```toml
//! # Values that any principal may touch (shared infrastructure).
//! shared_values = ["shared", "platform"]
//! # Resources never judged (glob: `*` matches any run of characters, `/` included; `?` one
//! # character; `{a,b}` either).
//! ignore_resources = ["arn:aws:kms:*:*:alias/aws/*", "arn:aws:s3:::cdk-*"]
//! # Principals (ARN glob) → extra products they may touch.
//! [allow]
//! "arn:aws:iam::*:role/ci-deploy" = ["aaa", "bbb"]
//! ```

use std::path::Path;

use globset::{Glob, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use thiserror::Error;

/// A failure to read the policy file.
#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    shared_values: Vec<String>,
    #[serde(default)]
    ignore_resources: Vec<String>,
    #[serde(default)]
    allow: std::collections::BTreeMap<String, Vec<String>>,
}

/// The exceptions in force.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    shared_values: Vec<String>,
    ignore_resources: GlobSet,
    allow: Vec<(GlobMatcher, Vec<String>)>,
    /// The same patterns as regular expressions, for SQL engines (`tagtrail sql`).
    ignore_regexes: Vec<String>,
    allow_regexes: Vec<(String, Vec<String>)>,
}

impl Policy {
    /// Reads a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|message| PolicyError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses a policy from TOML text; the error carries the line and column.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        Ok(Policy {
            shared_values: raw
                .shared_values
                .iter()
                .map(|v| v.trim().to_string())
                .collect(),
            ignore_resources: raw
                .ignore_resources
                .iter()
                .try_fold(GlobSetBuilder::new(), |mut set, pattern| {
                    set.add(glob(pattern, "ignore_resources")?);
                    Ok::<_, String>(set)
                })?
                .build()
                .map_err(|e| format!("ignore_resources: {e}"))?,
            allow: raw
                .allow
                .iter()
                .map(|(pattern, products)| {
                    Ok((glob(pattern, "allow")?.compile_matcher(), products.clone()))
                })
                .collect::<Result<_, String>>()?,
            ignore_regexes: raw
                .ignore_resources
                .iter()
                .map(|pattern| Ok(regex_of(&glob(pattern, "ignore_resources")?)))
                .collect::<Result<_, String>>()?,
            allow_regexes: raw
                .allow
                .iter()
                .map(|(pattern, products)| {
                    Ok((regex_of(&glob(pattern, "allow")?), products.clone()))
                })
                .collect::<Result<_, String>>()?,
        })
    }

    /// The values any principal may touch.
    pub fn shared_values(&self) -> &[String] {
        &self.shared_values
    }

    /// `ignore_resources` as anchored regular expressions (Java and Trino syntax too).
    pub fn ignore_regexes(&self) -> &[String] {
        &self.ignore_regexes
    }

    /// `[allow]` as (anchored regular expression of the principal ARN, products).
    pub fn allow_regexes(&self) -> &[(String, Vec<String>)] {
        &self.allow_regexes
    }

    /// The resource is exempt from judgement.
    pub fn ignores(&self, resource_arn: &str) -> bool {
        self.ignore_resources.is_match(resource_arn)
    }

    /// The principal may touch a resource of this product although its own differs.
    pub fn allows(&self, principal_arn: &str, resource_product: &str) -> bool {
        self.shared_values.iter().any(|v| v == resource_product)
            || self.allow.iter().any(|(re, products)| {
                re.is_match(principal_arn) && products.iter().any(|p| p == resource_product)
            })
    }
}

/// A pattern of the policy file; `*` also matches `/` (ARNs are not paths).
/// The regular expression globset matches a glob with, without its Rust-only `(?-u)` flag.
fn regex_of(glob: &Glob) -> String {
    glob.regex().trim_start_matches("(?-u)").to_string()
}

fn glob(pattern: &str, key: &str) -> Result<Glob, String> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .map_err(|e| format!("{key}: bad pattern `{pattern}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_values_allow_lists_and_ignores() {
        let policy = Policy::parse(
            r#"shared_values = ["shared"]
ignore_resources = ["arn:aws:s3:::cdk-*"]
[allow]
"arn:aws:iam::*:role/ci-deploy" = ["bbb"]
"#,
        )
        .unwrap();
        assert!(policy.allows("arn:aws:iam::1:user/a", "shared"));
        assert!(policy.allows("arn:aws:iam::1:role/ci-deploy", "bbb"));
        assert!(!policy.allows("arn:aws:iam::1:role/ci-deploy", "ccc"));
        assert!(policy.ignores("arn:aws:s3:::cdk-assets-1"));
        assert!(!policy.ignores("arn:aws:s3:::data"));
        assert!(policy.ignores("arn:aws:s3:::cdk-a/b/c"), "`*` crosses `/`");
        assert!(Policy::parse("shared = 1")
            .unwrap_err()
            .contains("unknown field"));
        assert!(Policy::parse("ignore_resources = [\"arn:aws:s3:::{a\"]")
            .unwrap_err()
            .contains("ignore_resources: bad pattern `arn:aws:s3:::{a`"));
    }
}
