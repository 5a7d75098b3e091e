//! What makes an append request storable, checked the same way by every backend before
//! anything is written.

use uuid::Uuid;

use crate::error::LogError;
use crate::types::{AppendRequest, Envelope, Metadata, NewEvent};

/// Largest accepted payload.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;
/// Largest accepted event type, role, staff id or department, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;

/// Checks what can be checked without the log's state: streams and events present,
/// names and payloads within bounds.
pub fn validate_request(request: &AppendRequest) -> Result<(), LogError> {
    if request.streams.is_empty() || request.streams.iter().any(|stream| stream.events.is_empty()) {
        return Err(LogError::EmptyAppend);
    }
    for stream in &request.streams {
        for event in &stream.events {
            validate_event(event)?;
        }
    }
    Ok(())
}

fn validate_event(event: &NewEvent) -> Result<(), LogError> {
    validate_event_parts(&event.event_id, &event.event_type, &event.metadata, event.payload.len())
}

/// The same bounds for an envelope being imported.
pub fn validate_envelope(envelope: &Envelope) -> Result<(), LogError> {
    validate_event_parts(
        &envelope.event_id,
        &envelope.event_type,
        &envelope.metadata,
        envelope.payload.len(),
    )
}

fn validate_event_parts(
    event_id: &Uuid,
    event_type: &str,
    metadata: &Metadata,
    payload_len: usize,
) -> Result<(), LogError> {
    let invalid = |reason: String| LogError::InvalidEvent {
        event_id: *event_id,
        reason,
    };
    if event_type.is_empty() {
        return Err(invalid("event type is empty".into()));
    }
    let actor = &metadata.actor;
    let names = [
        ("event type", Some(event_type)),
        ("role", Some(actor.role.as_str())),
        ("staff id", actor.staff_id.as_deref()),
        ("department", actor.department.as_deref()),
    ];
    for (what, value) in names {
        if value.is_some_and(|value| value.len() > MAX_NAME_BYTES) {
            return Err(invalid(format!("{what} is longer than {MAX_NAME_BYTES} bytes")));
        }
    }
    if payload_len > MAX_PAYLOAD_BYTES {
        return Err(invalid(format!(
            "payload of {payload_len} bytes is larger than {MAX_PAYLOAD_BYTES} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::blank_envelope;

    #[test]
    fn validation_rejects_empty_requests_and_oversized_names() {
        let empty = AppendRequest {
            command_id: None,
            streams: vec![],
        };
        assert!(matches!(validate_request(&empty), Err(LogError::EmptyAppend)));
        let mut metadata = blank_envelope().metadata;
        metadata.actor.department = Some("d".repeat(MAX_NAME_BYTES + 1));
        let result = validate_event_parts(&Uuid::nil(), "X", &metadata, 0);
        assert!(matches!(result, Err(LogError::InvalidEvent { .. })));
    }
}
