//! The record as rules read it: the event's context for ARN templates, and a view of the
//! record whose top-level sections are parsed into trees only when a rule asks for them.

use std::cell::OnceCell;

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
}

impl<'e> Record for LazyRecord<'e, '_> {
    fn section(&self, root: &str) -> Option<&Node<'_>> {
        let e = self.event;
        let raw = |r: Option<&'e serde_json::value::RawValue>| r.and_then(|r| Node::parse(r.get()));
        let text = |t: Option<&'e str>| t.map(|t| Node::String(t.into()));
        let (slot, make): (usize, &dyn Fn() -> Option<Node<'e>>) = match root {
            "requestParameters" => (0, &|| raw(e.request_parameters)),
            "responseElements" => (1, &|| raw(e.response_elements)),
            "additionalEventData" => (2, &|| raw(e.additional_event_data)),
            "serviceEventDetails" => (3, &|| raw(e.service_event_details)),
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
