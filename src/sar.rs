//! The Service Authorization Reference (SAR) as tagtrail uses it (`data/resource-targeting.txt` and
//! `data/arn-formats.txt`, written by `scripts/sar_targeting.py`): which calls act on a
//! resource, on which resource types, and the ARN format of every type.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regex::Regex;

use crate::arn::Arn;

const SAR_ACTIONS: &str = include_str!("../data/resource-targeting.txt");
const ARN_FORMATS: &str = include_str!("../data/arn-formats.txt");

/// CloudTrail event names whose IAM action has another name.
const ACTION_ALIASES: &[(&str, &str)] = &[
    ("s3:ListObjects", "s3:ListBucket"),
    ("s3:ListObjectsV2", "s3:ListBucket"),
    ("s3:HeadBucket", "s3:ListBucket"),
    ("s3:ListObjectVersions", "s3:ListBucketVersions"),
    ("s3:ListBuckets", "s3:ListAllMyBuckets"),
    ("s3:HeadObject", "s3:GetObject"),
    ("s3:CopyObject", "s3:PutObject"),
    ("s3:UploadPart", "s3:PutObject"),
    ("s3:UploadPartCopy", "s3:PutObject"),
    ("s3:CreateMultipartUpload", "s3:PutObject"),
    ("s3:CompleteMultipartUpload", "s3:PutObject"),
    ("s3:DeleteObjects", "s3:DeleteObject"),
    ("s3:GetBucketLifecycle", "s3:GetLifecycleConfiguration"),
    ("s3:PutBucketLifecycle", "s3:PutLifecycleConfiguration"),
    ("s3:GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    ("s3:PutBucketEncryption", "s3:PutEncryptionConfiguration"),
    ("s3:GetBucketReplication", "s3:GetReplicationConfiguration"),
    ("s3:PutBucketReplication", "s3:PutReplicationConfiguration"),
    ("s3:DeleteBucketLifecycle", "s3:PutLifecycleConfiguration"),
    ("s3:DeleteBucketEncryption", "s3:PutEncryptionConfiguration"),
    (
        "s3:DeleteBucketReplication",
        "s3:PutReplicationConfiguration",
    ),
    ("s3:GetBucketCors", "s3:GetBucketCORS"),
    ("s3:PutBucketCors", "s3:PutBucketCORS"),
    ("s3:DeleteBucketCors", "s3:PutBucketCORS"),
    ("s3:ListMultipartUploads", "s3:ListBucketMultipartUploads"),
    ("s3:ListParts", "s3:ListMultipartUploadParts"),
    (
        "s3:GetBucketAnalyticsConfiguration",
        "s3:GetAnalyticsConfiguration",
    ),
    (
        "s3:ListBucketAnalyticsConfigurations",
        "s3:GetAnalyticsConfiguration",
    ),
    (
        "s3:PutBucketAnalyticsConfiguration",
        "s3:PutAnalyticsConfiguration",
    ),
    (
        "s3:DeleteBucketAnalyticsConfiguration",
        "s3:PutAnalyticsConfiguration",
    ),
    (
        "s3:GetBucketInventoryConfiguration",
        "s3:GetInventoryConfiguration",
    ),
    (
        "s3:ListBucketInventoryConfigurations",
        "s3:GetInventoryConfiguration",
    ),
    (
        "s3:PutBucketInventoryConfiguration",
        "s3:PutInventoryConfiguration",
    ),
    (
        "s3:DeleteBucketInventoryConfiguration",
        "s3:PutInventoryConfiguration",
    ),
    (
        "s3:GetBucketMetricsConfiguration",
        "s3:GetMetricsConfiguration",
    ),
    (
        "s3:ListBucketMetricsConfigurations",
        "s3:GetMetricsConfiguration",
    ),
    (
        "s3:PutBucketMetricsConfiguration",
        "s3:PutMetricsConfiguration",
    ),
    (
        "s3:DeleteBucketMetricsConfiguration",
        "s3:PutMetricsConfiguration",
    ),
    (
        "s3:GetBucketIntelligentTieringConfiguration",
        "s3:GetIntelligentTieringConfiguration",
    ),
    (
        "s3:ListBucketIntelligentTieringConfigurations",
        "s3:GetIntelligentTieringConfiguration",
    ),
    (
        "s3:PutBucketIntelligentTieringConfiguration",
        "s3:PutIntelligentTieringConfiguration",
    ),
    (
        "s3:DeleteBucketIntelligentTieringConfiguration",
        "s3:PutIntelligentTieringConfiguration",
    ),
];

/// One resource type and its ARN format
/// (`arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}`).
#[derive(Debug)]
pub struct Format {
    /// The IAM prefix of the service that defines the type (`ssm` for SSM's `instance`).
    pub iam_prefix: &'static str,
    pub resource_type: &'static str,
    /// The format as the SAR writes it.
    pub text: &'static str,
    /// The ARN's service part (`ec2`).
    pub service: &'static str,
    /// The literal start of the resource part (`instance/`; `` for an S3 bucket).
    pub prefix: &'static str,
    matcher: OnceLock<Regex>,
}

/// What an action may act on: one resource type's format.
pub type Target = Format;

impl Format {
    fn parse(line: &'static str) -> Option<Self> {
        let mut fields = line.split('\t');
        let (iam_prefix, resource_type, text) = (fields.next()?, fields.next()?, fields.next()?);
        let mut parts = text.splitn(6, ':');
        let service = parts.nth(2)?;
        let resource = parts.nth(2)?;
        let prefix = resource.split("${").next().unwrap_or("");
        Some(Format {
            iam_prefix,
            resource_type,
            text,
            service,
            prefix,
            matcher: OnceLock::new(),
        })
    }

    /// Whether `arn` is of this resource type by its service and resource prefix (cheap: no
    /// regex).
    pub fn matches(&self, arn: &Arn) -> bool {
        arn.service == self.service && arn.resource.starts_with(self.prefix)
    }

    /// Whether a whole ARN fits the format: its literal parts exactly, in their case; a
    /// partition, a region and a 12-digit account where the format has their variables; one
    /// character or more for every other variable.
    pub fn fits(&self, arn: &str) -> bool {
        self.matcher
            .get_or_init(|| Regex::new(&self.pattern()).expect("an escaped format is a regex"))
            .is_match(arn)
    }

    /// The regular expression [`Format::fits`] matches (Rust's, Java's and RE2's syntax alike).
    pub fn pattern(&self) -> String {
        let mut pattern = String::from("^");
        for (literal, var) in self.pieces() {
            pattern.push_str(&regex::escape(literal));
            pattern.push_str(match var {
                Some("Partition") => "aws(?:-[a-z]+)*",
                Some("Region") => "[a-z0-9-]*",
                Some("Account") => "[0-9]{12}",
                Some(_) => ".+",
                None => "",
            });
        }
        pattern.push('$');
        pattern
    }

    /// The literal parts, each with the variable after it (none after the last).
    fn pieces(&self) -> Vec<(&'static str, Option<&'static str>)> {
        let mut out = Vec::new();
        let mut rest = self.text;
        while let Some(open) = rest.find("${") {
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            out.push((&rest[..open], Some(&rest[open + 2..close])));
            rest = &rest[(close + 1).min(rest.len())..];
        }
        out.push((rest, None));
        out
    }

    /// The literal parts with every variable as `${}`: two formats name the same type when
    /// their skeletons are equal ([`Format::same_type`]).
    pub fn skeleton(&self) -> String {
        self.pieces()
            .into_iter()
            .map(|(literal, var)| format!("{literal}{}", if var.is_some() { "${}" } else { "" }))
            .collect()
    }

    /// The format's variables, `Partition`, `Region` and `Account` included.
    pub fn variables(&self) -> impl Iterator<Item = &'static str> {
        self.text
            .split("${")
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
    }

    /// How specific the format is: the length of its literal text.
    pub fn literal_len(&self) -> usize {
        self.text.len() - self.variables().map(|v| v.len() + 3).sum::<usize>()
    }

    /// Whether two formats name the same type: their literal parts are the same, whatever
    /// their variables are called (`role/${RoleName}`, `role/${RoleNameWithPath}`).
    pub fn same_type(&self, other: &Format) -> bool {
        self.text == other.text || self.literals().eq(other.literals())
    }

    /// The literal parts, in order (those of [`Format::pieces`], without a copy).
    fn literals(&self) -> impl Iterator<Item = &'static str> {
        let text: &'static str = self.text;
        text.split("${").enumerate().map(|(i, part)| match i {
            0 => part,
            _ => part.split_once('}').map_or("", |(_, literal)| literal),
        })
    }

    /// Whether `child`'s format continues this one (`log-group:${LogGroupName}` and
    /// `log-group:${LogGroupName}:log-stream:${LogStreamName}`): what it names is tagged on
    /// the parent.
    pub fn is_parent_of(&self, child: &Format) -> bool {
        child.text.len() > self.text.len()
            && child.text.starts_with(self.text)
            && matches!(child.text.as_bytes()[self.text.len()], b'/' | b':')
    }
}

/// The SAR: every format, the resource-targeting actions with their types, and the service
/// prefixes it knows.
struct Sar {
    formats: Vec<Format>,
    /// Formats by ARN service part.
    by_service: HashMap<&'static str, Vec<usize>>,
    actions: HashMap<&'static str, Vec<usize>>,
    prefixes: HashSet<&'static str>,
}

fn sar() -> &'static Sar {
    static SAR: OnceLock<Sar> = OnceLock::new();
    SAR.get_or_init(|| {
        let lines = |text: &'static str| {
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
        };
        let formats: Vec<Format> = lines(ARN_FORMATS).filter_map(Format::parse).collect();
        let mut by_type: HashMap<(&str, &str), usize> = HashMap::new();
        let mut by_service: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (i, f) in formats.iter().enumerate() {
            by_type.insert((f.iam_prefix, f.resource_type), i);
            by_service.entry(f.service).or_default().push(i);
        }
        let actions: HashMap<&'static str, Vec<usize>> = lines(SAR_ACTIONS)
            .map(|line| {
                let (action, types) = line.split_once('\t').unwrap_or((line, ""));
                let prefix = action.split(':').next().unwrap_or("");
                let targets = types
                    .split(' ')
                    .filter_map(|t| by_type.get(&(prefix, t)).copied())
                    .collect();
                (action, targets)
            })
            .collect();
        let prefixes = actions.keys().filter_map(|a| a.split(':').next()).collect();
        Sar {
            formats,
            by_service,
            actions,
            prefixes,
        }
    })
}

/// The IAM action of a call: `ec2.amazonaws.com` + `StartInstances` → `ec2:StartInstances`.
pub fn iam_action(event_source: &str, event_name: &str) -> String {
    let action = format!(
        "{}:{}",
        crate::arn::service_of(event_source),
        strip_api_version(event_name)
    );
    match ACTION_ALIASES.iter().find(|(from, _)| *from == action) {
        Some((_, to)) => to.to_string(),
        None => action,
    }
}

/// Whether the SAR says the call targets a resource; `None` when it does not know the action.
pub fn targets_resource(event_source: &str, event_name: &str) -> Option<bool> {
    let action = iam_action(event_source, event_name);
    let sar = sar();
    if sar.actions.contains_key(action.as_str()) {
        return Some(true);
    }
    // The SAR lists every action of the services it knows; for a known prefix, absence means
    // the action cannot be scoped to a resource.
    let prefix = action.split(':').next().unwrap_or("");
    sar.prefixes.contains(prefix).then_some(false)
}

/// The resource types the SAR says the call may act on; `None` when it does not list the
/// action as targeting one.
pub fn targets(event_source: &str, event_name: &str) -> Option<Vec<&'static Target>> {
    let action = iam_action(event_source, event_name);
    targets_of_action(&action)
}

/// The resource types of an IAM action (`ec2:StartInstances`), as [`targets`].
pub fn targets_of_action(action: &str) -> Option<Vec<&'static Target>> {
    let sar = sar();
    sar.actions
        .get(action)
        .map(|slots| slots.iter().map(|&i| &sar.formats[i]).collect())
}

/// Every resource-targeting action the SAR lists (`prefix:Action`).
pub fn actions() -> impl Iterator<Item = &'static str> {
    sar().actions.keys().copied()
}

/// Every format of the SAR.
pub fn formats() -> &'static [Format] {
    &sar().formats
}

/// Every action with the types it acts on, as [`targets`] answers for a call: the SAR's
/// actions, and the CloudTrail event names whose IAM action has another name
/// (`s3:ListObjects` as `s3:ListBucket`).
pub fn actions_with_targets() -> Vec<(String, Vec<&'static Format>)> {
    let sar = sar();
    let of = |action: &str| -> Vec<&'static Format> {
        sar.actions
            .get(action)
            .map(|slots| slots.iter().map(|&i| &sar.formats[i]).collect())
            .unwrap_or_default()
    };
    let mut out: Vec<(String, Vec<&'static Format>)> = sar
        .actions
        .keys()
        .map(|action| (action.to_string(), of(action)))
        .collect();
    for (alias, action) in ACTION_ALIASES {
        if sar.actions.contains_key(action) {
            out.push((alias.to_string(), of(action)));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The formats whose ARNs have this service part (`ec2`), of any IAM prefix.
pub fn formats_of_service(service: &str) -> impl Iterator<Item = &'static Format> {
    let sar = sar();
    sar.by_service
        .get(service)
        .into_iter()
        .flatten()
        .map(|&i| &sar.formats[i])
}

/// The format a member names by its name, for `named` extractors: among the formats of the
/// ARN service `service` with one variable besides partition, region and account, the one
/// whose variable is the member's name (`natGatewayId`, or `NatGatewayIds` for a list), any
/// case; the type whose name the variable holds first (`vpc` for `${VpcId}`).
pub fn format_named(service: &str, member: &str) -> Option<&'static Format> {
    static BY_NAME: OnceLock<HashMap<(&'static str, String), &'static Format>> = OnceLock::new();
    let index = BY_NAME.get_or_init(|| {
        let mut index: HashMap<(&'static str, String), &'static Format> = HashMap::new();
        let key = |f: &Format| -> Option<String> {
            let mut own = f
                .variables()
                .filter(|v| !matches!(*v, "Partition" | "Region" | "Account"));
            let var = own.next()?;
            own.next().is_none().then(|| var.to_ascii_lowercase())
        };
        let rank = |f: &Format, var: &str| {
            let kind: String = f
                .resource_type
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            (
                var.strip_suffix("id") != Some(kind.as_str()),
                f.iam_prefix != f.service,
                f.text,
            )
        };
        for f in &sar().formats {
            let Some(var) = key(f) else { continue };
            let slot = index.entry((f.service, var.clone())).or_insert(f);
            if rank(f, &var) < rank(slot, &var) {
                *slot = f;
            }
        }
        index
    });
    let member = member.to_ascii_lowercase();
    index
        .get(&(service, member.clone()))
        .or_else(|| {
            member
                .strip_suffix('s')
                .and_then(|one| index.get(&(service, one.to_string())))
        })
        .copied()
}

/// Every member name (lower case, one item and list) a `named` extractor of `service` reads,
/// with its format: what [`format_named`] answers, as a list.
pub fn named_members(service: &str) -> Vec<(String, &'static Format)> {
    let mut out: Vec<(String, &'static Format)> = Vec::new();
    let mut vars: Vec<String> = formats_of_service(service)
        .filter_map(|f| {
            let mut own = f
                .variables()
                .filter(|v| !matches!(*v, "Partition" | "Region" | "Account"));
            let var = own.next()?;
            own.next().is_none().then(|| var.to_ascii_lowercase())
        })
        .collect();
    vars.sort();
    vars.dedup();
    for var in vars {
        for member in [var.clone(), format!("{var}s")] {
            if let Some(f) = format_named(service, &member) {
                if !out.iter().any(|(m, _)| *m == member) {
                    out.push((member, f));
                }
            }
        }
    }
    out
}

impl Format {
    /// The ARN of a format with one variable besides partition, region and account; a value
    /// that carries the type already is not doubled ([`crate::arn::undoubled`]).
    pub fn render(&self, partition: &str, region: &str, account: &str, value: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + value.len());
        let mut rest = self.text;
        while let Some(open) = rest.find("${") {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            out.push_str(match &rest[open + 2..close] {
                "Partition" => partition,
                "Region" => region,
                "Account" => account,
                _ => crate::arn::undoubled(&rest[..open], value),
            });
            rest = &rest[(close + 1).min(rest.len())..];
        }
        out.push_str(rest);
        out
    }

    /// The format as a rule's ARN template (`arn:{partition}:ec2:{region}:{account}:vpc/{value}`),
    /// for a format with one variable besides partition, region and account.
    pub fn template(&self) -> String {
        self.render("{partition}", "{region}", "{account}", "{value}")
    }
}

/// The most specific format a whole ARN fits (the longest literal text), if any; of the
/// prefixes that share a format, the one that owns the ARN's service. Two types are the same
/// when their formats have the same literal parts ([`Format::same_type`]).
pub fn type_of(arn: &str) -> Option<&'static Format> {
    // Records name the same resources over and over: each thread remembers the answers.
    thread_local! {
        static KNOWN: std::cell::RefCell<foldhash::HashMap<Box<str>, Option<&'static Format>>> =
            Default::default();
    }
    const REMEMBERED: usize = 1 << 16;
    KNOWN.with_borrow_mut(|known| {
        if let Some(&answer) = known.get(arn) {
            return answer;
        }
        let answer = find_type(arn);
        if known.len() >= REMEMBERED {
            known.clear();
        }
        known.insert(arn.into(), answer);
        answer
    })
}

fn find_type(arn: &str) -> Option<&'static Format> {
    let parsed = Arn::parse(arn)?;
    let service = parsed.service;
    // The literal prefix first: the regex only for the few formats it leaves (type_of was a
    // quarter of a scan's time, most of it in regexes of formats the prefix rules out).
    formats_of_service(service)
        .filter(|f| f.matches(&parsed) && f.fits(arn))
        .max_by_key(|f| (f.literal_len(), f.iam_prefix == service, f.text))
}

/// `CreateFunction20150331` → `CreateFunction`; `UpdateFunctionCode20150331v2` →
/// `UpdateFunctionCode`: Lambda's event names carry its API version.
pub fn strip_api_version(name: &str) -> &str {
    let trimmed = match name.rfind('v') {
        Some(v) if v + 1 < name.len() && name[v + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            &name[..v]
        }
        _ => name,
    };
    let digits = trimmed.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 8 && trimmed.len() > 8 {
        &trimmed[..trimmed.len() - 8]
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_resource_types_across_services() {
        let send = targets("ssm.amazonaws.com", "SendCommand").unwrap();
        let instance = Arn::parse("arn:aws:ec2:us-east-1:1:instance/i-1").unwrap();
        let inventory =
            Arn::parse("arn:aws:ssm:us-east-1:1:managed-instance-inventory/i-1").unwrap();
        assert!(send.iter().any(|t| t.matches(&instance)));
        assert!(!send.iter().any(|t| t.matches(&inventory)));
        let role = Arn::parse("arn:aws:iam::1:role/r").unwrap();
        let add = targets("iam.amazonaws.com", "AddRoleToInstanceProfile").unwrap();
        assert!(!add.iter().any(|t| t.matches(&role)));
        assert!(targets("ec2.amazonaws.com", "DescribeInstances").is_none());
        assert_eq!(
            targets_resource("ec2.amazonaws.com", "DescribeInstances"),
            Some(false)
        );
        assert_eq!(
            targets_resource("lambda.amazonaws.com", "GetFunction20150331v2"),
            Some(true)
        );
    }

    /// The shortcuts `type_of` takes (the literal prefix before the regex, the literal parts
    /// without a copy) agree with the formats they stand for, for every format of the SAR: an
    /// ARN built from a format is of a type that format fits.
    #[test]
    fn the_prefix_and_the_literal_parts_agree_with_the_formats() {
        for format in formats() {
            let literals: Vec<&str> = format.pieces().into_iter().map(|(l, _)| l).collect();
            assert_eq!(
                format.literals().collect::<Vec<_>>(),
                literals,
                "{}",
                format.text
            );
            let arn = format.render("aws", "us-east-1", "123456789012", "x-1");
            let Some(parsed) = Arn::parse(&arn) else {
                continue;
            };
            if format.fits(&arn) {
                assert!(
                    format.matches(&parsed),
                    "{arn} fits {} but not its prefix",
                    format.text
                );
                let found = type_of(&arn).unwrap_or_else(|| panic!("{arn}: no type"));
                assert!(found.fits(&arn), "{arn}: {}", found.text);
                assert!(
                    found.literal_len() >= format.literal_len(),
                    "{arn}: {}",
                    found.text
                );
            }
        }
    }

    #[test]
    fn members_name_the_format_of_their_variable() {
        let nat = format_named("ec2", "NatGatewayId").unwrap();
        assert_eq!(
            nat.render("aws", "us-east-1", "123456789012", "nat-1"),
            "arn:aws:ec2:us-east-1:123456789012:natgateway/nat-1"
        );
        assert_eq!(
            format_named("ec2", "natGatewayIds").map(|f| f.text),
            Some(nat.text)
        );
        let vpc = format_named("ec2", "vpcId").unwrap();
        assert_eq!(vpc.resource_type, "vpc");
        assert!(format_named("ec2", "clientToken").is_none());
    }

    #[test]
    fn formats_fit_whole_arns_with_their_literal_parts_in_case() {
        let function = targets("lambda.amazonaws.com", "GetFunction")
            .unwrap()
            .into_iter()
            .find(|f| f.resource_type == "function")
            .unwrap();
        assert!(function.fits("arn:aws:lambda:us-east-1:123456789012:function:f"));
        assert!(!function.fits("arn:aws:lambda:us-east-1:123456789012:Function:f"));
        assert!(!function.fits("arn:aws:lambda:us-east-1:12345:function:f"));
        assert!(!function.fits("arn:aws:lambda:us-east-1:123456789012:function:"));
        // A role has no region: an ARN with one fits no IAM format.
        assert_eq!(
            type_of("arn:aws:iam::123456789012:role/a/b").map(|f| f.resource_type),
            Some("role")
        );
        assert!(type_of("arn:aws:iam:us-east-1:123456789012:role/r").is_none());
        // The most specific format wins: a log stream is not its log group.
        let stream = type_of("arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s");
        let group = type_of("arn:aws:logs:us-east-1:123456789012:log-group:g").unwrap();
        assert_eq!(stream.map(|f| f.resource_type), Some("log-stream"));
        assert!(group.is_parent_of(stream.unwrap()));
        assert!(!stream.unwrap().is_parent_of(group));
    }
}
