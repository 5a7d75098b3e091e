//! Sealing the personal fields of one event payload under a young person's key.
//!
//! A sealed payload is the event's JSON with every personal field
//! ([`kui_domain::personal::personal_fields`]) taken out and one field added: `sealed`,
//! the base64 of the XChaCha20-Poly1305 ciphertext of those values. The nonce is the
//! HMAC of the event id under the key (an event id is used once, so is the nonce), the
//! associated data is the event type and id, so a sealed value cannot be moved to another
//! event unnoticed. Decoding a sealed payload without the key gives the personal fields'
//! defaults; [`open`] puts the values back, or the erased placeholders when there is no
//! key any more.

use std::borrow::Cow;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use kui_domain::personal::{personal_fields, FieldKind, PersonalField, ERASED};
use serde_json::{Map, Value};
use sha2::Sha256;
use uuid::Uuid;

use crate::store::PersonKey;

/// The field a sealed payload carries its ciphertext in.
pub const SEALED: &str = "sealed";

/// A payload that cannot be sealed or opened. Carries no personal value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The payload is not a JSON object.
    #[error("the payload is not a JSON object")]
    NotAnObject,
    /// The sealed part fails its check: damaged, or sealed under another key or for
    /// another event.
    #[error("the sealed personal data fails its check (damaged, or sealed for another event)")]
    Damaged,
}

/// `payload` with the personal fields of `event_type` sealed under `key`; returned as it
/// is when the type has none.
pub fn seal(payload: &[u8], event_type: &str, event_id: Uuid, key: &PersonKey) -> Result<Vec<u8>, SealError> {
    let fields = personal_fields(event_type);
    if fields.is_empty() {
        return Ok(payload.to_vec());
    }
    let mut value: Value = serde_json::from_slice(payload).map_err(|_| SealError::NotAnObject)?;
    let object = value.as_object_mut().ok_or(SealError::NotAnObject)?;
    let mut taken = Map::new();
    for field in fields {
        if let Some(found) = take(object, field.path) {
            taken.insert(field.path.to_owned(), found);
        }
    }
    let plain = serde_json::to_vec(&Value::Object(taken)).map_err(|_| SealError::NotAnObject)?;
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let aad = associated(event_type, event_id);
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce(key, event_id)),
            Payload { msg: &plain, aad: &aad },
        )
        .map_err(|_| SealError::Damaged)?;
    object.insert(
        SEALED.to_owned(),
        Value::String(base64::engine::general_purpose::STANDARD_NO_PAD.encode(sealed)),
    );
    serde_json::to_vec(&value).map_err(|_| SealError::NotAnObject)
}

/// True when `payload` carries sealed personal data.
pub fn is_sealed(payload: &[u8]) -> bool {
    // `"sealed":` cannot occur inside a JSON string (its quotes would be escaped there).
    payload.windows(9).any(|w| w == b"\"sealed\":")
}

/// `payload` with its personal fields back: opened with `key`, or, when there is no key
/// (erased), set to what erased fields read as. A payload without sealed data is returned
/// as it is.
pub fn open<'a>(
    payload: &'a [u8],
    event_type: &str,
    event_id: Uuid,
    key: Option<&PersonKey>,
) -> Result<Cow<'a, [u8]>, SealError> {
    if !is_sealed(payload) {
        return Ok(Cow::Borrowed(payload));
    }
    let mut value: Value = serde_json::from_slice(payload).map_err(|_| SealError::NotAnObject)?;
    let object = value.as_object_mut().ok_or(SealError::NotAnObject)?;
    let Some(Value::String(sealed)) = object.remove(SEALED) else {
        return Err(SealError::Damaged);
    };
    let fields = personal_fields(event_type);
    match key {
        Some(key) => {
            let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(sealed.as_bytes())
                .map_err(|_| SealError::Damaged)?;
            let cipher = XChaCha20Poly1305::new((&key.0).into());
            let aad = associated(event_type, event_id);
            let plain = cipher
                .decrypt(
                    XNonce::from_slice(&nonce(key, event_id)),
                    Payload { msg: &bytes, aad: &aad },
                )
                .map_err(|_| SealError::Damaged)?;
            let Ok(Value::Object(taken)) = serde_json::from_slice(&plain) else {
                return Err(SealError::Damaged);
            };
            for (path, found) in taken {
                put(object, &path, found);
            }
        }
        None => {
            for field in fields {
                put_erased(object, field);
            }
        }
    }
    serde_json::to_vec(&value)
        .map(Cow::Owned)
        .map_err(|_| SealError::NotAnObject)
}

fn nonce(key: &PersonKey, event_id: Uuid) -> [u8; 24] {
    // A 32-byte key is always a valid HMAC key.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0).unwrap_or_else(|_| unreachable!());
    mac.update(b"nonce:");
    mac.update(event_id.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut out = [0u8; 24];
    out.copy_from_slice(&digest[..24]);
    out
}

fn associated(event_type: &str, event_id: Uuid) -> Vec<u8> {
    let mut aad = event_type.as_bytes().to_vec();
    aad.push(0);
    aad.extend_from_slice(event_id.as_bytes());
    aad
}

/// Splits `a.b.*.c` into the part before `*` and the field after it.
fn split(path: &str) -> (Vec<&str>, Option<&str>) {
    match path.split_once(".*.") {
        Some((head, field)) => (head.split('.').collect(), Some(field)),
        None => (path.split('.').collect(), None),
    }
}

fn walk<'v>(object: &'v mut Map<String, Value>, steps: &[&str]) -> Option<&'v mut Value> {
    let (first, rest) = steps.split_first()?;
    let mut at = object.get_mut(*first)?;
    for step in rest {
        at = at.as_object_mut()?.get_mut(*step)?;
    }
    Some(at)
}

/// Takes the value at `path` out of `object`: one value, or for `a.*.b` the array of every
/// element's `b`.
fn take(object: &mut Map<String, Value>, path: &str) -> Option<Value> {
    let (steps, each) = split(path);
    match each {
        None => {
            let (last, parents) = steps.split_last()?;
            let parent = if parents.is_empty() {
                object
            } else {
                walk(object, parents)?.as_object_mut()?
            };
            parent.remove(*last)
        }
        Some(field) => {
            let elements = walk(object, &steps)?.as_array_mut()?;
            let values = elements
                .iter_mut()
                .map(|element| {
                    element
                        .as_object_mut()
                        .and_then(|e| e.remove(field))
                        .unwrap_or(Value::Null)
                })
                .collect();
            Some(Value::Array(values))
        }
    }
}

/// Puts a value taken by [`take`] back.
fn put(object: &mut Map<String, Value>, path: &str, value: Value) {
    let (steps, each) = split(path);
    match each {
        None => {
            let Some((last, parents)) = steps.split_last() else {
                return;
            };
            let parent = if parents.is_empty() {
                Some(object)
            } else {
                walk(object, parents).and_then(Value::as_object_mut)
            };
            if let Some(parent) = parent {
                parent.insert((*last).to_owned(), value);
            }
        }
        Some(field) => {
            let (Some(elements), Value::Array(values)) = (walk(object, &steps).and_then(Value::as_array_mut), value)
            else {
                return;
            };
            for (element, value) in elements.iter_mut().zip(values) {
                if let (Some(element), false) = (element.as_object_mut(), value.is_null()) {
                    element.insert(field.to_owned(), value);
                }
            }
        }
    }
}

/// Sets a personal field to what an erased one reads as.
fn put_erased(object: &mut Map<String, Value>, field: &PersonalField) {
    let erased = match field.kind {
        FieldKind::Text => Value::String(ERASED.to_owned()),
        FieldKind::TextList => Value::Array(vec![Value::String(ERASED.to_owned())]),
        FieldKind::Optional => return,
    };
    let (steps, each) = split(field.path);
    match each {
        None => put(object, field.path, erased),
        Some(name) => {
            if let Some(elements) = walk(object, &steps).and_then(Value::as_array_mut) {
                for element in elements.iter_mut().filter_map(Value::as_object_mut) {
                    element.insert(name.to_owned(), erased.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PersonKey {
        PersonKey([byte; 32])
    }

    const PLAN: &str = r#"{"youth_id":"0190b5a0-0000-7000-8000-000000000001","revision":2,"kind":"job_plan","plan":{"goals":["Learn to weld","Own flat"],"actions":[{"description":"Visit the school","due":"2025-01-01"},{"description":"Call Mette","due":null}]},"updated_by":"0190b5a0-0000-7000-8000-000000000002"}"#;

    #[test]
    fn sealing_hides_every_personal_value_and_opening_restores_the_payload() {
        let id = Uuid::from_u128(7);
        let sealed = seal(PLAN.as_bytes(), "PlanUpdated", id, &key(1)).unwrap();
        let text = String::from_utf8(sealed.clone()).unwrap();
        for secret in ["weld", "Own flat", "Visit the school", "Mette"] {
            assert!(!text.contains(secret), "{secret} is in the sealed payload {text}");
        }
        assert!(text.contains("2025-01-01"), "the clear fields stay: {text}");
        let opened = open(&sealed, "PlanUpdated", id, Some(&key(1))).unwrap();
        let original: Value = serde_json::from_str(PLAN).unwrap();
        let back: Value = serde_json::from_slice(&opened).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn without_the_key_the_fields_read_as_erased() {
        let id = Uuid::from_u128(7);
        let sealed = seal(PLAN.as_bytes(), "PlanUpdated", id, &key(1)).unwrap();
        let opened = open(&sealed, "PlanUpdated", id, None).unwrap();
        let back: Value = serde_json::from_slice(&opened).unwrap();
        assert_eq!(back["plan"]["goals"], serde_json::json!([ERASED]));
        assert_eq!(back["plan"]["actions"][1]["description"], ERASED);
        assert_eq!(back["plan"]["actions"][0]["due"], "2025-01-01");
    }

    #[test]
    fn another_key_another_event_or_a_flipped_byte_fail_the_check() {
        let id = Uuid::from_u128(7);
        let sealed = seal(PLAN.as_bytes(), "PlanUpdated", id, &key(1)).unwrap();
        assert_eq!(open(&sealed, "PlanUpdated", id, Some(&key(2))), Err(SealError::Damaged));
        assert_eq!(
            open(&sealed, "PlanUpdated", Uuid::from_u128(8), Some(&key(1))),
            Err(SealError::Damaged)
        );
        let text = String::from_utf8(sealed).unwrap();
        let start = text.find("\"sealed\":\"").unwrap() + 12;
        let mut bytes = text.into_bytes();
        bytes[start] = if bytes[start] == b'A' { b'B' } else { b'A' };
        assert_eq!(open(&bytes, "PlanUpdated", id, Some(&key(1))), Err(SealError::Damaged));
    }

    #[test]
    fn events_without_personal_fields_pass_through() {
        let payload = br#"{"youth_id":"x","on":"2025-01-01"}"#;
        assert_eq!(
            seal(payload, "ContactRecorded", Uuid::nil(), &key(1)).unwrap(),
            payload.to_vec()
        );
        assert_eq!(
            open(payload, "ContactRecorded", Uuid::nil(), None).unwrap().as_ref(),
            payload
        );
    }

    #[test]
    fn the_same_event_seals_the_same_way() {
        let id = Uuid::from_u128(9);
        assert_eq!(
            seal(PLAN.as_bytes(), "PlanUpdated", id, &key(3)).unwrap(),
            seal(PLAN.as_bytes(), "PlanUpdated", id, &key(3)).unwrap()
        );
    }
}
