//! The `rules/` folder as data: parse with spans → validate → compile; run embedded tests.
//!
//! In: TOML rule files (see `rules/README.md` for the language). Out: a [`RuleSet`] that finds
//! the rule for an (eventSource, eventName) in one hash lookup, and every problem found in the
//! files as a [`Diagnostic`] at its file, line and column, all at once.

mod parse;
mod path;
pub mod raw;
mod record;
pub mod schema;
pub mod template;
pub mod testing;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use regex::Regex;
use thiserror::Error;

use crate::arn;
use crate::inventory::{ArnIndex, Completion};
pub use crate::sar::strip_api_version;
pub use path::{JsonPath, Node, Record, Segment, MAX_VALUES as MAX_PATH_VALUES};
pub use record::{context_of, LazyRecord};
use template::Template;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// A problem in a rule file, at its position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Why a rule set could not be loaded.
#[derive(Debug, Error)]
pub enum RuleSetError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{} problem(s) in the rule files:\n{}", .0.len(), .0.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}

/// One way to get ARNs out of a record.
#[derive(Debug, Clone)]
pub struct Extractor {
    pub path: JsonPath,
    pub build: Build,
    pub regex: Option<Regex>,
    /// More named values for the template, each the first value at a path of the record.
    pub vars: Vec<(String, JsonPath)>,
    /// Conditions: the first value at each path must equal the string.
    pub when: Vec<(JsonPath, String)>,
    /// Conditions: none of these paths may hold a value.
    pub unless: Vec<JsonPath>,
    pub strip_prefix: Option<String>,
    /// Id prefix → resource type, for `{type}` (`i-` → `instance`); longest prefix first.
    pub types: Vec<(String, String)>,
    /// A value that already is an ARN is used as is.
    pub accept_arn: bool,
    pub complete: Option<Completion>,
}

/// How an extractor turns a value into an ARN.
#[derive(Debug, Clone)]
pub enum Build {
    /// `arn = "..."`: the template, filled from the value, the regex groups and `vars`.
    Template(Template),
    /// `arn_of = "ecs"`: the value must be a whole ARN of this service, and is used as is.
    ArnOf(String),
    /// `named = "ec2"`: the members of the object at the path named as the one variable of an
    /// ARN format of this service build that format's ARN (`natGatewayId` → `natgateway/...`).
    Named(String),
}

/// A rule: which calls it matches and how it finds their resources.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub source: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    /// The calls target no single resource by design (`ListBuckets`): resolving to nothing is right.
    pub no_resource: bool,
    /// Written by the rule generator (or learned): a hand-written rule for the same call wins.
    pub generated: bool,
    /// Written by `rules learn` from a team's trail (`generated` too); it works beside a
    /// generated rule for the same call.
    pub learned: bool,
    /// No real record confirms this (generated) rule; scans may leave it out.
    pub low_confidence: bool,
    pub extractors: Vec<Extractor>,
    pub tests: Vec<RuleTest>,
    pub file: String,
    pub line: usize,
}

/// A test case embedded in a rule file.
#[derive(Debug, Clone)]
pub struct RuleTest {
    pub name: Option<String>,
    /// The CloudTrail record, as JSON text.
    pub event: String,
    /// The ARNs the rule must find, exactly.
    pub expect: Vec<String>,
    /// ARNs an inventory knows, for cases that complete names.
    pub inventory: Vec<String>,
    pub line: usize,
}

/// An ARN a rule found, and whether an inventory completed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub arn: String,
    pub completed: bool,
    /// Built from a name that should have been completed (`complete = ...`) but was not: the
    /// ARN may lack a suffix or a path.
    pub incomplete: Option<Completion>,
}

impl Extracted {
    /// An ARN taken as the record gives it.
    fn as_given(arn: String) -> Self {
        Extracted {
            arn,
            completed: false,
            incomplete: None,
        }
    }
}

/// What a rule needs to know of the event besides the record itself.
#[derive(Debug, Clone, Copy)]
pub struct EventContext<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
}

impl Rule {
    /// The ARNs this rule finds in `record`, deduplicated in order of discovery.
    pub fn extract(
        &self,
        record: &impl Record,
        ctx: EventContext,
        index: Option<&ArnIndex>,
    ) -> Vec<Extracted> {
        let mut out: Vec<Extracted> = Vec::new();
        for extractor in &self.extractors {
            let applies = extractor
                .when
                .iter()
                .all(|(path, expected)| path.select(record).first() == Some(expected))
                && extractor
                    .unless
                    .iter()
                    .all(|path| path.select(record).is_empty());
            if !applies {
                continue;
            }
            let found: Vec<Extracted> = match &extractor.build {
                Build::Named(service) => named(&extractor.path, service, record, ctx),
                _ => extractor
                    .path
                    .select(record)
                    .iter()
                    .filter_map(|value| extractor.apply(value, record, ctx, index))
                    .collect(),
            };
            for found in found {
                if !out.iter().any(|e| e.arn == found.arn) {
                    out.push(found);
                }
            }
        }
        complete_from_record(&mut out, record);
        out
    }
}

/// What a `named` extractor finds: for every member of the objects at `path` that names an
/// ARN format of `service`, its values (one, or a list) in that format; whole ARNs as they are.
pub fn named(
    path: &JsonPath,
    service: &str,
    record: &impl Record,
    ctx: EventContext,
) -> Vec<Extracted> {
    let mut out = Vec::new();
    for node in path.nodes(record) {
        let Node::Object(entries) = node else {
            continue;
        };
        for (key, value) in entries {
            let Some(format) = crate::sar::format_named(service, key) else {
                continue;
            };
            let values: Vec<&str> = match value {
                Node::Array(items) => items.iter().filter_map(Node::as_str).collect(),
                other => other.as_str().into_iter().collect(),
            };
            // Like a template, a format needs every value it names.
            let context_missing = (ctx.region.is_empty() && format.text.contains("${Region}"))
                || (ctx.account.is_empty() && format.text.contains("${Account}"));
            for v in values.into_iter().map(str::trim).filter(|v| !v.is_empty()) {
                let built = if arn::is_arn(v) {
                    arn::normalize(v)
                } else if context_missing {
                    None
                } else {
                    arn::normalize(&format.render(ctx.partition, ctx.region, ctx.account, v))
                };
                out.extend(built.map(Extracted::as_given));
            }
        }
    }
    out
}

/// A name that could not be completed (a secret's name without its random suffix, a role
/// without its path) is completed from the full ARNs the same record holds, found by the rule
/// or anywhere in its request, response or event details (`PutSecretValue`'s response, a
/// service event's `additionalEventData`): name + response wins
/// over the name alone, and one access never yields a second, partial ARN.
fn complete_from_record(out: &mut Vec<Extracted>, record: &impl Record) {
    if out.iter().all(|e| e.incomplete.is_none()) {
        return;
    }
    let mut full = ArnIndex::default();
    for e in out.iter().filter(|e| e.incomplete.is_none()) {
        full.insert(&e.arn);
    }
    for section in [
        "requestParameters",
        "responseElements",
        "additionalEventData",
        "serviceEventDetails",
    ] {
        if let Some(node) = record.section(section) {
            node.visit_strings(&mut |text| {
                if let Some(arn) = crate::arn::normalize(text).filter(|_| crate::arn::is_arn(text))
                {
                    full.insert(&arn);
                }
            });
        }
    }
    for e in out.iter_mut() {
        if let Some(how) = e.incomplete {
            if let Some(arn) = full.complete(&e.arn, how) {
                e.arn = arn;
                e.incomplete = None;
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|e| seen.insert(e.arn.clone()));
}

impl Extractor {
    fn apply(
        &self,
        value: &str,
        record: &impl Record,
        ctx: EventContext,
        index: Option<&ArnIndex>,
    ) -> Option<Extracted> {
        let template = match &self.build {
            Build::Template(template) => template,
            Build::Named(_) => return None,
            Build::ArnOf(service) => {
                let whole = arn::Arn::parse(value).filter(|a| a.service == service.as_str());
                return whole
                    .and_then(|_| arn::normalize(value))
                    .map(Extracted::as_given);
            }
        };
        if self.accept_arn && arn::is_arn(value) {
            return arn::normalize(value).map(Extracted::as_given);
        }
        let value = match &self.strip_prefix {
            Some(prefix) => value.strip_prefix(prefix.as_str()).unwrap_or(value),
            None => value,
        };
        let value = template.undoubled(value);
        let captures = match &self.regex {
            Some(re) => Some(re.captures(value)?),
            None => None,
        };
        let kind = if self.types.is_empty() {
            None
        } else {
            Some(
                self.types
                    .iter()
                    .find(|(prefix, _)| value.starts_with(prefix.as_str()))?
                    .1
                    .as_str(),
            )
        };
        let mut vars = Vec::with_capacity(self.vars.len());
        for (name, path) in &self.vars {
            vars.push((name.as_str(), path.select(record).into_iter().next()?));
        }
        let lookup = |name: &str| -> Option<&str> {
            if let Some(m) = captures.as_ref().and_then(|c| c.name(name)) {
                return Some(m.as_str());
            }
            if let Some((_, v)) = vars.iter().find(|(n, _)| *n == name) {
                return Some(v.as_str());
            }
            match name {
                "partition" => Some(ctx.partition),
                "region" => Some(ctx.region),
                "account" => Some(ctx.account),
                "value" => Some(value),
                "type" => kind,
                _ => None,
            }
        };
        let built = arn::normalize(&template.render(lookup)?)?;
        if let (Some(how), Some(index)) = (self.complete, index) {
            if let Some(full) = index.complete(&built, how) {
                let completed = full != built;
                return Some(Extracted {
                    arn: full,
                    completed,
                    incomplete: None,
                });
            }
        }
        Some(Extracted {
            arn: built,
            completed: false,
            incomplete: self.complete,
        })
    }
}

/// All rules, indexed by eventSource, then eventName.
#[derive(Debug, Default, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    index: foldhash::HashMap<String, foldhash::HashMap<String, usize>>,
    /// Per call (source, then event) taken by a generated rule and a learned one, the second.
    companions: foldhash::HashMap<String, foldhash::HashMap<String, usize>>,
}

impl RuleSet {
    /// The rule pack built into the binary (the `rules/` folder at build time).
    pub fn builtin() -> Result<Self, RuleSetError> {
        Self::from_files(&Self::builtin_files())
    }

    /// The files of the built-in pack, as (name, text).
    pub fn builtin_files() -> Vec<(String, String)> {
        BUILTIN_RULES
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect()
    }

    /// Loads every `*.toml` file of a folder.
    pub fn load_dir(dir: &Path) -> Result<Self, RuleSetError> {
        Self::from_files(&read_dir(dir)?)
    }

    /// Parses and validates rule files given as (name, text); every problem is reported.
    pub fn from_files(files: &[(String, String)]) -> Result<Self, RuleSetError> {
        let (set, diagnostics) = Self::check_files(files);
        if diagnostics.is_empty() {
            Ok(set)
        } else {
            Err(RuleSetError::Invalid(diagnostics))
        }
    }

    /// Like [`RuleSet::from_files`], but returns what could be compiled beside the problems.
    ///
    /// Two rules for the same call are an error, except when one is generated and the other
    /// hand-written: the hand-written one takes the call, whatever the order of the files.
    pub fn check_files(files: &[(String, String)]) -> (Self, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let mut rules = Vec::new();
        let mut ids: HashMap<String, (String, usize)> = HashMap::new();
        for (name, text) in files {
            let (parsed, mut diags) = parse::parse_file(name, text);
            diagnostics.append(&mut diags);
            for rule in parsed {
                if let Some((file, line)) = ids.get(&rule.id) {
                    diagnostics.push(rule.diag(format!(
                        "duplicate rule id `{}` (first at {file}:{line})",
                        rule.id
                    )));
                    continue;
                }
                ids.insert(rule.id.clone(), (rule.file.clone(), rule.line));
                rules.push(rule);
            }
        }
        // Hand-written rules first, so generated ones only take the calls left over; learned
        // ones before generated ones.
        rules.sort_by_key(|r| (r.generated, !r.learned));
        let mut set = RuleSet::default();
        for rule in rules {
            let events = set.index.get(&rule.source);
            let mut overlaps = Vec::new();
            for event in &rule.events {
                if let Some(&other) = events.and_then(|e| e.get(event)) {
                    let o = &set.rules[other];
                    if (rule.generated && !o.generated) || (rule.learned != o.learned) {
                        continue;
                    }
                    overlaps.push(format!(
                        "`{}:{event}` is matched by rule `{}` too ({}:{})",
                        rule.source, o.id, o.file, o.line
                    ));
                }
            }
            if !overlaps.is_empty() {
                for message in overlaps {
                    diagnostics.push(rule.diag(message));
                }
                continue;
            }
            set.insert(rule);
        }
        diagnostics.sort();
        (set, diagnostics)
    }

    /// The same set without the rules marked `confidence = "low"`.
    pub fn without_low_confidence(&self) -> Self {
        self.retain(|r| !r.low_confidence)
    }

    /// The same set with only the rules `keep` accepts.
    pub fn retain(&self, keep: impl Fn(&Rule) -> bool) -> Self {
        let mut set = RuleSet::default();
        for rule in self.rules.iter().filter(|r| keep(r)) {
            set.insert(rule.clone());
        }
        set
    }

    /// This set, then the rules of `more` for the calls it leaves (learned rules beside a
    /// pack).
    pub fn extended(&self, more: &RuleSet) -> Self {
        let mut set = self.retain(|_| true);
        for rule in &more.rules {
            set.insert(rule.clone());
        }
        set
    }

    /// Adds a rule whose overlaps were checked. Hand-written rules come first: a call already
    /// taken stays with its rule, and a hand-written `*` rule keeps every call of its source
    /// from generated rules.
    fn insert(&mut self, rule: Rule) {
        let slot = self.rules.len();
        let events = self.index.entry(rule.source.clone()).or_default();
        let hand_fallback = events.get("*").is_some_and(|&i| !self.rules[i].generated);
        if !(rule.generated && hand_fallback) {
            for event in &rule.events {
                match events.get(event) {
                    None => {
                        events.insert(event.clone(), slot);
                    }
                    // A learned and a generated rule share the call, whichever came first.
                    Some(&taken) => {
                        let other = &self.rules[taken];
                        if other.generated && rule.generated && other.learned != rule.learned {
                            self.companions
                                .entry(rule.source.clone())
                                .or_default()
                                .entry(event.clone())
                                .or_insert(slot);
                        }
                    }
                }
            }
        }
        self.rules.push(rule);
    }

    /// The second rule of a call a generated and a learned rule share: both are applied.
    pub fn companion_for(&self, source: &str, event_name: &str) -> Option<&Rule> {
        // Asked for every record resolved: a pack without learned rules costs no lookup.
        if self.companions.is_empty() {
            return None;
        }
        let events = self.companions.get(source)?;
        let slot = events.get(event_name).or_else(|| {
            let base = strip_api_version(event_name);
            (base != event_name).then(|| events.get(base)).flatten()
        })?;
        Some(&self.rules[*slot])
    }

    /// The rule for a call. Lambda's versioned names (`UpdateFunctionCode20150331v2`) match the
    /// plain name too.
    pub fn rule_for(&self, source: &str, event_name: &str) -> Option<&Rule> {
        let events = self.index.get(source)?;
        let slot = events
            .get(event_name)
            .or_else(|| {
                let base = strip_api_version(event_name);
                (base != event_name).then(|| events.get(base)).flatten()
            })
            .or_else(|| events.get("*"))?;
        Some(&self.rules[*slot])
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Every call the set assigns, as (eventSource, eventName or `*`, its rule, whether the
    /// rule is the call's second, learned-beside-generated one), sorted.
    pub fn calls(&self) -> Vec<(&str, &str, &Rule, bool)> {
        let mut out = Vec::new();
        for (table, companion) in [(&self.index, false), (&self.companions, true)] {
            for (source, events) in table {
                for (event, &slot) in events {
                    out.push((
                        source.as_str(),
                        event.as_str(),
                        &self.rules[slot],
                        companion,
                    ));
                }
            }
        }
        out.sort_by(|a, b| (a.0, a.1, a.3).cmp(&(b.0, b.1, b.3)));
        out
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl Rule {
    /// A rule for every call of its source that no other rule matches (`events = ["*"]`).
    pub fn is_fallback(&self) -> bool {
        self.events.iter().any(|e| e == "*")
    }

    /// True when the rule matches this event name.
    pub fn matches(&self, event_name: &str) -> bool {
        let base = strip_api_version(event_name);
        self.events
            .iter()
            .any(|e| e == "*" || e == event_name || e == base)
    }

    fn diag(&self, message: String) -> Diagnostic {
        Diagnostic {
            file: self.file.clone(),
            line: self.line,
            column: 1,
            message,
        }
    }
}

/// Where a run's rules come from: a folder of rule files or the built-in pack, then rule files
/// or folders added to it (`--add-rules`), and whether rules marked low-confidence are left out.
#[derive(Debug, Clone, Default)]
pub struct RuleSource {
    /// `None`: the built-in pack.
    pub dir: Option<std::path::PathBuf>,
    pub add: Vec<std::path::PathBuf>,
    pub exclude_low_confidence: bool,
}

impl RuleSource {
    /// The rule files, as (name, text): the folder's (or the pack's), then each added one's.
    pub fn files(&self) -> Result<Vec<(String, String)>, RuleSetError> {
        let mut files = match &self.dir {
            Some(dir) => read_dir(dir)?,
            None => RuleSet::builtin_files(),
        };
        for path in &self.add {
            if path.is_dir() {
                files.extend(read_dir(path)?);
            } else {
                files.push(read_file(path)?);
            }
        }
        Ok(files)
    }

    /// What the rules were loaded from, for messages.
    pub fn describe(&self) -> String {
        let base = match &self.dir {
            Some(dir) => format!("the rules of {}", dir.display()),
            None => "the built-in rule pack".to_string(),
        };
        match self.add.is_empty() {
            true => base,
            false => format!("{base} with --add-rules"),
        }
    }
}

impl RuleSet {
    /// The rule set of `source`, low-confidence rules left out when it says so.
    pub fn load(source: &RuleSource) -> Result<RuleSet, RuleSetError> {
        let rules = RuleSet::from_files(&source.files()?)?;
        Ok(match source.exclude_low_confidence {
            true => rules.without_low_confidence(),
            false => rules,
        })
    }
}

/// Reads the `*.toml` files of a folder, sorted by name.
pub fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, RuleSetError> {
    let io = |source| RuleSetError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| read_file(p)).collect()
}

/// Reads one rule file as (name, text).
pub fn read_file(path: &Path) -> Result<(String, String), RuleSetError> {
    std::fs::read_to_string(path)
        .map(|text| (path.display().to_string(), text))
        .map_err(|source| RuleSetError::Io {
            path: path.display().to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder, a file added to it, the low-confidence rules left out; a missing file is
    /// named.
    #[test]
    fn rules_load_from_their_source() {
        let dir = tempfile::tempdir().unwrap();
        let rule = |id: &str, event: &str, confidence: &str| {
            format!(
                "source = \"x.amazonaws.com\"\n[[rule]]\nid = \"{id}\"\nevents = [\"{event}\"]\n{confidence}\n\
                 [[rule.extract]]\npath = \"requestParameters.name\"\narn = \"arn:{{partition}}:x:{{region}}:{{account}}:thing/{{value}}\"\n\
                 [[rule.test]]\nevent = '{{\"eventSource\": \"x.amazonaws.com\", \"eventName\": \"{event}\", \"awsRegion\": \"r\", \"recipientAccountId\": \"111122223333\", \"requestParameters\": {{\"name\": \"n\"}}}}'\n\
                 expect = [\"arn:aws:x:r:111122223333:thing/n\"]\n"
            )
        };
        std::fs::write(dir.path().join("a.toml"), rule("sure", "Get", "")).unwrap();
        let added = dir.path().join("extra.rules");
        std::fs::write(&added, rule("guess", "Put", "confidence = \"low\"")).unwrap();
        let mut source = RuleSource {
            dir: Some(dir.path().to_path_buf()),
            add: vec![added.clone()],
            exclude_low_confidence: false,
        };
        let all = RuleSet::load(&source).unwrap();
        assert!(all.rule_for("x.amazonaws.com", "Put").is_some());
        source.exclude_low_confidence = true;
        let sure = RuleSet::load(&source).unwrap();
        assert!(sure.rule_for("x.amazonaws.com", "Get").is_some());
        assert!(sure.rule_for("x.amazonaws.com", "Put").is_none());
        source.add = vec![dir.path().join("missing.toml")];
        let err = RuleSet::load(&source).unwrap_err().to_string();
        assert!(err.contains("missing.toml"), "{err}");
        assert!(
            RuleSet::load(&RuleSource::default()).is_ok(),
            "the built-in pack"
        );
    }

    #[test]
    fn api_version_suffixes() {
        assert_eq!(
            strip_api_version("UpdateFunctionCode20150331v2"),
            "UpdateFunctionCode"
        );
        assert_eq!(
            strip_api_version("CreateFunction20150331"),
            "CreateFunction"
        );
        assert_eq!(strip_api_version("GetObject"), "GetObject");
        assert_eq!(
            strip_api_version("DescribeDBInstances"),
            "DescribeDBInstances"
        );
    }

    fn rule(id: &str, events: &str, generated: bool, low: bool) -> String {
        let marks = match (generated, low) {
            (false, _) => "",
            (true, false) => "generated = true",
            (true, true) => "generated = true\nconfidence = \"low\"",
        };
        format!(
            r#"
[[rule]]
id = "{id}"
source = "x.amazonaws.com"
events = [{events}]
{marks}
  [[rule.extract]]
  path = "requestParameters.name"
  arn = "arn:{{partition}}:x:{{region}}:{{account}}:thing/{{value}}"
  [[rule.test]]
  event = '{{"eventSource": "x.amazonaws.com", "eventName": "Get", "awsRegion": "us-east-1", "recipientAccountId": "111122223333", "requestParameters": {{"name": "n"}}}}'
  expect = ["arn:aws:x:us-east-1:111122223333:thing/n"]
"#
        )
    }

    fn set(files: &[(&str, String)]) -> RuleSet {
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect();
        RuleSet::from_files(&files).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_hand_written_rule_wins_over_a_generated_one_in_any_file_order() {
        let generated = rule("gen-x", r#""Get", "Put""#, true, false);
        let hand = rule("x-hand", r#""Get""#, false, false);
        for files in [
            vec![("a.toml", generated.clone()), ("b.toml", hand.clone())],
            vec![("a.toml", hand.clone()), ("b.toml", generated.clone())],
        ] {
            let set = set(&files);
            assert_eq!(set.rule_for("x.amazonaws.com", "Get").unwrap().id, "x-hand");
            assert_eq!(set.rule_for("x.amazonaws.com", "Put").unwrap().id, "gen-x");
        }
        let fallback = rule("x-all", r#""*""#, false, false);
        let set = set(&[("a.toml", generated), ("b.toml", fallback)]);
        assert_eq!(
            set.rule_for("x.amazonaws.com", "Put").unwrap().id,
            "x-all",
            "a hand-written `*` rule keeps its source"
        );
    }

    #[test]
    fn two_generated_rules_for_one_call_are_an_error() {
        let files = vec![
            ("a.toml".to_string(), rule("gen-a", r#""Get""#, true, false)),
            ("b.toml".to_string(), rule("gen-b", r#""Get""#, true, false)),
        ];
        let err = RuleSet::from_files(&files).unwrap_err().to_string();
        assert!(err.contains("matched by rule `gen-a` too"), "{err}");
    }

    #[test]
    fn a_learned_rule_works_beside_a_generated_one_and_never_beside_a_hand_written_one() {
        let learned = rule("x-learned", r#""Get", "Put""#, false, false)
            .replace("[[rule]]\n", "[[rule]]\nlearned = true\n");
        let generated = rule("gen-x", r#""Get""#, true, false);
        let hand = rule("x-hand", r#""Put""#, false, false);
        for files in [
            vec![("a.toml", learned.clone()), ("b.toml", generated.clone())],
            vec![("a.toml", generated.clone()), ("b.toml", learned.clone())],
        ] {
            let set = set(&[files[0].clone(), files[1].clone(), ("c.toml", hand.clone())]);
            let pair = [
                set.rule_for("x.amazonaws.com", "Get").unwrap().id.as_str(),
                set.companion_for("x.amazonaws.com", "Get")
                    .unwrap()
                    .id
                    .as_str(),
            ];
            assert!(
                pair.contains(&"x-learned") && pair.contains(&"gen-x"),
                "{pair:?}"
            );
            assert_eq!(set.rule_for("x.amazonaws.com", "Put").unwrap().id, "x-hand");
            assert!(set.companion_for("x.amazonaws.com", "Put").is_none());
        }
        // Learned rules added to a pack (`RuleSet::extended`) pair the same way.
        let pack = set(&[("b.toml", generated)]);
        let more = set(&[("l.toml", learned.clone())]);
        let both = pack.extended(&more);
        assert_eq!(both.rule_for("x.amazonaws.com", "Get").unwrap().id, "gen-x");
        assert_eq!(
            both.companion_for("x.amazonaws.com", "Get").unwrap().id,
            "x-learned"
        );
        let files = vec![
            ("a.toml".to_string(), learned.clone()),
            (
                "b.toml".to_string(),
                learned.replace("x-learned", "x-learned-2"),
            ),
        ];
        let err = RuleSet::from_files(&files).unwrap_err().to_string();
        assert!(err.contains("matched by rule `x-learned` too"), "{err}");
    }

    #[test]
    fn low_confidence_rules_can_be_left_out() {
        let set = set(&[
            ("a.toml", rule("gen-low", r#""Get""#, true, true)),
            ("b.toml", rule("gen-sure", r#""Put""#, true, false)),
        ]);
        assert_eq!(
            set.rule_for("x.amazonaws.com", "Get").unwrap().id,
            "gen-low"
        );
        let sure = set.without_low_confidence();
        assert!(sure.rule_for("x.amazonaws.com", "Get").is_none());
        assert_eq!(
            sure.rule_for("x.amazonaws.com", "Put").unwrap().id,
            "gen-sure"
        );
    }

    #[test]
    fn the_builtin_pack_is_valid() {
        let set = RuleSet::builtin().unwrap_or_else(|e| panic!("{e}"));
        assert!(!set.is_empty());
    }
}
