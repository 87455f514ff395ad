//! Rule files → [`Rule`]s, checking every key and value and keeping every problem with its
//! position. Walks the spanned TOML tree (`toml::de::DeTable`) instead of deriving
//! `Deserialize`, so that one bad key does not hide the next.

use std::ops::Range;

use regex::Regex;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::path::JsonPath;
use super::schema::{self, keys};
use super::template::{Template, BUILTIN_VARS};
use super::{Build, Completion, Diagnostic, Extractor, Rule, RuleTest};

/// Longest path a rule may give (`requestParameters.x.y[*].z`): real ones are under 100.
const MAX_PATH_LEN: usize = 512;
/// Longest ARN template a rule may give.
const MAX_TEMPLATE_LEN: usize = 512;
/// Compiled size a rule's regex may reach (the regex crate's default is 10 MiB per program).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// How deeply a rule's regex may nest groups and repetitions.
const REGEX_NEST_LIMIT: u32 = 64;

/// Parses one rule file; returns the rules that are valid and the problems found.
pub(super) fn parse_file(file: &str, text: &str) -> (Vec<Rule>, Vec<Diagnostic>) {
    let mut cx = Cx {
        file,
        line_starts: std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        diagnostics: Vec::new(),
    };
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(err) => {
            let span = err.span().unwrap_or(0..0);
            let message = err.message().trim().to_string();
            cx.error(span, format!("TOML syntax: {message}"));
            return (Vec::new(), cx.diagnostics);
        }
    };
    let root = root.get_ref();
    cx.unknown_keys(root, &keys(schema::FILE), "file");
    let file_source = cx.string(root, "source", false);
    let mut rules = Vec::new();
    let tables = cx.tables(root, "rule");
    if tables.is_empty() {
        cx.error(0..0, "no `[[rule]]` in this file".into());
    }
    for (table, span) in tables {
        if let Some(rule) = cx.rule(table, span, file_source.as_ref()) {
            rules.push(rule);
        }
    }
    (rules, cx.diagnostics)
}

struct Cx<'f> {
    file: &'f str,
    line_starts: Vec<usize>,
    diagnostics: Vec<Diagnostic>,
}

type Spanned2<T> = (T, Range<usize>);

impl Cx<'_> {
    fn error(&mut self, span: Range<usize>, message: String) {
        let line = self
            .line_starts
            .partition_point(|&s| s <= span.start)
            .max(1);
        let column = span.start - self.line_starts[line - 1] + 1;
        self.diagnostics.push(Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            message,
        });
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        self.line_starts
            .partition_point(|&s| s <= span.start)
            .max(1)
    }

    fn unknown_keys(&mut self, table: &DeTable, allowed: &[&str], what: &str) {
        for key in table.keys() {
            if !allowed.contains(&key.get_ref().as_ref()) {
                let hint = closest(key.get_ref(), allowed)
                    .map(|k| format!("; did you mean `{k}`?"))
                    .unwrap_or_default();
                self.error(
                    key.span(),
                    format!(
                        "unknown key `{}` in {what} (expected one of: {}){hint}",
                        key.get_ref(),
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn get<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        table
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| v)
    }

    fn string(&mut self, table: &DeTable, key: &str, required: bool) -> Option<Spanned2<String>> {
        match Self::get(table, key) {
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Some((s.to_string(), v.span())),
                other => {
                    self.error(
                        v.span(),
                        format!("`{key}` must be a string, not {}", other.type_str()),
                    );
                    None
                }
            },
            None => {
                if required {
                    self.error(0..0, format!("missing `{key}`"));
                }
                None
            }
        }
    }

    fn bool(&mut self, table: &DeTable, key: &str) -> Option<bool> {
        let v = Self::get(table, key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                self.error(
                    v.span(),
                    format!("`{key}` must be true or false, not {}", other.type_str()),
                );
                None
            }
        }
    }

    fn strings(&mut self, table: &DeTable, key: &str) -> Option<Vec<Spanned2<String>>> {
        let v = Self::get(table, key)?;
        let DeValue::Array(items) = v.get_ref() else {
            self.error(v.span(), format!("`{key}` must be an array of strings"));
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.to_string(), item.span())),
                other => self.error(
                    item.span(),
                    format!("`{key}` must hold strings, not {}", other.type_str()),
                ),
            }
        }
        Some(out)
    }

    fn tables<'t, 'i>(
        &mut self,
        table: &'t DeTable<'i>,
        key: &str,
    ) -> Vec<(&'t DeTable<'i>, Range<usize>)> {
        let Some(v) = Self::get(table, key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.error(
                v.span(),
                format!("`{key}` must be an array of tables (`[[...{key}]]`)"),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::Table(t) => out.push((t, item.span())),
                other => self.error(
                    item.span(),
                    format!("`{key}` must hold tables, not {}", other.type_str()),
                ),
            }
        }
        out
    }

    /// Reports a missing key at the table's own position.
    fn require<T>(&mut self, value: Option<T>, table_span: &Range<usize>, what: &str) -> Option<T> {
        if value.is_none() {
            self.error(table_span.clone(), format!("missing `{what}`"));
        }
        value
    }

    fn rule(
        &mut self,
        table: &DeTable,
        span: Range<usize>,
        file_source: Option<&Spanned2<String>>,
    ) -> Option<Rule> {
        self.unknown_keys(table, &keys(schema::RULE), "[[rule]]");
        let before = self.diagnostics.len();
        let id = self.string_opt(table, "id");
        let id = self.require(id, &span, "id");
        if let Some((id, s)) = &id {
            if !is_kebab(id) {
                self.error(
                    s.clone(),
                    format!("rule id `{id}` must be kebab-case (a-z, 0-9, -)"),
                );
            }
        }
        let source = self
            .string_opt(table, "source")
            .or_else(|| file_source.cloned());
        let source = self.require(
            source,
            &span,
            "source (in the rule or at the top of the file)",
        );
        if let Some((source, s)) = &source {
            if !source.ends_with(".amazonaws.com") || source.contains(char::is_whitespace) {
                self.error(
                    s.clone(),
                    format!("source `{source}` must be an eventSource such as `ec2.amazonaws.com`"),
                );
            }
        }
        let events = self.events(table, &span);
        let description = self.string(table, "description", false).map(|(d, _)| d);
        let no_resource = self.bool(table, "no_resource").unwrap_or(false);
        // A learned rule (`rules learn`) ranks below any hand-written rule, and beside a
        // generated one for the same call (see `RuleSet::companion_for`).
        let learned = self.bool(table, "learned").unwrap_or(false);
        let generated = self.bool(table, "generated").unwrap_or(false) || learned;
        let low_confidence = match self.string_opt(table, "confidence") {
            None => false,
            Some((c, _)) if c == "low" => true,
            Some((c, _)) if c == "high" => false,
            Some((c, s)) => {
                self.error(s, format!("confidence `{c}` is `low` or `high`"));
                false
            }
        };
        let extractors = self.extractors(table, &span, no_resource);
        let tests = self.tests(table, &span);
        if self.diagnostics.len() > before {
            return None;
        }
        Some(Rule {
            id: id?.0,
            source: source?.0,
            events: events.into_iter().map(|(e, _)| e).collect(),
            description,
            no_resource,
            generated,
            learned,
            low_confidence,
            extractors,
            tests,
            file: self.file.to_string(),
            line: self.line_of(&span),
        })
    }

    fn string_opt(&mut self, table: &DeTable, key: &str) -> Option<Spanned2<String>> {
        self.string(table, key, false)
    }

    /// `events`: API names, each once, or `*` alone.
    fn events(&mut self, table: &DeTable, span: &Range<usize>) -> Vec<Spanned2<String>> {
        let events = self.strings(table, "events");
        let events = self.require(events, span, "events").unwrap_or_default();
        if events.is_empty() && Self::get(table, "events").is_some() {
            self.error(span.clone(), "`events` is empty".into());
        }
        let mut seen = Vec::new();
        for (event, s) in &events {
            if event == "*" {
                if events.len() > 1 {
                    self.error(
                        s.clone(),
                        "`*` (every other call of the source) stands alone in `events`".into(),
                    );
                }
            } else if !event
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                || !event.chars().all(|c| c.is_ascii_alphanumeric())
            {
                self.error(
                    s.clone(),
                    format!("event name `{event}` is not an API name like `StartInstances`"),
                );
            } else if seen.contains(event) {
                self.error(s.clone(), format!("event `{event}` is listed twice"));
            }
            seen.push(event.clone());
        }
        events
    }

    /// `[[rule.extract]]` tables: at least one, unless the rule has `no_resource = true`.
    fn extractors(
        &mut self,
        table: &DeTable,
        span: &Range<usize>,
        no_resource: bool,
    ) -> Vec<Extractor> {
        let extract_tables = self.tables(table, "extract");
        if no_resource && !extract_tables.is_empty() {
            self.error(
                span.clone(),
                "a rule with `no_resource = true` has no `[[rule.extract]]`".into(),
            );
        }
        if !no_resource && extract_tables.is_empty() {
            self.error(
                span.clone(),
                "a rule needs at least one `[[rule.extract]]`, or `no_resource = true`".into(),
            );
        }
        extract_tables
            .into_iter()
            .filter_map(|(t, s)| self.extractor(t, s))
            .collect()
    }

    /// `[[rule.test]]` tables: at least one.
    fn tests(&mut self, table: &DeTable, span: &Range<usize>) -> Vec<RuleTest> {
        let tests: Vec<RuleTest> = self
            .tables(table, "test")
            .into_iter()
            .filter_map(|(t, s)| self.test(t, s))
            .collect();
        if tests.is_empty() {
            self.error(
                span.clone(),
                "a rule needs at least one `[[rule.test]]` taken from a real record".into(),
            );
        }
        tests
    }

    fn extractor(&mut self, table: &DeTable, span: Range<usize>) -> Option<Extractor> {
        self.unknown_keys(table, &keys(schema::EXTRACT), "[[rule.extract]]");
        let before = self.diagnostics.len();
        let path = self.string_opt(table, "path");
        let path = self
            .require(path, &span, "path")
            .and_then(|(p, s)| self.path(&p, s, ""));
        let regex = self.regex(table);
        let types = self.types(table);
        let vars = self.vars(table);
        let when = self.when(table);
        let mut unless = Vec::new();
        for (p, span) in self.strings(table, "unless").unwrap_or_default() {
            unless.extend(self.path(&p, span, " in `unless`"));
        }
        let builds = [
            self.string_opt(table, "arn").map(|b| ("arn", b)),
            self.string_opt(table, "arn_of").map(|b| ("arn_of", b)),
            self.string_opt(table, "named").map(|b| ("named", b)),
        ];
        let mut given = builds.into_iter().flatten();
        let build = match (given.next(), given.next()) {
            (Some(("arn", (t, s))), None) => self
                .template(&t, s, &types, &vars, regex.as_ref())
                .map(Build::Template),
            (Some(("arn_of", (service, s))), None) => {
                self.service(service, s, "arn_of").map(Build::ArnOf)
            }
            (Some((_, (service, s))), None) => self.service(service, s, "named").map(Build::Named),
            (Some((first, _)), Some((second, (_, s)))) => {
                self.error(
                    s,
                    format!("one of `arn`, `arn_of` and `named`: not `{first}` and `{second}`"),
                );
                None
            }
            (None, _) => {
                self.error(
                    span.clone(),
                    "missing `arn` (or `arn_of`, or `named`)".into(),
                );
                None
            }
        };
        let complete = self.completion(table);
        let strip_prefix = self.string_opt(table, "strip_prefix").map(|(p, _)| p);
        let accept_arn = self.bool(table, "accept_arn").unwrap_or(true);
        if self.diagnostics.len() > before {
            return None;
        }
        Some(Extractor {
            path: path?,
            build: build?,
            regex,
            vars,
            when,
            unless,
            strip_prefix,
            types,
            accept_arn,
            complete,
        })
    }

    /// `arn_of` or `named`: an ARN's service part (`ecs`, `rds`).
    fn service(&mut self, service: String, span: Range<usize>, key: &str) -> Option<String> {
        let valid = !service.is_empty()
            && service
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            self.error(
                span,
                format!("`{key}` is an ARN's service part (`ecs`, `rds`), not `{service}`"),
            );
            return None;
        }
        Some(service)
    }

    /// A JSON path, within [`MAX_PATH_LEN`]; `context` says where it stands (` in `when``).
    fn path(&mut self, text: &str, span: Range<usize>, context: &str) -> Option<JsonPath> {
        if text.len() > MAX_PATH_LEN {
            self.error(
                span,
                format!("path{context} longer than {MAX_PATH_LEN} characters"),
            );
            return None;
        }
        match JsonPath::parse(text) {
            Ok(path) => Some(path),
            Err(e) => {
                self.error(span, format!("bad path `{text}`{context}: {e}"));
                None
            }
        }
    }

    /// `regex`, compiled within size limits: a rule file from a pull request cannot make the
    /// scan build a huge automaton (matching itself is linear time in the `regex` crate).
    fn regex(&mut self, table: &DeTable) -> Option<Regex> {
        let (text, span) = self.string_opt(table, "regex")?;
        let built = regex::RegexBuilder::new(&text)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(REGEX_NEST_LIMIT)
            .build();
        match built {
            Ok(re) => Some(re),
            Err(e) => {
                self.error(span, format!("bad regex: {e}"));
                None
            }
        }
    }

    /// `types`: id prefix → resource type, longest prefix first.
    fn types(&mut self, table: &DeTable) -> Vec<(String, String)> {
        let mut types = Vec::new();
        let Some(v) = Self::get(table, "types") else {
            return types;
        };
        let DeValue::Table(t) = v.get_ref() else {
            self.error(
                v.span(),
                "`types` must be a table: { \"i-\" = \"instance\" }".into(),
            );
            return types;
        };
        for (k, val) in t.iter() {
            match val.get_ref() {
                DeValue::String(s) => types.push((k.get_ref().to_string(), s.to_string())),
                _ => self.error(
                    val.span(),
                    "`types` maps an id prefix to a resource type string".into(),
                ),
            }
        }
        types.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        types
    }

    /// `vars`: name → path, no name shadowing a built-in variable.
    fn vars(&mut self, table: &DeTable) -> Vec<(String, JsonPath)> {
        let mut vars = Vec::new();
        let Some(v) = Self::get(table, "vars") else {
            return vars;
        };
        let DeValue::Table(t) = v.get_ref() else {
            self.error(
                v.span(),
                "`vars` must be a table: { bucket = \"requestParameters.bucketName\" }".into(),
            );
            return vars;
        };
        for (k, val) in t.iter() {
            let name = k.get_ref().to_string();
            if BUILTIN_VARS.contains(&name.as_str()) || name == "type" {
                self.error(
                    k.span(),
                    format!("`{name}` is a built-in variable; choose another name"),
                );
            }
            match val.get_ref() {
                DeValue::String(p) => {
                    let context = format!(" for `{name}`");
                    if let Some(path) = self.path(p, val.span(), &context) {
                        vars.push((name, path));
                    }
                }
                _ => self.error(val.span(), "`vars` maps a name to a path string".into()),
            }
        }
        vars
    }

    /// `when`: path → the string it must equal.
    fn when(&mut self, table: &DeTable) -> Vec<(JsonPath, String)> {
        let mut when = Vec::new();
        let Some(v) = Self::get(table, "when") else {
            return when;
        };
        let DeValue::Table(t) = v.get_ref() else {
            self.error(
                v.span(),
                "`when` must be a table: { \"requestParameters.resourceType\" = \"Parameter\" }"
                    .into(),
            );
            return when;
        };
        for (k, val) in t.iter() {
            let path = self.path(k.get_ref(), k.span(), " in `when`");
            match (path, val.get_ref()) {
                (Some(path), DeValue::String(expected)) => when.push((path, expected.to_string())),
                (_, DeValue::String(_)) => {}
                _ => self.error(
                    val.span(),
                    "`when` maps a path to the string it must equal".into(),
                ),
            }
        }
        when
    }

    /// `arn`: a template whose every placeholder is a built-in variable, a `vars` name, a regex
    /// group, or `{type}` with `types`.
    fn template(
        &mut self,
        text: &str,
        span: Range<usize>,
        types: &[(String, String)],
        vars: &[(String, JsonPath)],
        regex: Option<&Regex>,
    ) -> Option<Template> {
        if text.len() > MAX_TEMPLATE_LEN {
            self.error(
                span,
                format!("`arn` longer than {MAX_TEMPLATE_LEN} characters"),
            );
            return None;
        }
        let template = match Template::parse(text) {
            Ok(template) => template,
            Err(e) => {
                self.error(span, format!("bad ARN template `{text}`: {e}"));
                return None;
            }
        };
        for var in template.vars() {
            let known = BUILTIN_VARS.contains(&var)
                || (var == "type" && !types.is_empty())
                || vars.iter().any(|(n, _)| n == var)
                || regex.is_some_and(|r| r.capture_names().flatten().any(|n| n == var));
            if !known {
                let why = if var == "type" {
                    "`{type}` needs `types`"
                } else {
                    "not a built-in variable, a `vars` name, nor a regex group"
                };
                self.error(
                    span.clone(),
                    format!("unknown placeholder `{{{var}}}` in `arn`: {why}"),
                );
            }
        }
        Some(template)
    }

    /// `complete`: how a built ARN is completed against the inventory.
    fn completion(&mut self, table: &DeTable) -> Option<Completion> {
        let (c, s) = self.string_opt(table, "complete")?;
        let parsed = Completion::parse(&c);
        if parsed.is_none() {
            self.error(
                s,
                format!(
                    "`complete` is one of {}, not `{c}`",
                    Completion::NAMES.join(", ")
                ),
            );
        }
        parsed
    }

    fn test(&mut self, table: &DeTable, span: Range<usize>) -> Option<RuleTest> {
        self.unknown_keys(table, &keys(schema::TEST), "[[rule.test]]");
        let name = self.string_opt(table, "name").map(|(n, _)| n);
        let event = self.string_opt(table, "event");
        let event = self.require(event, &span, "event");
        let expect = self.strings(table, "expect");
        let expect = self.require(
            expect,
            &span,
            "expect (an empty list when the rule must find nothing)",
        );
        let inventory = self.strings(table, "inventory").unwrap_or_default();
        Some(RuleTest {
            name,
            event: event?.0,
            expect: expect?.into_iter().map(|(e, _)| e).collect(),
            inventory: inventory.into_iter().map(|(e, _)| e).collect(),
            line: self.line_of(&span),
        })
    }
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The allowed key one edit or two away, for "did you mean".
fn closest<'a>(key: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (strsim::levenshtein(key, a), *a))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_problem_with_its_line() {
        let text = r#"source = "ec2.amazonaws.com"

[[rule]]
id = "Bad_Id"
events = ["StartInstances", "StartInstances"]
colour = "red"

[[rule.extract]]
path = "requestParams.x"
arn = "arn:{partition}:ec2:{region}:{account}:instance/{valu}"

[[rule.test]]
event = "{}"
expect = []
"#;
        let (rules, diags) = parse_file("rules/x.toml", text);
        assert!(rules.is_empty());
        let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        let has = |line: usize, needle: &str| {
            assert!(
                text.iter()
                    .any(|d| d.starts_with(&format!("rules/x.toml:{line}:")) && d.contains(needle)),
                "no `{needle}` at line {line} in {text:#?}"
            )
        };
        has(4, "kebab-case");
        has(5, "listed twice");
        has(6, "unknown key `colour`");
        has(9, "must start at one of");
        has(10, "unknown placeholder `{valu}`");
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let (_, diags) = parse_file("r.toml", "[[rule]]\nid = \"a\nevents = []\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 2, "{diags:?}");
    }

    #[test]
    fn suggests_the_closest_key() {
        let (_, diags) = parse_file(
            "r.toml",
            "source = \"s3.amazonaws.com\"\n[[rule]]\nid = \"a\"\nevent = [\"X\"]\n",
        );
        assert!(
            diags
                .iter()
                .any(|d| d.message.contains("did you mean `events`")),
            "{diags:?}"
        );
    }
}
