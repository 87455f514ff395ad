//! ARNs in the form the Resource Groups Tagging API reports them, so that joins on ARN are exact.

/// The partition of a region: `aws`, `aws-cn`, `aws-us-gov`, ...
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else {
        "aws"
    }
}

/// The parts of an ARN: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits an ARN; `None` when the text is not one.
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        (!arn.partition.is_empty() && !arn.service.is_empty() && !arn.resource.is_empty())
            .then_some(arn)
    }
}

/// eventSource host names whose service prefix (in IAM actions and ARNs) differs.
const PREFIX_ALIASES: &[(&str, &str)] = &[("monitoring", "cloudwatch"), ("email", "ses")];

/// The service prefix of an eventSource, as IAM actions and ARNs spell it:
/// `ec2.amazonaws.com` → `ec2`, `monitoring.amazonaws.com` → `cloudwatch`.
pub fn service_of(event_source: &str) -> &str {
    let host = event_source.split('.').next().unwrap_or(event_source);
    PREFIX_ALIASES
        .iter()
        .find(|(h, _)| *h == host)
        .map_or(host, |(_, p)| p)
}

/// True when the text has the shape of an ARN.
pub fn is_arn(text: &str) -> bool {
    Arn::parse(text).is_some()
}

/// The value to put after `before` (the literal text of an ARN template or format up to it),
/// without the resource type `before` ends with, where the value carries it already:
/// `alias/x` after `...:alias/`, `/hostedzone/Z1` (as Route 53 logs ids) after
/// `...:hostedzone/`. A value that is only the type is kept.
pub fn undoubled<'v>(before: &str, value: &'v str) -> &'v str {
    let body = before.trim_end_matches([':', '/']);
    let word = &body[body.rfind([':', '/']).map_or(0, |i| i + 1)..];
    if word.len() < 3 || !word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return value;
    }
    let piece = &before[body.len() - word.len()..];
    value
        .strip_prefix('/')
        .unwrap_or(value)
        .strip_prefix(piece)
        .filter(|rest| !rest.is_empty())
        .unwrap_or(value)
}

/// Normalises an ARN to the form the tagging API reports: no surrounding space, S3 bucket and
/// object ARNs without region and account, no trailing `:*` on log groups.
/// Returns `None` when the text is not an ARN.
pub fn normalize(text: &str) -> Option<String> {
    let text = text.trim();
    let arn = Arn::parse(text)?;
    let unchanged = match arn.service {
        "s3" => arn.region.is_empty() && arn.account.is_empty() && !arn.resource.ends_with('/'),
        "logs" => !arn.resource.ends_with(":*"),
        _ => true,
    };
    if unchanged {
        return Some(text.to_string());
    }
    let mut resource = arn.resource;
    match arn.service {
        "s3" => {
            // `bucket/` (an ARNPrefix of every object) is the bucket itself.
            let resource = resource
                .strip_suffix('/')
                .filter(|b| !b.contains('/'))
                .unwrap_or(resource);
            return Some(format!("arn:{}:s3:::{}", arn.partition, resource));
        }
        "logs" => {
            resource = resource.strip_suffix(":*").unwrap_or(resource);
        }
        _ => {}
    }
    Some(format!(
        "arn:{}:{}:{}:{}:{}",
        arn.partition, arn.service, arn.region, arn.account, resource
    ))
}

/// The resource whose tags apply where the ARN names a part that is never tagged on its own:
/// S3 object → bucket, DynamoDB index or stream → table, Lambda version or alias → function,
/// log stream → log group, SNS subscription → topic, Kinesis consumer → stream,
/// Step Functions execution → state machine.
pub fn parent(text: &str) -> Option<String> {
    let arn = Arn::parse(text)?;
    let prefix = |resource: &str| {
        format!(
            "arn:{}:{}:{}:{}:{}",
            arn.partition, arn.service, arn.region, arn.account, resource
        )
    };
    let r = arn.resource;
    match arn.service {
        "s3" => {
            let (bucket, key) = r.split_once('/')?;
            (!key.is_empty() || r.ends_with('/'))
                .then(|| format!("arn:{}:s3:::{}", arn.partition, bucket))
        }
        "dynamodb" => {
            let rest = r.strip_prefix("table/")?;
            let (table, _) = rest.split_once('/')?;
            Some(prefix(&format!("table/{table}")))
        }
        "lambda" => {
            let rest = r.strip_prefix("function:")?;
            let (name, _qualifier) = rest.split_once(':')?;
            Some(prefix(&format!("function:{name}")))
        }
        "logs" => {
            let rest = r.strip_prefix("log-group:")?;
            let (group, _) = rest.split_once(":log-stream:")?;
            Some(prefix(&format!("log-group:{group}")))
        }
        "sns" => {
            let (topic, _subscription) = r.split_once(':')?;
            Some(prefix(topic))
        }
        "kinesis" => {
            let rest = r.strip_prefix("stream/")?;
            let (stream, _) = rest.split_once("/consumer/")?;
            Some(prefix(&format!("stream/{stream}")))
        }
        "states" => {
            let rest = r.strip_prefix("execution:")?;
            let (machine, _) = rest.split_once(':')?;
            Some(prefix(&format!("stateMachine:{machine}")))
        }
        _ => None,
    }
}

/// Whether `child` names something inside `parent` (`group/g/deployments/d` in `group/g`).
pub fn inside(child: &str, parent: &str) -> bool {
    child.len() > parent.len()
        && child.starts_with(parent)
        && matches!(child.as_bytes()[parent.len()], b'/' | b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_to_tagging_api_form() {
        assert_eq!(
            normalize(" arn:aws:s3:us-east-1:111122223333:bucket/key ").unwrap(),
            "arn:aws:s3:::bucket/key"
        );
        assert_eq!(
            normalize("arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f:*").unwrap(),
            "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f"
        );
        assert_eq!(
            normalize("arn:aws:s3:::bucket/").unwrap(),
            "arn:aws:s3:::bucket"
        );
        assert_eq!(
            normalize("arn:aws:s3:::bucket/dir/").unwrap(),
            "arn:aws:s3:::bucket/dir/"
        );
        assert_eq!(normalize("i-123"), None);
    }

    #[test]
    fn parents_of_untaggable_parts() {
        let cases = [
            ("arn:aws:s3:::b/k/x.txt", Some("arn:aws:s3:::b")),
            ("arn:aws:s3:::b", None),
            (
                "arn:aws:dynamodb:r:1:table/t/index/i",
                Some("arn:aws:dynamodb:r:1:table/t"),
            ),
            (
                "arn:aws:lambda:r:1:function:f:3",
                Some("arn:aws:lambda:r:1:function:f"),
            ),
            ("arn:aws:lambda:r:1:function:f", None),
            (
                "arn:aws:logs:r:1:log-group:g:log-stream:s",
                Some("arn:aws:logs:r:1:log-group:g"),
            ),
            (
                "arn:aws:sns:r:1:topic:abc-123",
                Some("arn:aws:sns:r:1:topic"),
            ),
            (
                "arn:aws:states:r:1:execution:m:e",
                Some("arn:aws:states:r:1:stateMachine:m"),
            ),
        ];
        for (arn, want) in cases {
            assert_eq!(parent(arn).as_deref(), want, "{arn}");
        }
    }

    #[test]
    fn partitions() {
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("eu-west-1"), "aws");
    }
}
