//! Who acted: the IAM principal behind a CloudTrail record's `userIdentity`.
//!
//! In: an [`Event`]. Out: a [`Principal`] whose `arn` is the identity that carries tags in IAM:
//! the user, the role behind an assumed-role session (with its path, from `sessionIssuer`), the
//! account root, or nothing for AWS services.

use serde::Serialize;

use crate::arn::Arn;
use crate::event::Event;

/// What kind of identity acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalKind {
    /// An IAM user with long-term or session credentials.
    IamUser,
    /// A session of an IAM role (`AssumeRole`); the ARN is the role's.
    AssumedRole,
    /// A session of an IAM Identity Center permission set (`AWSReservedSSO_*` role).
    IdentityCenter,
    /// The account's root user.
    Root,
    /// A federated user (`GetFederationToken`); the ARN is the IAM user who federated.
    FederatedUser,
    /// A web identity or SAML session without a role ARN in the record.
    WebIdentity,
    /// An AWS service acting on its own (`AWSService`, or a service-linked role).
    AwsService,
    /// Another account, named only by its id (`AWSAccount`).
    AwsAccount,
    /// The record names no identity we can read.
    Unknown,
}

impl PrincipalKind {
    /// Every kind, in declaration order.
    pub const ALL: [PrincipalKind; 9] = [
        PrincipalKind::IamUser,
        PrincipalKind::AssumedRole,
        PrincipalKind::IdentityCenter,
        PrincipalKind::Root,
        PrincipalKind::FederatedUser,
        PrincipalKind::WebIdentity,
        PrincipalKind::AwsService,
        PrincipalKind::AwsAccount,
        PrincipalKind::Unknown,
    ];

    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::IamUser => "iam-user",
            PrincipalKind::AssumedRole => "assumed-role",
            PrincipalKind::IdentityCenter => "identity-center",
            PrincipalKind::Root => "root",
            PrincipalKind::FederatedUser => "federated-user",
            PrincipalKind::WebIdentity => "web-identity",
            PrincipalKind::AwsService => "aws-service",
            PrincipalKind::AwsAccount => "aws-account",
            PrincipalKind::Unknown => "unknown",
        }
    }
}

/// The identity behind a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The IAM ARN that carries the principal's tags (user, role, root), if there is one.
    pub arn: Option<String>,
    #[serde(rename = "type")]
    pub kind: PrincipalKind,
    /// The caller's account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The role session name, or the federated user's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// The service that made the call on the principal's behalf (`invokedBy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
    /// The caller's account differs from the account that received the call.
    pub cross_account: bool,
}

impl Principal {
    /// True for AWS services acting on their own: their findings are counted, not listed.
    pub fn is_service(&self) -> bool {
        self.kind == PrincipalKind::AwsService
    }
}

/// Reads the principal of one record.
pub fn principal_of(event: &Event) -> Principal {
    let identity = event.user_identity.as_ref();
    // Borrowed until the end: only what the principal keeps is copied.
    fn get<'a>(s: Option<&'a std::borrow::Cow<'_, str>>) -> Option<&'a str> {
        s.map(|c| c.as_ref()).filter(|s| !s.is_empty())
    }
    let kind_text = identity.and_then(|i| i.kind.as_deref()).unwrap_or("");
    let own_arn = identity.and_then(|i| get(i.arn.as_ref()));
    let issuer = identity
        .and_then(|i| i.session_context.as_ref())
        .and_then(|c| c.session_issuer.as_ref());
    let issuer_arn = issuer.and_then(|s| get(s.arn.as_ref()));
    let account_id = identity.and_then(|i| get(i.account_id.as_ref()));
    let invoked_by = identity.and_then(|i| get(i.invoked_by.as_ref()));

    let (kind, arn, session_name) = match kind_text {
        "IAMUser" => (PrincipalKind::IamUser, owned(own_arn), None),
        "AssumedRole" => {
            let session = own_arn.and_then(session_of_assumed_role);
            let role = owned(issuer_arn).or_else(|| own_arn.and_then(role_of_assumed_role));
            (role_kind(role.as_deref()), role, session)
        }
        "Root" => {
            let arn =
                owned(own_arn).or_else(|| account_id.map(|a| format!("arn:aws:iam::{a}:root")));
            (PrincipalKind::Root, arn, None)
        }
        "FederatedUser" => {
            let session =
                own_arn.and_then(|a| a.rsplit_once("federated-user/").map(|(_, n)| n.to_string()));
            (PrincipalKind::FederatedUser, owned(issuer_arn), session)
        }
        "WebIdentityUser" | "SAMLUser" => (
            PrincipalKind::WebIdentity,
            None,
            owned(get(identity.and_then(|i| i.user_name.as_ref()))),
        ),
        "AWSService" => (PrincipalKind::AwsService, None, None),
        "AWSAccount" => (PrincipalKind::AwsAccount, None, None),
        // Identity Center user-directory calls and older records name IAM users by ARN only.
        _ => match own_arn.and_then(Arn::parse) {
            Some(arn) if arn.service == "iam" && arn.resource.starts_with("user/") => {
                (PrincipalKind::IamUser, owned(own_arn), None)
            }
            _ if identity.is_none() || kind_text.is_empty() => {
                // Service events (`AwsServiceEvent`) often have no userIdentity at all.
                if event.event_type.as_deref() == Some("AwsServiceEvent") || invoked_by.is_some() {
                    (PrincipalKind::AwsService, None, None)
                } else {
                    (PrincipalKind::Unknown, None, None)
                }
            }
            _ => (PrincipalKind::Unknown, owned(own_arn), None),
        },
    };

    let cross_account = match (account_id, event.recipient_account_id.as_deref()) {
        (Some(caller), Some(owner)) => !owner.is_empty() && caller != owner,
        _ => false,
    };
    Principal {
        arn,
        kind,
        account_id: owned(account_id),
        session_name,
        access_key_id: owned(identity.and_then(|i| get(i.access_key_id.as_ref()))),
        invoked_by: owned(invoked_by),
        cross_account,
    }
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_string)
}

/// Identity Center roles and service-linked roles are told apart by name and path.
fn role_kind(role_arn: Option<&str>) -> PrincipalKind {
    let Some(resource) = role_arn.and_then(Arn::parse).map(|a| a.resource) else {
        return PrincipalKind::AssumedRole;
    };
    let name = resource.rsplit('/').next().unwrap_or(resource);
    if name.starts_with("AWSReservedSSO_") {
        PrincipalKind::IdentityCenter
    } else if resource.starts_with("role/aws-service-role/") {
        PrincipalKind::AwsService
    } else {
        PrincipalKind::AssumedRole
    }
}

/// `arn:aws:sts::1:assumed-role/Name/session` → `arn:aws:iam::1:role/Name` (path unknown).
fn role_of_assumed_role(arn: &str) -> Option<String> {
    let parsed = Arn::parse(arn)?;
    let rest = parsed.resource.strip_prefix("assumed-role/")?;
    let (role, _) = rest.split_once('/')?;
    Some(format!(
        "arn:{}:iam::{}:role/{}",
        parsed.partition, parsed.account, role
    ))
}

fn session_of_assumed_role(arn: &str) -> Option<String> {
    let rest = Arn::parse(arn)?.resource.strip_prefix("assumed-role/")?;
    rest.split_once('/').map(|(_, s)| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(identity: &str) -> Principal {
        let json = format!(
            r#"{{"eventSource":"x.amazonaws.com","eventName":"X","recipientAccountId":"111111111111","userIdentity":{identity}}}"#
        );
        principal_of(&Event::parse(&json).unwrap())
    }

    #[test]
    fn assumed_role_uses_the_issuer_with_its_path() {
        let p = principal(
            r#"{"type":"AssumedRole","arn":"arn:aws:sts::111111111111:assumed-role/deploy/alice","accountId":"111111111111",
            "accessKeyId":"ASIAX","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111111111111:role/ci/deploy"}}}"#,
        );
        assert_eq!(
            p.arn.as_deref(),
            Some("arn:aws:iam::111111111111:role/ci/deploy")
        );
        assert_eq!(p.kind, PrincipalKind::AssumedRole);
        assert_eq!(p.session_name.as_deref(), Some("alice"));
        assert_eq!(p.access_key_id.as_deref(), Some("ASIAX"));
        assert!(!p.cross_account);
    }

    #[test]
    fn identity_center_and_cross_account() {
        let p = principal(
            r#"{"type":"AssumedRole","arn":"arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Admin_0123/bob","accountId":"222222222222"}"#,
        );
        assert_eq!(p.kind, PrincipalKind::IdentityCenter);
        assert_eq!(
            p.arn.as_deref(),
            Some("arn:aws:iam::222222222222:role/AWSReservedSSO_Admin_0123")
        );
        assert!(p.cross_account);
    }

    #[test]
    fn users_root_and_services() {
        assert_eq!(
            principal(r#"{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"}"#).kind,
            PrincipalKind::IamUser
        );
        let root = principal(r#"{"type":"Root","accountId":"111111111111"}"#);
        assert_eq!(root.arn.as_deref(), Some("arn:aws:iam::111111111111:root"));
        let svc = principal(r#"{"type":"AWSService","invokedBy":"lambda.amazonaws.com"}"#);
        assert!(svc.is_service());
        assert_eq!(svc.invoked_by.as_deref(), Some("lambda.amazonaws.com"));
        let slr = principal(
            r#"{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"}}}"#,
        );
        assert!(slr.is_service());
    }
}
