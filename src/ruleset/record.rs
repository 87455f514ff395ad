//! The record as rules read it: the event's context for ARN templates, and a view of the
//! record whose top-level sections are parsed into trees only when a rule asks for them.
//!
//! The view smooths over how CloudTrail logs some calls, so that one rule reads every shape:
//! - a section logged as a JSON string holding an object is read as that object;
//! - query-API services (EC2 and others) log some calls as `{"<Call>Request": {...}}` and
//!   `{"<Call>Response": {...}}`: the wrapper is stepped over, list items logged as
//!   `{"tag": 1, "content": "id"}` are read as their content, and `{"item": ...}` or
//!   `{"member": ...}` inside the wrapper as a list;
//! - a service event (`AwsServiceEvent`) logs no request or response: its
//!   `serviceEventDetails` is read where rules look for the request, its
//!   `additionalEventData` (what it reports of a result) where they look for the response;
//! - percent-encoded strings are decoded ([`super::path::decoded`]).

use std::cell::OnceCell;

use serde_json::value::RawValue;

use super::path::{Node, Record};
use crate::arn;
use crate::event::Event;

/// Partition, region and account of the event, for building ARNs. The partition is the
/// caller's (calls never cross partitions), else the region's.
pub fn context_of<'e>(event: &'e Event) -> (&'e str, &'e str, &'e str) {
    let region = event.region().unwrap_or("");
    let identity = event.user_identity.as_ref();
    let caller_arn = identity.and_then(|i| {
        i.arn.as_deref().or_else(|| {
            i.session_context
                .as_ref()
                .and_then(|c| c.session_issuer.as_ref())
                .and_then(|s| s.arn.as_deref())
        })
    });
    // `arn:<partition>:...`: the partition alone, without parsing the whole ARN.
    let partition = caller_arn
        .and_then(|a| a.strip_prefix("arn:")?.split_once(':'))
        .map(|(partition, _)| partition)
        .filter(|p| p.starts_with("aws"))
        .unwrap_or_else(|| arn::partition_of(region));
    (partition, region, event.owner_account().unwrap_or(""))
}

/// The record as rules see it: a top-level field is read into a tree only when a rule asks
/// for it, from the raw JSON the event kept, so most of a record is never turned into a tree.
pub struct LazyRecord<'e, 'a> {
    event: &'e Event<'a>,
    json: &'e str,
    sections: [OnceCell<Option<Node<'e>>>; 8],
    whole: OnceCell<Option<Node<'e>>>,
}

impl<'e, 'a> LazyRecord<'e, 'a> {
    /// `json` is the text `event` was read from.
    pub fn new(event: &'e Event<'a>, json: &'e str) -> Self {
        LazyRecord {
            event,
            json,
            sections: Default::default(),
            whole: OnceCell::new(),
        }
    }

    /// `requestParameters` (or `responseElements`, by `suffix`), the query-API wrapper stepped
    /// over; for a service event without them, its details.
    fn call_section(&self, raw: Option<&'e RawValue>, suffix: &str) -> Option<Node<'e>> {
        let e = self.event;
        let node = section(raw).filter(|n| !matches!(n, Node::Other));
        let Some(node) = node else {
            if e.event_type.as_deref() != Some("AwsServiceEvent") {
                return None;
            }
            // Its details stand for the request; what it reports of a result, for the response.
            return match suffix {
                "Request" => section(e.service_event_details),
                _ => section(e.additional_event_data),
            };
        };
        let text = raw.map_or("", RawValue::get);
        let name = super::strip_api_version(&e.event_name);
        Some(unwrap_query_call(node, name, suffix, text))
    }
}

impl<'e> Record for LazyRecord<'e, '_> {
    fn section(&self, root: &str) -> Option<&Node<'_>> {
        let e = self.event;
        let text = |t: Option<&'e str>| t.map(|t| Node::String(t.into()));
        let (slot, make): (usize, &dyn Fn() -> Option<Node<'e>>) = match root {
            "requestParameters" => (0, &|| self.call_section(e.request_parameters, "Request")),
            "responseElements" => (1, &|| self.call_section(e.response_elements, "Response")),
            "additionalEventData" => (2, &|| section(e.additional_event_data)),
            "serviceEventDetails" => (3, &|| section(e.service_event_details)),
            "eventName" => (4, &|| text(Some(&e.event_name))),
            "eventSource" => (5, &|| text(Some(&e.event_source))),
            "awsRegion" => (6, &|| text(e.aws_region.as_deref())),
            "recipientAccountId" => (7, &|| text(e.recipient_account_id.as_deref())),
            _ => {
                return self
                    .whole
                    .get_or_init(|| Node::parse(self.json))
                    .as_ref()?
                    .get(root)
            }
        };
        self.sections[slot].get_or_init(make).as_ref()
    }
}

/// A raw section as a tree; one logged as a JSON string holding an object (some exports,
/// `serviceEventDetails` of some service events) as that object.
fn section(raw: Option<&RawValue>) -> Option<Node<'_>> {
    let node = Node::parse(raw?.get())?;
    if let Node::String(text) = &node {
        if text.trim_start().starts_with('{') {
            if let Some(inner) = Node::parse(text) {
                return Some(inner.into_owned());
            }
        }
    }
    Some(node)
}

/// `{"<Call>Request": {...}}` → `{...}`, with list items and `item`/`member` lists read as
/// the lists they stand for. Outside a wrapper, only `{"tag": n, "content": v}` items (looked
/// for only where the text holds them).
fn unwrap_query_call<'n>(node: Node<'n>, call: &str, suffix: &str, text: &str) -> Node<'n> {
    let wrapped = match &node {
        Node::Object(entries) => {
            entries.len() == 1
                && is_wrapper(&entries[0].0, call, suffix)
                && matches!(entries[0].1, Node::Object(_) | Node::String(_))
        }
        _ => false,
    };
    if wrapped {
        let Node::Object(mut entries) = node else {
            unreachable!("checked above")
        };
        return match entries.pop().map(|(_, inner)| inner) {
            Some(inner @ Node::Object(_)) => smooth(inner, true),
            _ => Node::Object(Vec::new()),
        };
    }
    if memchr::memmem::find(text.as_bytes(), b"\"content\"").is_some() {
        return smooth(node, false);
    }
    node
}

/// The name of a query-API wrapper: `<Call>Request` (`<Call>Response`), or an abbreviation of
/// it that EC2 logs for some calls (`DelTGwVpcAttachReq` for DeleteTransitGatewayVpcAttachment):
/// a PascalCase key ending so, alone in the section.
fn is_wrapper(key: &str, call: &str, suffix: &str) -> bool {
    if key.strip_suffix(suffix) == Some(call) {
        return true;
    }
    let short = if suffix == "Request" { "Req" } else { suffix };
    key.starts_with(|c: char| c.is_ascii_uppercase())
        && (key.ends_with(suffix) || key.ends_with(short))
        && key.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Reads the query API's list encodings as lists. A list item is logged with its position as
/// `tag`: `{"tag": 1, "content": "id"}` for a value, the structure's members beside `tag` for
/// a structure (only inside a wrapper). Items are read as the value or the structure without
/// `tag`, and an item standing alone (a one-item list) as a list of one. Inside a wrapper,
/// `{"item": x}` and `{"member": x}` are read as the list of `x`.
fn smooth(node: Node<'_>, in_wrapper: bool) -> Node<'_> {
    match node {
        Node::Array(items) => Node::Array(
            items
                .into_iter()
                .map(|v| unlisted(v, in_wrapper).unwrap_or_else(|v| smooth(v, in_wrapper)))
                .collect(),
        ),
        node => match unlisted(node, in_wrapper) {
            Ok(item) => Node::Array(vec![item]),
            Err(Node::Object(entries)) => {
                if in_wrapper && entries.len() == 1 && matches!(&*entries[0].0, "item" | "member") {
                    let mut entries = entries;
                    return match entries.pop().map(|(_, v)| smooth(v, in_wrapper)) {
                        Some(Node::Array(items)) => Node::Array(items),
                        Some(one) => Node::Array(vec![one]),
                        None => Node::Array(Vec::new()),
                    };
                }
                Node::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k, smooth(v, in_wrapper)))
                        .collect(),
                )
            }
            Err(other) => other,
        },
    }
}

/// A list item as what it holds (`Ok`), or the node unchanged (`Err`) when it is not one.
fn unlisted(node: Node<'_>, in_wrapper: bool) -> Result<Node<'_>, Node<'_>> {
    let Node::Object(entries) = node else {
        return Err(node);
    };
    let tagged = entries
        .iter()
        .any(|(k, v)| k == "tag" && matches!(v, Node::Number(_)));
    let content = entries.iter().position(|(k, _)| k == "content");
    match content {
        Some(at) if tagged && entries.len() == 2 => {
            let mut entries = entries;
            Ok(smooth(entries.swap_remove(at).1, in_wrapper))
        }
        None if tagged && in_wrapper => Ok(Node::Object(
            entries
                .into_iter()
                .filter(|(k, _)| k != "tag")
                .map(|(k, v)| (k, smooth(v, in_wrapper)))
                .collect(),
        )),
        _ => Err(Node::Object(entries)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::JsonPath;

    fn select(json: &str, path: &str) -> Vec<String> {
        let event = Event::parse(json).unwrap();
        let record = LazyRecord::new(&event, json);
        JsonPath::parse(path).unwrap().select(&record)
    }

    /// Shapes of real EC2 records (stratus-red-team, traildiscover; tests/corpus).
    #[test]
    fn query_api_wrappers_are_stepped_over() {
        let one = r#"{"eventSource":"ec2.amazonaws.com","eventName":"DescribeNatGateways",
            "requestParameters":{"DescribeNatGatewaysRequest":{"NatGatewayId":{"tag":1,"content":"nat-1"}}}}"#;
        assert_eq!(select(one, "requestParameters.natGatewayId"), ["nat-1"]);
        assert_eq!(select(one, "requestParameters.natGatewayId[*]"), ["nat-1"]);
        // A one-item list of structures (the query API's `Filter.1.Name`).
        let filter = r#"{"eventSource":"ec2.amazonaws.com","eventName":"DescribeVpcEndpoints",
            "requestParameters":{"DescribeVpcEndpointsRequest":{"Filter":{"Value":{"tag":1,"content":"vpc-1"},"tag":1,"Name":"vpc-id"}}}}"#;
        assert_eq!(
            select(filter, "requestParameters.filter[*].value"),
            ["vpc-1"]
        );
        assert_eq!(
            select(filter, "requestParameters.filter[name=vpc-id].value"),
            ["vpc-1"]
        );

        let many = r#"{"eventSource":"ec2.amazonaws.com","eventName":"ModifyTrafficMirrorSession",
            "requestParameters":{"ModifyTrafficMirrorSessionRequest":{"RemoveField":[{"content":"description","tag":1},{"content":"packet-length","tag":2}],
            "TrafficMirrorSessionId":"tms-1"}}}"#;
        assert_eq!(
            select(many, "requestParameters.removeField"),
            ["description", "packet-length"]
        );
        assert_eq!(
            select(many, "requestParameters.trafficMirrorSessionId"),
            ["tms-1"]
        );
        let response = r#"{"eventSource":"ec2.amazonaws.com","eventName":"CreateFlowLogs","requestParameters":null,
            "responseElements":{"CreateFlowLogsResponse":{"xmlns":"http://ec2.amazonaws.com/doc/2016-11-15/",
            "flowLogIdSet":{"item":"fl-1"}}}}"#;
        assert_eq!(
            select(response, "responseElements.flowLogIdSet[*]"),
            ["fl-1"]
        );
        let empty = r#"{"eventSource":"ec2.amazonaws.com","eventName":"CreateDefaultVpc",
            "requestParameters":{"CreateDefaultVpcRequest":""}}"#;
        assert!(select(empty, "requestParameters[*]").is_empty());
        // An abbreviated wrapper (cloud custodian's DeleteTransitGatewayVpcAttachment).
        let short = r#"{"eventSource":"ec2.amazonaws.com","eventName":"DeleteTransitGatewayVpcAttachment",
            "requestParameters":{"DelTGwVpcAttachReq":{"TransitGatewayAttachmentId":"tgw-attach-1"}}}"#;
        assert_eq!(
            select(short, "requestParameters.transitGatewayAttachmentId"),
            ["tgw-attach-1"]
        );
        // A member that is not a wrapper: lower case, or beside others.
        let member = r#"{"eventSource":"acm-pca.amazonaws.com","eventName":"X",
            "requestParameters":{"certificateRequest":{"Id":"a"}}}"#;
        assert_eq!(
            select(member, "requestParameters.certificateRequest.Id"),
            ["a"]
        );
        let beside = r#"{"eventSource":"x.amazonaws.com","eventName":"X",
            "requestParameters":{"YRequest":{"Id":"a"},"b":"c"}}"#;
        assert_eq!(select(beside, "requestParameters.YRequest.Id"), ["a"]);
    }

    /// Shapes of real service events (invictus, panther; tests/corpus).
    #[test]
    fn a_service_event_is_read_through_its_details() {
        let snapshot = r#"{"eventSource":"ec2.amazonaws.com","eventName":"SharedSnapshotVolumeCreated",
            "eventType":"AwsServiceEvent","requestParameters":null,"serviceEventDetails":{"snapshotId":"snap-1"}}"#;
        assert_eq!(select(snapshot, "requestParameters.snapshotId"), ["snap-1"]);
        let secret = r#"{"eventSource":"secretsmanager.amazonaws.com","eventName":"StartSecretVersionDelete",
            "eventType":"AwsServiceEvent","additionalEventData":{"ARN":"arn:aws:secretsmanager:us-east-1:1:secret:s"}}"#;
        assert_eq!(
            select(secret, "responseElements.aRN"),
            ["arn:aws:secretsmanager:us-east-1:1:secret:s"]
        );
        let text = r#"{"eventSource":"organizations.amazonaws.com","eventName":"CreateAccountResult",
            "eventType":"AwsServiceEvent",
            "serviceEventDetails":"{\n  \"createAccountStatus\": {\"accountId\": \"111122223333\"}\n}"}"#;
        assert_eq!(
            select(text, "serviceEventDetails.createAccountStatus.accountId"),
            ["111122223333"]
        );
        assert_eq!(
            select(text, "requestParameters.createAccountStatus.accountId"),
            ["111122223333"]
        );
        // A call's own request is never replaced.
        let call = r#"{"eventSource":"ec2.amazonaws.com","eventName":"X","requestParameters":{"a":"1"},
            "serviceEventDetails":{"a":"2"}}"#;
        assert_eq!(select(call, "requestParameters.a"), ["1"]);
    }
}
