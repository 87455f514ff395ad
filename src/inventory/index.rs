//! Completing ARNs that cannot be built from a name alone, against the ARNs an inventory knows:
//! Secrets Manager's random suffix, IAM paths, CloudFormation stack ids, Auto Scaling group ids.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use crate::arn::Arn;

/// How a built ARN (the "stem") is completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// `…:secret:name` → `…:secret:name-AbCdEf` (a dash and six characters).
    RandomSuffix,
    /// `arn:aws:iam::1:role/name` → `arn:aws:iam::1:role/some/path/name`.
    Path,
    /// `…:stack/name` → `…:stack/name/<id>`.
    IdSuffix,
    /// `…:autoScalingGroup:*:autoScalingGroupName/web` → the ARN with an id (no `:` or `/`)
    /// where the `*` is: a format with an id no record names.
    AnyId,
}

impl Completion {
    /// The names used in rule files.
    pub const NAMES: &[&str] = &["random-suffix", "path", "id-suffix", "any-id"];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "random-suffix" => Some(Completion::RandomSuffix),
            "path" => Some(Completion::Path),
            "id-suffix" => Some(Completion::IdSuffix),
            "any-id" => Some(Completion::AnyId),
            _ => None,
        }
    }
}

/// The ARNs known to an inventory, indexed for completion.
#[derive(Debug, Default, Clone)]
pub struct ArnIndex {
    arns: BTreeSet<Arc<str>>,
    /// IAM ARN without path → the ARN with its path.
    iam_without_path: HashMap<String, String>,
}

impl ArnIndex {
    pub fn insert(&mut self, arn: &str) {
        self.insert_shared(Arc::from(arn));
    }

    /// Inserts an ARN the caller keeps too, without copying it.
    pub fn insert_shared(&mut self, arn: Arc<str>) {
        if let Some(short) = iam_without_path(&arn) {
            self.iam_without_path.insert(short, arn.to_string());
        }
        self.arns.insert(arn);
    }

    /// The one known ARN that completes `stem`; `None` when there is none or it is ambiguous.
    pub fn complete(&self, stem: &str, how: Completion) -> Option<String> {
        if self.arns.contains(stem) {
            return Some(stem.to_string());
        }
        match how {
            Completion::Path => self.iam_without_path.get(stem).cloned(),
            Completion::RandomSuffix => self.unique_with_prefix(&format!("{stem}-"), |rest| {
                rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            }),
            Completion::IdSuffix => self.unique_with_prefix(&format!("{stem}/"), |rest| {
                !rest.is_empty() && !rest.contains('/')
            }),
            Completion::AnyId => {
                let (before, after) = stem.split_once('*')?;
                self.unique_with_prefix(before, |rest| {
                    rest.strip_suffix(after)
                        .is_some_and(|id| !id.is_empty() && !id.contains([':', '/']))
                })
            }
        }
    }

    fn unique_with_prefix(&self, prefix: &str, rest_ok: impl Fn(&str) -> bool) -> Option<String> {
        let mut found = self
            .arns
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|a| a.starts_with(prefix))
            .filter(|a| rest_ok(&a[prefix.len()..]));
        let first = found.next()?;
        found.next().is_none().then(|| first.to_string())
    }
}

/// `arn:aws:iam::1:role/a/b/name` → `arn:aws:iam::1:role/name`, for users, roles, groups,
/// policies and instance profiles that carry a path.
fn iam_without_path(arn: &str) -> Option<String> {
    let parsed = Arn::parse(arn)?;
    if parsed.service != "iam" {
        return None;
    }
    let (kind, rest) = parsed.resource.split_once('/')?;
    let name = rest.rsplit('/').next()?;
    (name != rest).then(|| {
        format!(
            "arn:{}:iam::{}:{kind}/{name}",
            parsed.partition, parsed.account
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_suffixes_paths_and_ids() {
        let mut index = ArnIndex::default();
        for arn in [
            "arn:aws:secretsmanager:us-east-1:1:secret:db-pass-AbC123",
            "arn:aws:secretsmanager:us-east-1:1:secret:db-pass-old-XyZ789",
            "arn:aws:iam::1:role/service/deploy",
            "arn:aws:cloudformation:us-east-1:1:stack/web/0f1e2d3c-aaaa-bbbb-cccc-111122223333",
            "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:0f1e-22:autoScalingGroupName/web",
            "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:0f1e-23:autoScalingGroupName/web-2",
        ] {
            index.insert(arn);
        }
        let c = |stem, how| index.complete(stem, how);
        assert_eq!(
            c(
                "arn:aws:secretsmanager:us-east-1:1:secret:db-pass",
                Completion::RandomSuffix
            )
            .as_deref(),
            Some("arn:aws:secretsmanager:us-east-1:1:secret:db-pass-AbC123")
        );
        assert_eq!(
            c("arn:aws:iam::1:role/deploy", Completion::Path).as_deref(),
            Some("arn:aws:iam::1:role/service/deploy")
        );
        assert!(c(
            "arn:aws:cloudformation:us-east-1:1:stack/web",
            Completion::IdSuffix
        )
        .is_some());
        assert_eq!(c("arn:aws:iam::1:role/other", Completion::Path), None);
        let group = |name: &str| {
            format!(
                "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:*:autoScalingGroupName/{name}"
            )
        };
        assert_eq!(
            index.complete(&group("web"), Completion::AnyId).as_deref(),
            Some(
                "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:0f1e-22:autoScalingGroupName/web"
            )
        );
        assert_eq!(index.complete(&group("we"), Completion::AnyId), None);
    }
}
