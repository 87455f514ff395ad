//! `Event`: the typed fields of one CloudTrail record that tagtrail uses.
//!
//! In: the JSON text of one record (borrowed from the decoded input). Out: an [`Event`] whose
//! strings borrow from that text where they can. Everything tagtrail does not need stays raw
//! JSON, so a rule that asks for a path parses only then (see `ruleset::path`).

pub mod decode;

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::value::MapAccessDeserializer;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

pub use decode::{decode, Item, LookupResource, Position, RawRecord};

/// Where a record was read: the input (shared by all its records) and the position in it.
/// Displays as `path:line 3`, `path:record 12`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordSource {
    pub input: Arc<str>,
    pub position: Position,
}

impl std::fmt::Display for RecordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.input, self.position)
    }
}

/// One CloudTrail record, as much of it as tagtrail reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub event_version: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub event_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub event_source: Cow<'a, str>,
    #[serde(borrow)]
    pub event_name: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub aws_region: Option<Cow<'a, str>>,
    #[serde(rename = "eventID", borrow, default, deserialize_with = "borrowed")]
    pub event_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub event_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub event_category: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub recipient_account_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub user_identity: Option<UserIdentity<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub error_code: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub error_message: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub read_only: Option<bool>,
    /// Entries that are not objects (some exports hold strings) are left out.
    #[serde(borrow, default, deserialize_with = "lenient_resources")]
    pub resources: Option<Vec<RecordResource<'a>>>,
    #[serde(borrow, default)]
    pub request_parameters: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub response_elements: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub additional_event_data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub service_event_details: Option<&'a RawValue>,
    /// Shared by the copies of one cross-account call logged in both accounts.
    #[serde(
        rename = "sharedEventID",
        borrow,
        default,
        deserialize_with = "borrowed"
    )]
    pub shared_event_id: Option<Cow<'a, str>>,
    /// Set on a record CloudTrail delivered again with corrected fields.
    #[serde(borrow, default, deserialize_with = "lenient")]
    pub addendum: Option<Addendum<'a>>,
}

/// `addendum`: this record replaces an earlier delivery of the same event.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addendum<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub reason: Option<Cow<'a, str>>,
    #[serde(
        rename = "originalEventID",
        borrow,
        default,
        deserialize_with = "borrowed"
    )]
    pub original_event_id: Option<Cow<'a, str>>,
}

/// `userIdentity`: who made the call. Its fields are also read in lower case, as Athena's
/// JSON SerDe reads them (records exported from Athena or Glue tables are spelled so).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "borrowed")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(alias = "principalid", borrow, default, deserialize_with = "borrowed")]
    pub principal_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub arn: Option<Cow<'a, str>>,
    #[serde(alias = "accountid", borrow, default, deserialize_with = "borrowed")]
    pub account_id: Option<Cow<'a, str>>,
    #[serde(alias = "accesskeyid", borrow, default, deserialize_with = "borrowed")]
    pub access_key_id: Option<Cow<'a, str>>,
    #[serde(alias = "username", borrow, default, deserialize_with = "borrowed")]
    pub user_name: Option<Cow<'a, str>>,
    #[serde(alias = "invokedby", borrow, default, deserialize_with = "borrowed")]
    pub invoked_by: Option<Cow<'a, str>>,
    #[serde(
        alias = "identityprovider",
        borrow,
        default,
        deserialize_with = "borrowed"
    )]
    pub identity_provider: Option<Cow<'a, str>>,
    #[serde(alias = "sessioncontext", borrow, default)]
    pub session_context: Option<SessionContext<'a>>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext<'a> {
    #[serde(alias = "sessionissuer", borrow, default)]
    pub session_issuer: Option<SessionIssuer<'a>>,
    #[serde(
        alias = "sourceidentity",
        borrow,
        default,
        deserialize_with = "borrowed"
    )]
    pub source_identity: Option<Cow<'a, str>>,
}

/// `userIdentity.sessionContext.sessionIssuer`: the role or user behind a session.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer<'a> {
    #[serde(rename = "type", borrow, default, deserialize_with = "borrowed")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub arn: Option<Cow<'a, str>>,
    #[serde(alias = "accountid", borrow, default, deserialize_with = "borrowed")]
    pub account_id: Option<Cow<'a, str>>,
    #[serde(alias = "username", borrow, default, deserialize_with = "borrowed")]
    pub user_name: Option<Cow<'a, str>>,
}

/// One entry of the record's `resources[]`.
#[derive(Debug, Deserialize)]
pub struct RecordResource<'a> {
    #[serde(
        rename = "ARN",
        alias = "arn",
        borrow,
        default,
        deserialize_with = "borrowed"
    )]
    pub arn: Option<Cow<'a, str>>,
    #[serde(rename = "ARNPrefix", borrow, default, deserialize_with = "borrowed")]
    pub arn_prefix: Option<Cow<'a, str>>,
    #[serde(rename = "accountId", borrow, default, deserialize_with = "borrowed")]
    pub account_id: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default, deserialize_with = "borrowed")]
    pub kind: Option<Cow<'a, str>>,
}

impl<'a> Event<'a> {
    /// Parses one record; the error names the field that is missing or of the wrong type.
    pub fn parse(json: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The account that owns what the call touched: `recipientAccountId`; in a record without
    /// it (older event versions, exports that project fields), what the rest of the record
    /// says (see [`Event::inferred_owner`]).
    pub fn owner_account(&self) -> Option<&str> {
        self.recipient_account_id
            .as_deref()
            .filter(|a| !a.is_empty())
            .or_else(|| self.inferred_owner())
    }

    /// The owner's account of a record without `recipientAccountId`: the account `resources[]`
    /// names; else the caller's account when the record's own ARNs and account members
    /// include it (or there are none); else the account of an ARN of the call's own service,
    /// an account member (`accountId`, `ownerId`...), the caller's, an ARN of another service.
    fn inferred_owner(&self) -> Option<&str> {
        if let Some(account) = self
            .resources
            .iter()
            .flatten()
            .filter_map(|r| r.account_id.as_deref())
            .find(|a| is_account(a))
        {
            return Some(account);
        }
        let caller = self.caller_account_from_identity();
        let own_service = crate::arn::service_of(&self.event_source);
        let (mut own, mut other, mut members) = (Vec::new(), Vec::new(), Vec::new());
        for raw in [
            self.request_parameters,
            self.response_elements,
            self.additional_event_data,
            self.service_event_details,
        ]
        .into_iter()
        .flatten()
        {
            let text = raw.get();
            for arn in arns_in_text(text) {
                if let Some(parsed) = crate::arn::Arn::parse(arn).filter(|a| is_account(a.account))
                {
                    if parsed.service == own_service {
                        own.push(parsed.account);
                    } else {
                        other.push(parsed.account);
                    }
                }
            }
            members.extend(account_members(text));
        }
        let named = || own.iter().chain(&members).chain(&other);
        match caller {
            Some(c) if named().next().is_none() || named().any(|a| *a == c) => Some(c),
            _ => own
                .first()
                .or(members.first())
                .copied()
                .or(caller)
                .or_else(|| other.first().copied()),
        }
    }

    /// The caller's account as the identity gives it: `accountId`, the account of its ARN or
    /// of its session issuer, or a root's principal id.
    fn caller_account_from_identity(&self) -> Option<&str> {
        let identity = self.user_identity.as_ref()?;
        fn arn_account(arn: Option<&str>) -> Option<&str> {
            crate::arn::Arn::parse(arn?)
                .map(|a| a.account)
                .filter(|a| is_account(a))
        }
        let issuer = identity
            .session_context
            .as_ref()
            .and_then(|c| c.session_issuer.as_ref());
        identity
            .account_id
            .as_deref()
            .filter(|a| is_account(a))
            .or_else(|| arn_account(identity.arn.as_deref()))
            .or_else(|| issuer.and_then(|i| i.account_id.as_deref().filter(|a| is_account(a))))
            .or_else(|| arn_account(issuer.and_then(|i| i.arn.as_deref())))
            .or_else(|| identity.principal_id.as_deref().filter(|a| is_account(a)))
    }

    /// The region of the call, if the record names one.
    pub fn region(&self) -> Option<&str> {
        self.aws_region.as_deref().filter(|r| !r.is_empty())
    }

    /// The caller's account (`userIdentity.accountId`).
    pub fn caller_account(&self) -> Option<&str> {
        self.user_identity
            .as_ref()?
            .account_id
            .as_deref()
            .filter(|a| !a.is_empty())
    }

    /// The copy of a cross-account call logged in the account that received it (and owns
    /// the resource), as opposed to the caller's copy: both carry the same `sharedEventID`.
    pub fn is_owner_copy(&self) -> bool {
        match (self.recipient_account_id.as_deref(), self.caller_account()) {
            (Some(recipient), Some(caller)) => !recipient.is_empty() && recipient != caller,
            _ => false,
        }
    }

    /// A CloudTrail Insights record, which describes a pattern of calls rather than one call.
    pub fn is_insight(&self) -> bool {
        self.event_category.as_deref() == Some("Insight")
            || self.event_type.as_deref() == Some("AwsCloudTrailInsight")
    }
}

/// A 12-digit AWS account id.
fn is_account(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The ARNs written as whole JSON strings in a JSON text (`"arn:aws:...:..."`), as slices of it.
fn arns_in_text(text: &str) -> impl Iterator<Item = &str> {
    memchr::memmem::find_iter(text.as_bytes(), b"\"arn:").filter_map(move |at| {
        let start = at + 1;
        let end = start + text[start..].find('"')?;
        Some(&text[start..end])
    })
}

/// The values of members that name an account (`"accountId": "123456789012"`, `ownerId`,
/// `awsAccountId`...) in a JSON text, as slices of it.
fn account_members(text: &str) -> impl Iterator<Item = &str> {
    const KEYS: &[&str] = &[
        "accountid",
        "awsaccountid",
        "owneraccountid",
        "ownerid",
        "owneraccount",
        "account",
    ];
    text.match_indices('"').filter_map(move |(at, _)| {
        let rest = &text[at + 1..];
        let key = &rest[..rest.find('"')?];
        if !KEYS.iter().any(|k| key.eq_ignore_ascii_case(k)) {
            return None;
        }
        let value = rest[key.len() + 1..].trim_start().strip_prefix(':')?;
        let value = value.trim_start().strip_prefix('"')?;
        let value = &value[..value.find('"')?];
        is_account(value).then_some(value)
    })
}

/// A string field that borrows from the input unless it holds escapes. serde's own
/// `Option<Cow<str>>` always copies: its `borrow` attribute reaches only a bare `Cow<str>`.
fn borrowed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(Option::<BorrowedStr>::deserialize(d)?.map(|s| s.0))
}

/// A JSON string, borrowed from the input unless it holds escapes: for places serde's
/// `borrow` attribute does not reach (optional fields, map keys).
pub(crate) struct BorrowedStr<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for BorrowedStr<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(s)))
            }
        }
        d.deserialize_str(Text)
    }
}

/// A field of an unexpected shape is read as absent rather than failing the whole record.
/// Reads in one pass without buffering, so strings still borrow from the input.
fn lenient<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(Lenient::<Object<T>>::deserialize(d)?.0)
}

/// `resources[]`, keeping the entries that are objects.
fn lenient_resources<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<RecordResource<'a>>>, D::Error> {
    Ok(Lenient::<ObjectsIn<RecordResource<'a>>>::deserialize(d)?.0)
}

/// What a lenient field accepts: an object, or an array. Any other JSON value (and the other
/// of the two) is skipped and read as `None`.
trait Shape<'de>: Sized {
    type Out;
    fn from_map<M: MapAccess<'de>>(mut map: M) -> Result<Option<Self::Out>, M::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn from_seq<S: SeqAccess<'de>>(mut seq: S) -> Result<Option<Self::Out>, S::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// A `T` read from a JSON object.
struct Object<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Shape<'de> for Object<T> {
    type Out = T;
    fn from_map<M: MapAccess<'de>>(map: M) -> Result<Option<T>, M::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Some)
    }
}

/// The elements of a JSON array that are objects, each read as a `T`.
struct ObjectsIn<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Shape<'de> for ObjectsIn<T> {
    type Out = Vec<T>;
    fn from_seq<S: SeqAccess<'de>>(mut seq: S) -> Result<Option<Vec<T>>, S::Error> {
        let mut out = Vec::new();
        while let Some(entry) = seq.next_element::<Lenient<Object<T>>>()? {
            out.extend(entry.0);
        }
        Ok(Some(out))
    }
}

/// The value of shape `S`, or `None` for any other JSON value.
struct Lenient<'de, S: Shape<'de>>(Option<S::Out>, PhantomData<&'de ()>);

impl<'de, S: Shape<'de>> Deserialize<'de> for Lenient<'de, S> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor::<S>(PhantomData))
            .map(|value| Lenient(value, PhantomData))
    }
}

struct LenientVisitor<S>(PhantomData<S>);

impl<'de, S: Shape<'de>> Visitor<'de> for LenientVisitor<S> {
    type Value = Option<S::Out>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
        S::from_map(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        S::from_seq(seq)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Lenient::<S>::deserialize(d).map(|l| l.0)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// `readOnly` is a JSON boolean in CloudTrail, a string in some exports.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag<'a> {
        Bool(bool),
        Text(Cow<'a, str>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Flag>::deserialize(d)? {
        Some(Flag::Bool(b)) => Some(b),
        Some(Flag::Text(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(Flag::Text(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_and_reads_fields() {
        let json = r#"{"eventSource":"ec2.amazonaws.com","eventName":"StartInstances","awsRegion":"us-east-1",
            "recipientAccountId":"111122223333","readOnly":"false",
            "userIdentity":{"type":"AssumedRole","accountId":"444455556666"},
            "requestParameters":{"instancesSet":{"items":[{"instanceId":"i-1"}]}}}"#;
        let event = Event::parse(json).unwrap();
        assert_eq!(event.event_name, "StartInstances");
        assert_eq!(event.owner_account(), Some("111122223333"));
        assert_eq!(event.read_only, Some(false));
        assert!(event.request_parameters.unwrap().get().contains("i-1"));
        // Optional strings borrow from the input too (serde's `Option<Cow>` would copy).
        assert!(matches!(event.aws_region, Some(Cow::Borrowed("us-east-1"))));
        let identity = event.user_identity.unwrap();
        assert!(matches!(identity.account_id, Some(Cow::Borrowed(_))));
        let escaped = Event::parse(
            r#"{"eventSource":"s","eventName":"n","eventID":"a\u0041","errorCode":null}"#,
        )
        .unwrap();
        assert_eq!(escaped.event_id.as_deref(), Some("aA"));
        assert_eq!(escaped.error_code, None);
        assert!(Event::parse(r#"{"eventSource":"s","eventName":"n","awsRegion":5}"#).is_err());
    }

    #[test]
    fn odd_shapes_do_not_fail_the_record() {
        let json = r#"{"eventSource":"sts.amazonaws.com","eventName":"AssumeRole","userIdentity":"x",
            "resources":["{'arn': 'x'}", {"ARN":"arn:aws:iam::1:role/r"}]}"#;
        let event = Event::parse(json).unwrap();
        assert!(event.user_identity.is_none());
        let resources = event.resources.unwrap();
        assert_eq!(resources.len(), 1);
        assert_eq!(resources[0].arn.as_deref(), Some("arn:aws:iam::1:role/r"));
        let json = r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject",
            "userIdentity":[{"type":"IAMUser"}],"resources":{"ARN":"arn:aws:s3:::b"},"readOnly":7}"#;
        let event = Event::parse(json).unwrap();
        assert!(event.user_identity.is_none() && event.resources.is_none());
        assert_eq!(event.read_only, None);
    }

    /// Records without `recipientAccountId` (older event versions, exports that project
    /// fields): shapes of real records of tests/corpus (panther, streamalert), and of service
    /// events, whose identity names no account.
    #[test]
    fn a_record_without_recipient_account_takes_its_owner_from_the_rest_of_it() {
        let owner = |json: &str| {
            Event::parse(json)
                .unwrap()
                .owner_account()
                .map(str::to_string)
        };
        // A root's identity names its account only in its principal id.
        let root = r#"{"eventSource":"ec2.amazonaws.com","eventName":"CreateImage",
            "userIdentity":{"type":"Root","principalId":"444444444444"},"requestParameters":{"instanceId":"i-1"}}"#;
        assert_eq!(owner(root).as_deref(), Some("444444444444"));
        // An ARN of the call's own service, in another account than the caller's.
        let cross = r#"{"eventSource":"lambda.amazonaws.com","eventName":"GetFunction",
            "userIdentity":{"accountId":"111111111111"},
            "requestParameters":{"functionName":"arn:aws:lambda:us-east-1:222222222222:function:f"}}"#;
        assert_eq!(owner(cross).as_deref(), Some("222222222222"));
        // The caller's account, when the record's ARNs include it.
        let own = r#"{"eventSource":"lambda.amazonaws.com","eventName":"GetFunction",
            "userIdentity":{"arn":"arn:aws:iam::111111111111:user/u"},
            "requestParameters":{"functionName":"arn:aws:lambda:us-east-1:111111111111:function:f",
                                 "role":"arn:aws:iam::333333333333:role/r"}}"#;
        assert_eq!(owner(own).as_deref(), Some("111111111111"));
        // A service event: no identity account, an ARN in additionalEventData.
        let service = r#"{"eventSource":"secretsmanager.amazonaws.com","eventName":"StartSecretVersionDelete",
            "eventType":"AwsServiceEvent","userIdentity":{"invokedBy":"secretsmanager.amazonaws.com"},
            "additionalEventData":{"ARN":"arn:aws:secretsmanager:us-east-1:123837392027:secret:s-a1b2c3"}}"#;
        assert_eq!(owner(service).as_deref(), Some("123837392027"));
        // An account member, and resources[] before everything.
        let member = r#"{"eventSource":"ec2.amazonaws.com","eventName":"X","userIdentity":{"type":"AssumedRole"},
            "responseElements":{"ownerId" : "555555555555"}}"#;
        assert_eq!(owner(member).as_deref(), Some("555555555555"));
        let listed = r#"{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","userIdentity":{"accountId":"111111111111"},
            "resources":[{"ARN":"arn:aws:kms:us-east-1:666666666666:key/k","accountId":"666666666666"}]}"#;
        assert_eq!(owner(listed).as_deref(), Some("666666666666"));
        let nothing = r#"{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets"}"#;
        assert_eq!(owner(nothing), None);
    }

    #[test]
    fn missing_event_source_is_an_error() {
        let err = Event::parse(r#"{"eventName":"X"}"#).unwrap_err();
        assert!(err.to_string().contains("eventSource"), "{err}");
    }
}
