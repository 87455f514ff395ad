//! ARN templates: `arn:{partition}:ec2:{region}:{account}:instance/{value}`.

/// The variables every template may use; `{type}` needs `types`, other names need a regex
/// capture group of that name.
pub const BUILTIN_VARS: &[&str] = &["partition", "region", "account", "value"];

/// A piece of a template: text as written, or a `{name}` placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    Var(String),
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses a template. It must start with `arn:` and use only `{name}` placeholders.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !text.starts_with("arn:") {
            return Err("an ARN template starts with `arn:`".into());
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find(['{', '}']) {
            if rest.as_bytes()[open] == b'}' {
                return Err("`}` without `{`".into());
            }
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or("`{` without `}`")?;
            let name = &after[..close];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("bad placeholder `{{{name}}}`"));
            }
            parts.push(Part::Var(name.to_string()));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// The pieces, in order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The placeholder names, in order.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// The value without the resource type the template writes before it, where the value
    /// carries it already: `alias/x` for `...:alias/{value}`, `/hostedzone/Z1` (as Route 53
    /// logs ids) for `...:hostedzone/{value}`. A value that is only the type is kept.
    pub fn undoubled<'v>(&self, value: &'v str) -> &'v str {
        let before = self.parts.windows(2).find_map(|w| match w {
            [Part::Literal(l), Part::Var(v)] if v == "value" => Some(l.as_str()),
            _ => None,
        });
        before.map_or(value, |before| crate::arn::undoubled(before, value))
    }

    /// Fills the template; `None` when a variable has no value (an empty region, say).
    pub fn render<'v>(&self, lookup: impl Fn(&str) -> Option<&'v str>) -> Option<String> {
        let mut out = String::with_capacity(64);
        for part in &self.parts {
            match part {
                Part::Literal(l) => out.push_str(l),
                Part::Var(v) => match lookup(v) {
                    Some(s) if !s.is_empty() => out.push_str(s),
                    _ => return None,
                },
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_refuses_missing_values() {
        let t = Template::parse("arn:{partition}:ec2:{region}:{account}:instance/{value}").unwrap();
        assert_eq!(
            t.vars().collect::<Vec<_>>(),
            ["partition", "region", "account", "value"]
        );
        let vals = |k: &str| match k {
            "partition" => Some("aws"),
            "region" => Some("us-east-1"),
            "account" => Some("1"),
            "value" => Some("i-1"),
            _ => None,
        };
        assert_eq!(
            t.render(vals).unwrap(),
            "arn:aws:ec2:us-east-1:1:instance/i-1"
        );
        assert_eq!(
            t.render(|k| if k == "region" { Some("") } else { vals(k) }),
            None
        );
    }

    #[test]
    fn a_value_carrying_its_type_is_not_doubled() {
        let alias =
            Template::parse("arn:{partition}:kms:{region}:{account}:alias/{value}").unwrap();
        assert_eq!(alias.undoubled("alias/sampleAlias1"), "sampleAlias1");
        assert_eq!(alias.undoubled("sampleAlias1"), "sampleAlias1");
        assert_eq!(alias.undoubled("alias/"), "alias/");
        let zone = Template::parse("arn:{partition}:route53:::hostedzone/{value}").unwrap();
        assert_eq!(
            zone.undoubled("/hostedzone/Z1D633PJN98FT9"),
            "Z1D633PJN98FT9"
        );
        let group =
            Template::parse("arn:{partition}:logs:{region}:{account}:log-group:{value}").unwrap();
        assert_eq!(group.undoubled("log-group:/aws/x"), "/aws/x");
        assert_eq!(group.undoubled("/aws/log-group:x"), "/aws/log-group:x");
        let object = Template::parse("arn:{partition}:s3:::{bucket}/{value}").unwrap();
        assert_eq!(object.undoubled("a/b"), "a/b");
    }

    #[test]
    fn rejects_bad_templates() {
        assert!(Template::parse("ec2:{value}").is_err());
        assert!(Template::parse("arn:{value").is_err());
        assert!(Template::parse("arn:{}").is_err());
        assert!(Template::parse("arn:x}").is_err());
    }
}
