//! Bearer tokens: HS256 JWTs verified with the server's secret, and an optional token
//! file (a JSON map from opaque token to claims) for demos and service accounts.
//!
//! A token becomes a [`Principal`]: the staff member, role, department and municipality
//! every permission check and every recorded event uses.
//!
//! HS256 is verified here by hand with `hmac`, `sha2` and `base64`, which the API needs
//! anyway: the `jsonwebtoken` crate would bring a whole crypto provider for the one
//! algorithm kui accepts (ring's C and assembly in version 9; in version 10 RustCrypto's
//! RSA, ECDSA and EdDSA, or aws-lc's C build, and Rust 1.85). Claims are matched exactly,
//! and `exp`, `nbf` and `iat` are checked against the injected clock.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use kui_domain::values::Department;
use kui_domain::{MunicipalityCode, StaffId};
use kui_engine::{Actor, Clock, Role};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::ApiError;

type HmacSha256 = Hmac<Sha256>;

/// The shortest accepted server secret, in bytes: HS256 keys shorter than the hash are weak.
pub const MIN_SECRET_BYTES: usize = 32;

/// What a token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The staff id (uuid, optionally `staff-` prefixed).
    pub sub: String,
    /// The role: caseworker, coordinator, team_lead, youth_coordinator, auditor, analyst or admin.
    pub role: String,
    /// The department (uu, job_centre, ...).
    pub department: String,
    /// The municipality code; required for the roles that are bound to one municipality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<u16>,
    /// Expiry, seconds since the Unix epoch; required in JWTs, optional in the token file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Not before, seconds since the Unix epoch: an issuer that hands out a token ahead of
    /// its validity sets it, and the token is refused until then (less [`CLOCK_SKEW_SECONDS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issued at, seconds since the Unix epoch: a token issued later than now (beyond
    /// [`CLOCK_SKEW_SECONDS`]) comes from a clock that is wrong or a forger, and is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The purposes the token may read cases for, narrowing its role's (`casework`,
    /// `meeting_preparation`, ...; `docs/api.md`, "Need to know and purposes"); the first
    /// is the default. Absent: every purpose of the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purposes: Option<Vec<String>>,
}

/// How far the issuer's clock may run ahead of the server's, in seconds, for `nbf` and
/// `iat`. Expiry gets no leeway: a token is never accepted after its `exp`.
pub const CLOCK_SKEW_SECONDS: i64 = 60;

impl Claims {
    /// Checks the time claims against `now` (seconds since the Unix epoch). `exp` is
    /// required unless the claims come from the token file, which the operators control.
    fn check_times(&self, now: i64, exp_required: bool) -> Result<(), ApiError> {
        let refuse = |reason: &str| {
            Err(ApiError::Unauthenticated {
                reason: reason.to_owned(),
            })
        };
        match self.exp {
            None if exp_required => return refuse("the token has no exp claim"),
            Some(exp) if exp <= now => return refuse("the token has expired"),
            _ => {}
        }
        let latest_accepted = now.saturating_add(CLOCK_SKEW_SECONDS);
        if self.nbf.is_some_and(|nbf| nbf > latest_accepted) {
            return refuse("the token is not valid yet (nbf)");
        }
        if self.iat.is_some_and(|iat| iat > latest_accepted) {
            return refuse("the token is issued in the future (iat)");
        }
        Ok(())
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The staff member.
    pub staff: StaffId,
    /// The role acted in.
    pub role: Role,
    /// The department.
    pub department: Department,
    /// The municipality the caller works for; `None` only for national roles.
    pub municipality: Option<MunicipalityCode>,
    /// The purposes the token narrowed the role's to (`None`: the role's), default first.
    pub purposes: Option<Vec<crate::need_to_know::Purpose>>,
}

impl Principal {
    /// The actor recorded on the events this caller writes.
    pub fn actor(&self) -> Actor {
        Actor::staff(self.staff, self.role, self.department)
    }

    /// The principal a token's claims name. Every claim must be written exactly as the
    /// API documents it (no surrounding space, no other case): a signed value that only
    /// resembles a role is not a role the issuer granted.
    fn from_claims(claims: &Claims) -> Result<Principal, ApiError> {
        let bad = |reason: String| ApiError::Unauthenticated { reason };
        let staff: StaffId = Some(claims.sub.as_str())
            .filter(|sub| sub.trim() == *sub)
            .and_then(|sub| sub.parse().ok())
            .ok_or_else(|| bad("the token's sub is not a staff id".into()))?;
        let role: Role = claims
            .role
            .parse()
            .map_err(|_| bad(format!("the token's role {:?} is not a role", claims.role)))?;
        if role == Role::System {
            return Err(bad("the system role cannot be given to a token".into()));
        }
        let department = Department::ALL
            .iter()
            .copied()
            .find(|department| department.as_str() == claims.department)
            .ok_or_else(|| {
                bad(format!(
                    "the token's department {:?} is not a department",
                    claims.department
                ))
            })?;
        let municipality = claims
            .municipality
            .map(MunicipalityCode::new)
            .transpose()
            .map_err(|_| bad("the token's municipality is not a municipality code".into()))?;
        if municipality.is_none() && crate::access::is_municipal(role) {
            return Err(bad(format!("a {role} token must name its municipality")));
        }
        let purposes = match &claims.purposes {
            None => None,
            Some(names) => {
                let allowed = crate::need_to_know::Purpose::allowed(role);
                let mut purposes = Vec::with_capacity(names.len());
                for name in names {
                    let purpose = allowed
                        .iter()
                        .copied()
                        .find(|purpose| purpose.as_str() == name)
                        .ok_or_else(|| {
                            bad(format!(
                                "the token's purpose {name:?} is not a purpose of the {role} role"
                            ))
                        })?;
                    purposes.push(purpose);
                }
                if purposes.is_empty() {
                    return Err(bad("the token's purposes are empty: it could read nothing".into()));
                }
                Some(purposes)
            }
        };
        Ok(Principal {
            staff,
            role,
            department,
            municipality,
            purposes,
        })
    }
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct Authenticator {
    secret: Arc<Vec<u8>>,
    tokens: Arc<Vec<(String, Claims)>>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("tokens", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

/// Why an authenticator could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// The secret is too short to key HS256 safely.
    ///
    /// Handling: configure a secret of at least [`MIN_SECRET_BYTES`] bytes.
    #[error("the server secret must be at least {MIN_SECRET_BYTES} bytes long, it has {0}")]
    WeakSecret(usize),
    /// The token file is not a JSON map from token to claims.
    ///
    /// Handling: fix the file; its format is `{"<token>": {"sub": ..., "role": ..., ...}}`.
    #[error("the token file is not a JSON map from token to claims")]
    TokenFile(#[source] serde_json::Error),
    /// An entry of the token file has claims that do not make a principal.
    ///
    /// Handling: fix that entry.
    #[error("token file entry for {sub}: {reason}")]
    BadEntry {
        /// The entry's subject.
        sub: String,
        /// What is wrong.
        reason: String,
    },
}

impl Authenticator {
    /// An authenticator with the server secret (keys HS256 tokens and the analysts'
    /// pseudonyms) and an injected clock for expiry.
    pub fn new(secret: Vec<u8>, clock: Arc<dyn Clock>) -> Result<Authenticator, AuthConfigError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(AuthConfigError::WeakSecret(secret.len()));
        }
        Ok(Authenticator {
            secret: Arc::new(secret),
            tokens: Arc::new(Vec::new()),
            clock,
        })
    }

    /// Adds the tokens of a token file: a JSON object from token to [`Claims`].
    pub fn with_token_file(mut self, json: &str) -> Result<Authenticator, AuthConfigError> {
        let map: std::collections::BTreeMap<String, Claims> =
            serde_json::from_str(json).map_err(AuthConfigError::TokenFile)?;
        for claims in map.values() {
            Principal::from_claims(claims).map_err(|error| AuthConfigError::BadEntry {
                sub: claims.sub.clone(),
                reason: error.to_string(),
            })?;
        }
        self.tokens = Arc::new(map.into_iter().collect());
        Ok(self)
    }

    /// Checks an `Authorization` header value (`Bearer <token>`).
    pub fn authenticate_header(&self, header: Option<&str>) -> Result<Principal, ApiError> {
        let header = header.ok_or_else(|| ApiError::Unauthenticated {
            reason: "no Authorization header; send `Authorization: Bearer <token>`".into(),
        })?;
        let token = bearer(header).ok_or_else(|| ApiError::Unauthenticated {
            reason: "the Authorization header is not `Bearer <token>`".into(),
        })?;
        self.authenticate(token)
    }

    /// Checks the payload of a WebSocket `connection_init` message:
    /// `{"Authorization": "Bearer <token>"}` or `{"token": "<token>"}`.
    pub fn authenticate_init(&self, payload: &serde_json::Value) -> Result<Principal, ApiError> {
        let field = |name: &str| {
            payload
                .get(name)
                .or_else(|| payload.get("headers").and_then(|h| h.get(name)))
                .and_then(|v| v.as_str())
        };
        if let Some(header) = field("Authorization").or_else(|| field("authorization")) {
            return self.authenticate_header(Some(header));
        }
        match field("token") {
            Some(token) => self.authenticate(token),
            None => Err(ApiError::Unauthenticated {
                reason: "connection_init carries no Authorization or token".into(),
            }),
        }
    }

    /// Checks a bare token: an entry of the token file, or an HS256 JWT, and its time
    /// claims against the injected clock.
    pub fn authenticate(&self, token: &str) -> Result<Principal, ApiError> {
        // Compare against every entry so the time taken does not depend on which matched.
        let mut found: Option<&Claims> = None;
        for (known, claims) in self.tokens.iter() {
            if constant_time_eq(known.as_bytes(), token.as_bytes()) {
                found = Some(claims);
            }
        }
        let claims = match found {
            Some(claims) => claims.clone(),
            None => verify_hs256(token, &self.secret)?,
        };
        claims.check_times(self.clock.now().timestamp(), found.is_none())?;
        Principal::from_claims(&claims)
    }
}

fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// Verifies an HS256 JWT and returns its claims (expiry is checked by the caller).
fn verify_hs256(token: &str, secret: &[u8]) -> Result<Claims, ApiError> {
    let bad = |reason: &str| ApiError::Unauthenticated { reason: reason.into() };
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("the token is neither a known token nor a JWT"));
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| bad("the token's header is not base64url JSON"))?;
    if header.alg != "HS256" {
        return Err(bad("only HS256 tokens are accepted"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| bad("the token's signature is not base64url"))?;
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| bad("the server secret cannot key HS256"))?;
    // The signing input is everything before the last dot: `header.payload`.
    let signed_len = token.rfind('.').unwrap_or(0);
    mac.update(&token.as_bytes()[..signed_len]);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&signature)
        .map_err(|_| bad("the token's signature does not match"))?;
    URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| bad("the token's claims are not base64url JSON with sub, role and department"))
}

/// Signs claims as an HS256 JWT (for tests, demos and the operators' tooling).
pub fn sign_hs256(claims: &Claims, secret: &[u8]) -> Result<String, ApiError> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = serde_json::to_vec(claims).map_err(|error| ApiError::internal(&error))?;
    let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| ApiError::invalid("secret", "cannot key HS256"))?;
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    Ok(format!("{signing_input}.{signature}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use kui_engine::FixedClock;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn authenticator() -> Authenticator {
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
            .single()
            .unwrap_or_default();
        Authenticator::new(SECRET.to_vec(), Arc::new(FixedClock::new(now))).unwrap_or_else(|e| panic!("{e}"))
    }

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "00000000-0000-0000-0000-000000005001".into(),
            role: "caseworker".into(),
            department: "uu".into(),
            municipality: Some(540),
            exp: Some(exp),
            nbf: None,
            iat: None,
            purposes: None,
        }
    }

    /// The authenticator's "now", seconds since the epoch.
    fn now() -> i64 {
        tomorrow() - 86_400
    }

    fn tomorrow() -> i64 {
        chrono::Utc
            .with_ymd_and_hms(2026, 1, 16, 12, 0, 0)
            .single()
            .map(|t| t.timestamp())
            .unwrap_or_default()
    }

    #[test]
    fn a_signed_token_authenticates() {
        let token = sign_hs256(&claims(tomorrow()), SECRET).unwrap_or_default();
        let principal = authenticator().authenticate_header(Some(&format!("Bearer {token}")));
        assert_eq!(principal.map(|p| p.role).ok(), Some(Role::Caseworker));
    }

    #[test]
    fn expired_wrongly_signed_and_other_algorithms_are_refused() {
        let auth = authenticator();
        let expired = sign_hs256(&claims(tomorrow() - 2 * 86_400), SECRET).unwrap_or_default();
        assert!(
            matches!(auth.authenticate(&expired), Err(ApiError::Unauthenticated { reason }) if reason.contains("expired"))
        );
        let forged = sign_hs256(&claims(tomorrow()), b"another secret, also 32 bytes long").unwrap_or_default();
        assert!(auth.authenticate(&forged).is_err());
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(tomorrow())).unwrap_or_default());
        let none = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#));
        assert!(
            matches!(auth.authenticate(&none), Err(ApiError::Unauthenticated { reason }) if reason.contains("HS256"))
        );
        assert!(auth.authenticate_header(Some("Basic abc")).is_err());
        assert!(auth.authenticate_header(None).is_err());
    }

    #[test]
    fn roles_and_departments_must_match_exactly() {
        let auth = authenticator();
        for role in [" admin ", "Admin", "admin\n", "ADMIN", " caseworker"] {
            let mut near_miss = claims(tomorrow());
            near_miss.role = role.into();
            let token = sign_hs256(&near_miss, SECRET).unwrap_or_default();
            assert!(
                matches!(auth.authenticate(&token), Err(ApiError::Unauthenticated { reason }) if reason.contains("role")),
                "{role:?}"
            );
        }
        for department in ["UU", " uu", "uu\n"] {
            let mut near_miss = claims(tomorrow());
            near_miss.department = department.into();
            let token = sign_hs256(&near_miss, SECRET).unwrap_or_default();
            assert!(auth.authenticate(&token).is_err(), "{department:?}");
        }
        let mut spaced = claims(tomorrow());
        spaced.sub = format!(" {} ", spaced.sub);
        let token = sign_hs256(&spaced, SECRET).unwrap_or_default();
        assert!(auth.authenticate(&token).is_err());
        // Token-file entries are held to the same rule when the file is loaded.
        let mut entry = claims(tomorrow());
        entry.role = "Admin".into();
        let json = serde_json::json!({ "t": entry }).to_string();
        assert!(authenticator().with_token_file(&json).is_err());
    }

    #[test]
    fn not_before_and_issued_at_are_checked_with_a_small_clock_skew() {
        let auth = authenticator();
        let with = |nbf: Option<i64>, iat: Option<i64>| {
            let mut timed = claims(tomorrow());
            timed.nbf = nbf;
            timed.iat = iat;
            auth.authenticate(&sign_hs256(&timed, SECRET).unwrap_or_default())
        };
        let skew = CLOCK_SKEW_SECONDS;
        assert!(with(Some(now() - 3_600), Some(now() - 3_600)).is_ok());
        assert!(with(Some(now() + skew), None).is_ok(), "within the skew");
        assert!(with(None, Some(now() + skew)).is_ok(), "within the skew");
        assert!(
            matches!(with(Some(now() + skew + 1), None), Err(ApiError::Unauthenticated { reason }) if reason.contains("nbf"))
        );
        assert!(
            matches!(with(Some(now() + 3_600), None), Err(ApiError::Unauthenticated { reason }) if reason.contains("nbf"))
        );
        assert!(
            matches!(with(None, Some(now() + skew + 1)), Err(ApiError::Unauthenticated { reason }) if reason.contains("iat"))
        );
        // Expiry has no leeway.
        let mut expired = claims(now());
        expired.iat = Some(now() - 60);
        assert!(auth
            .authenticate(&sign_hs256(&expired, SECRET).unwrap_or_default())
            .is_err());
        // A JWT without exp stays refused.
        let mut forever = claims(0);
        forever.exp = None;
        assert!(
            matches!(auth.authenticate(&sign_hs256(&forever, SECRET).unwrap_or_default()), Err(ApiError::Unauthenticated { reason }) if reason.contains("exp"))
        );
    }

    #[test]
    fn token_file_entries_honour_not_before_too() {
        let mut entry = claims(tomorrow());
        entry.exp = None;
        entry.nbf = Some(now() + 3_600);
        let json = serde_json::json!({ "later-token": entry }).to_string();
        let auth = authenticator().with_token_file(&json).unwrap_or_else(|e| panic!("{e}"));
        assert!(auth.authenticate("later-token").is_err());
    }

    #[test]
    fn token_file_entries_authenticate_and_are_validated() {
        let mut entry = claims(tomorrow());
        entry.exp = None;
        let json = serde_json::json!({ "demo-token": entry }).to_string();
        let auth = authenticator().with_token_file(&json).unwrap_or_else(|e| panic!("{e}"));
        assert!(auth.authenticate("demo-token").is_ok());
        assert!(auth.authenticate("demo-tokem").is_err());
        let bad = serde_json::json!({ "t": { "sub": "x", "role": "caseworker", "department": "uu" } }).to_string();
        assert!(authenticator().with_token_file(&bad).is_err());
    }
}
