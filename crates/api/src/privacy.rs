//! What a reader with a pseudonymised grant (the analyst role) sees of records about
//! people, decided here and nowhere else.
//!
//! The rule, as docs/api.md states it for integrators:
//!
//! - A young person is named by a keyed pseudonym (`p-` and 24 hex digits) only; id,
//!   name, CPR number and birth date are withheld. The pseudonym is the same in every
//!   answer that shows the person: their case and every list.
//!
//! Every other grant sees records as they are. The pseudonyms are HMAC-SHA256 keyed with
//! the server secret, so they are stable for as long as the secret is, and cannot be
//! recomputed from an id without it.

use hmac::{Hmac, Mac};
use kui_domain::YouthId;
use sha2::Sha256;

use crate::access::Scope;
use crate::state::ApiState;

/// Hex digits of the digest a pseudonym keeps: 96 bits, plenty to tell people apart.
const PSEUDONYM_HEX: usize = 24;

/// How much of a record about people a reader may see.
#[derive(Clone, Copy)]
pub(crate) struct Disclosure<'a> {
    secret: &'a [u8],
    pseudonymise: bool,
}

impl<'a> Disclosure<'a> {
    /// The disclosure for a reader acting in `scope` on `state`'s server secret.
    pub(crate) fn new(state: &'a ApiState, scope: Scope) -> Disclosure<'a> {
        Disclosure::keyed(state.auth.secret(), scope)
    }

    /// The disclosure for a reader acting in `scope`, with the pseudonyms keyed by `secret`.
    pub(crate) fn keyed(secret: &'a [u8], scope: Scope) -> Disclosure<'a> {
        Disclosure {
            secret,
            pseudonymise: scope == Scope::Pseudonymised,
        }
    }

    /// `value`, or nothing for a pseudonymised reader: for ids, names, CPR numbers, birth
    /// dates and free text.
    pub(crate) fn personal<T>(self, value: Option<T>) -> Option<T> {
        if self.pseudonymise {
            None
        } else {
            value
        }
    }

    /// The young person's pseudonym; every role may see it, so that analysts and case
    /// workers can talk about the same row without naming the person.
    pub(crate) fn youth_pseudonym(self, youth: YouthId) -> String {
        keyed_pseudonym(self.secret, "p-", &format!("youth:{}", youth.0))
    }
}

/// `prefix` and the first hex digits of HMAC-SHA256 of `subject` keyed with `secret`.
fn keyed_pseudonym(secret: &[u8], prefix: &str, subject: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        // HMAC takes keys of any length; this branch is never taken.
        return format!("{prefix}unavailable");
    };
    mac.update(subject.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut text = String::with_capacity(prefix.len() + PSEUDONYM_HEX);
    text.push_str(prefix);
    for byte in digest.iter().take(PSEUDONYM_HEX / 2) {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn pseudonyms_are_stable_and_keyed() {
        let analyst = Disclosure::keyed(SECRET, Scope::Pseudonymised);
        let other_key = Disclosure::keyed(b"another secret of at least 32 bytes", Scope::Pseudonymised);
        let (a, b) = (YouthId(uuid::Uuid::from_u128(7)), YouthId(uuid::Uuid::from_u128(8)));
        assert_eq!(analyst.youth_pseudonym(a), analyst.youth_pseudonym(a));
        assert_ne!(analyst.youth_pseudonym(a), analyst.youth_pseudonym(b));
        assert_ne!(analyst.youth_pseudonym(a), other_key.youth_pseudonym(a));
        assert_eq!(analyst.youth_pseudonym(a).len(), 2 + PSEUDONYM_HEX);
        assert_eq!(analyst.personal(Some("Emil")), None);
        assert_eq!(Disclosure::keyed(SECRET, Scope::Everywhere).personal(Some("Emil")), Some("Emil"));
    }
}
