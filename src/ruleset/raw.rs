//! Rule files as plain data, for the tools that write them: the generator
//! (`rules generate`, behind `scripts/generate_rules.py`), `rules learn` and `rules new` each
//! build [`RawRuleFile`]s and print them with [`RawRuleFile::to_toml`], so every rule file
//! tagtrail writes has one shape. Reading goes the other way through `parse` (which keeps
//! positions for diagnostics); a written file always parses back to the same rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A rule file: an optional default `source`, a header comment, and its rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RawRuleFile {
    /// Comment lines printed at the top (without `# `).
    #[serde(skip)]
    pub header: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default)]
    pub rule: Vec<RawRule>,
}

/// One `[[rule]]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RawRule {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_resource: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub generated: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub learned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extract: Vec<RawExtractor>,
    #[serde(default)]
    pub test: Vec<RawTest>,
}

/// One `[[rule.extract]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RawExtractor {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strip_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub types: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_arn: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named: Option<String>,
}

/// One `[[rule.test]]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RawTest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub event: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inventory: Vec<String>,
    pub expect: Vec<String>,
}

fn is_false(b: &bool) -> bool {
    !b
}

impl RawRuleFile {
    /// The file as TOML: the header as comments, then the tables.
    pub fn to_toml(&self) -> String {
        let mut out: String = self
            .header
            .iter()
            .map(|line| match line.is_empty() {
                true => "#\n".to_string(),
                false => format!("# {line}\n"),
            })
            .collect();
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&toml::to_string(self).expect("rule files serialise"));
        out
    }
}

impl RawExtractor {
    /// The extractor as the lines of one `[[rule.extract]]` table (for a commented-out
    /// alternative in a scaffold).
    pub fn to_toml(&self) -> String {
        #[derive(Serialize)]
        struct One<'a> {
            extract: [&'a RawExtractor; 1],
        }
        toml::to_string(&One { extract: [self] })
            .expect("extractors serialise")
            .replace("[[extract]]", "[[rule.extract]]")
            .replace("[extract.", "[rule.extract.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::RuleSet;

    #[test]
    fn a_written_file_reads_back_as_the_same_rules() {
        let file = RawRuleFile {
            header: vec!["Written by a test.".into(), String::new(), "Second line.".into()],
            source: None,
            rule: vec![RawRule {
                id: "x-thing".into(),
                source: Some("x.amazonaws.com".into()),
                description: Some("Calls on a \"thing\" (quoted).".into()),
                events: vec!["GetThing".into(), "PutThing".into()],
                generated: true,
                confidence: Some("low".into()),
                extract: vec![RawExtractor {
                    path: "requestParameters.thingName".into(),
                    vars: BTreeMap::from([("parent".into(), "requestParameters.p".into())]),
                    unless: vec!["responseElements.thingArn".into()],
                    arn: Some("arn:{partition}:x:{region}:{account}:thing/{parent}/{value}".into()),
                    ..RawExtractor::default()
                }],
                test: vec![RawTest {
                    name: Some("it's a case".into()),
                    event: r#"{"eventSource": "x.amazonaws.com", "eventName": "GetThing", "awsRegion": "us-east-1", "recipientAccountId": "111122223333", "requestParameters": {"thingName": "t", "p": "q"}}"#.into(),
                    inventory: Vec::new(),
                    expect: vec!["arn:aws:x:us-east-1:111122223333:thing/q/t".into()],
                }],
                ..RawRule::default()
            }],
        };
        let text = file.to_toml();
        assert!(
            text.starts_with("# Written by a test.\n#\n# Second line.\n\n"),
            "{text}"
        );
        let set = RuleSet::from_files(&[("x.toml".into(), text.clone())])
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let rule = &set.rules()[0];
        assert_eq!(
            (rule.id.as_str(), rule.generated, rule.low_confidence),
            ("x-thing", true, true)
        );
        assert_eq!(rule.extractors[0].vars[0].0, "parent");
        assert!(crate::ruleset::testing::run_all(&set)
            .iter()
            .all(|o| o.status == crate::ruleset::testing::Status::Pass));
        let back: RawRuleFile = toml::from_str(&text).unwrap();
        assert_eq!(back.rule, file.rule);
        assert!(file.rule[0].extract[0]
            .to_toml()
            .starts_with("[[rule.extract]]\n"));
    }
}
