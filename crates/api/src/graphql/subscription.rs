//! The event feed: catch up from a position, then follow live appends, filtered.
//!
//! The log's subscription is a blocking cursor; one thread per GraphQL subscription reads
//! it and hands events to the async side through a bounded channel. The thread stops
//! within a poll interval after the client goes away (the channel closes).

use std::collections::HashSet;
use std::time::Duration;

use async_graphql::{Context, Subscription};
use futures_util::Stream;
use kui_domain::YouthId;
use kui_log::{Envelope, Position};
use tokio::sync::mpsc;

use super::caller;
use super::types::LoggedEvent;
use crate::access::{authorize, Operation};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::ApiState;

/// How long the reading thread waits for a new event before checking that the client
/// is still there.
const POLL: Duration = Duration::from_millis(200);
/// Events read ahead and access-logged together.
const BATCH: usize = 256;

/// The root subscription.
#[derive(Default)]
pub struct EventSubscription;

/// Which events a feed delivers.
#[derive(Debug, Clone)]
struct Filter {
    streams: Vec<String>,
    types: Vec<String>,
}

impl Filter {
    /// A stream pattern ending in `*` matches by prefix (`youth-*`), otherwise exactly.
    fn matches(&self, envelope: &Envelope) -> bool {
        let stream = envelope.stream.as_str();
        let stream_ok = self.streams.is_empty()
            || self.streams.iter().any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => stream.starts_with(prefix),
                None => stream == pattern,
            });
        let type_ok = self.types.is_empty() || self.types.contains(&envelope.event_type);
        stream_ok && type_ok
    }
}

#[Subscription]
impl EventSubscription {
    /// Every event from `fromPosition` on (default 1), then live appends as they become
    /// durable, without gaps or duplicates. `streams` filters by stream (exact, or a
    /// prefix ending in `*` such as `youth-*`), `types` by event type; empty lists match
    /// everything. Delivering an event about a young person records a read of their case
    /// in the access log (once per young person per subscription).
    async fn events(
        &self,
        ctx: &Context<'_>,
        from_position: Option<u64>,
        #[graphql(default)] streams: Vec<String>,
        #[graphql(default)] types: Vec<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<LoggedEvent>>> {
        let (state, principal) = caller(ctx)?;
        authorize(principal, Operation::FollowEvents)?;
        let state = state.clone();
        let principal = principal.clone();
        let filter = Filter { streams, types };
        let from = Position(from_position.unwrap_or(1).max(1));
        Ok(feed("kui-event-feed", move |sender| {
            follow(&state, &principal, filter, from, sender)
        })?)
    }
}

/// Runs `work` on a thread of its own (it reads blocking log subscriptions) and streams
/// what it sends to the subscriber; the thread should stop once the sender is closed,
/// which happens when the client goes away.
pub(super) fn feed<T: Send + 'static>(
    name: &str,
    work: impl FnOnce(&mpsc::Sender<Result<T, ApiError>>) + Send + 'static,
) -> Result<impl Stream<Item = async_graphql::Result<T>>, ApiError> {
    let (sender, receiver) = mpsc::channel(BATCH);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || work(&sender))
        .map_err(|error| ApiError::internal(&error))?;
    Ok(futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|item| (item.map_err(async_graphql::Error::from), receiver))
    }))
}

/// Reads the log's subscription until the client goes away or the log fails.
fn follow(
    state: &ApiState,
    principal: &Principal,
    filter: Filter,
    from: Position,
    sender: &mpsc::Sender<Result<LoggedEvent, ApiError>>,
) {
    let mut subscription = state.engine.log().subscribe(from);
    let mut recorded: HashSet<YouthId> = HashSet::new();
    loop {
        if sender.is_closed() {
            return;
        }
        let first = match subscription.next_timeout(POLL) {
            Ok(Some(envelope)) => envelope,
            Ok(None) => continue,
            Err(error) => {
                let _ = sender.blocking_send(Err(error.into()));
                return;
            }
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match subscription.next_timeout(Duration::ZERO) {
                Ok(Some(envelope)) => batch.push(envelope),
                // A failure shows again on the next read and is reported then.
                Ok(None) | Err(_) => break,
            }
        }
        match deliverable(state, principal, &filter, &batch, &mut recorded) {
            Ok(events) => {
                for event in events {
                    if sender.blocking_send(Ok(event)).is_err() {
                        return;
                    }
                }
            }
            Err(error) => {
                let _ = sender.blocking_send(Err(error));
                return;
            }
        }
    }
}

/// The batch's matching events, after durably recording reads of the young people they
/// concern that this subscription has not recorded yet.
fn deliverable(
    state: &ApiState,
    principal: &Principal,
    filter: &Filter,
    batch: &[Envelope],
    recorded: &mut HashSet<YouthId>,
) -> Result<Vec<LoggedEvent>, ApiError> {
    let mut events = Vec::new();
    let mut newly_read = Vec::new();
    for envelope in batch.iter().filter(|e| filter.matches(e)) {
        let event = kui_engine::decode(envelope)?;
        if let Some(youth) = event.youth_id() {
            if recorded.insert(youth) {
                newly_read.push(youth);
            }
        }
        events.push(LoggedEvent::of(envelope, &event));
    }
    // The feed shows events as stored: no personal field, every class of fact.
    let stated = crate::need_to_know::purpose(principal, None, None)?;
    let read = crate::access_log::Read::of("events", &stated, &crate::need_to_know::Class::ALL, &[]);
    state.access_log.record(principal, &read, &newly_read)?;
    Ok(events)
}
