//! The demo's credentials: a server secret and one ready-to-paste token per role, kept
//! in the data directory so that a second `kui demo` reuses them.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use kui_api::access::ROLES;
use kui_api::Claims;
use kui_domain::Event;
use kui_engine::Engine;
use kui_log::Position;

/// The token file in the data directory.
pub const TOKEN_FILE: &str = "tokens.json";
/// The server secret in the data directory.
pub const SECRET_FILE: &str = "jwt-secret";

/// Events read while looking for staff members to issue tokens to.
const STAFF_SEARCH: usize = 65_536;

/// The demo's secret: read, or created (256 random bits as hex, readable by the owner only).
pub fn secret(data: &Path) -> Result<Vec<u8>> {
    let path = data.join(SECRET_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok(text.trim().as_bytes().to_vec());
    }
    let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(secret.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret.into_bytes())
}

/// The demo tokens, role first: read from the token file, or issued to staff members of
/// the log and written to it.
pub fn ensure(engine: &Engine, data: &Path) -> Result<Vec<(String, String)>> {
    let path = data.join(TOKEN_FILE);
    if let Ok(json) = std::fs::read_to_string(&path) {
        let tokens: BTreeMap<String, Claims> =
            serde_json::from_str(&json).with_context(|| format!("{} is not a token file", path.display()))?;
        return Ok(by_role(&tokens));
    }
    let staff = staff_members(engine)?;
    if staff.is_empty() {
        anyhow::bail!("the log has no staff members to issue demo tokens to");
    }
    let mut tokens = BTreeMap::new();
    for (n, role) in ROLES.iter().enumerate() {
        // The caseworker is a UU counsellor when there is one; the others take turns.
        let (sub, department, municipality) = if n == 0 {
            staff.iter().find(|(_, d, _)| d == "uu").unwrap_or(&staff[0]).clone()
        } else {
            staff[n % staff.len()].clone()
        };
        let token = format!("kui-demo-{role}-{}", uuid::Uuid::new_v4().simple());
        let claims = Claims {
            sub,
            role: role.as_str().to_owned(),
            department,
            municipality: Some(municipality),
            exp: None,
            nbf: None,
            iat: None,
            purposes: None,
        };
        tokens.insert(token, claims);
    }
    let json = serde_json::to_string_pretty(&tokens).context("cannot write the tokens as JSON")?;
    std::fs::write(&path, json + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    Ok(by_role(&tokens))
}

fn by_role(tokens: &BTreeMap<String, Claims>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = tokens
        .iter()
        .map(|(token, claims)| (claims.role.clone(), token.clone()))
        .collect();
    pairs.sort_by_key(|(role, _)| ROLES.iter().position(|r| r.as_str() == role));
    pairs
}

/// Staff members registered near the start of the log and still employed (a departed
/// staff member's token could not write anything): id, department, municipality.
fn staff_members(engine: &Engine) -> Result<Vec<(String, String, u16)>> {
    let envelopes = engine
        .log()
        .read_all(Position(1), STAFF_SEARCH)
        .context("cannot read the log")?;
    let mut staff = Vec::new();
    for envelope in envelopes.iter().filter(|e| e.event_type == "StaffRegistered") {
        if let Event::StaffRegistered(e) = kui_engine::decode(envelope)? {
            let (now, _) = engine.load::<kui_domain::Staff>(&e.staff_id.stream_name())?;
            if now.is_active() {
                staff.push((
                    e.staff_id.to_string(),
                    e.department.as_str().to_owned(),
                    e.municipality.get(),
                ));
            }
        }
    }
    Ok(staff)
}

/// What the demo prints once the server listens.
pub fn announce(addr: SocketAddr, data: &Path, tokens: &[(String, String)], youth: Option<&str>) {
    let token = |role: &str| {
        tokens
            .iter()
            .find(|(r, _)| r == role)
            .map_or("<token>", |(_, t)| t.as_str())
    };
    println!("kui API:  http://{addr}/graphql   (GraphiQL: open it in a browser)");
    println!("          ws://{addr}/graphql/ws  (subscriptions, graphql-transport-ws)");
    println!();
    println!(
        "tokens (also in {}); paste one into GraphiQL's headers as {{\"Authorization\": \"Bearer <token>\"}}:",
        data.join(TOKEN_FILE).display()
    );
    for (role, token) in tokens {
        println!("  {role:<18} {token}");
    }
    let youth = youth.unwrap_or("<youth id>");
    println!();
    println!("three example queries:");
    println!("  1. a young person's case (caseworker token):");
    println!(
        "     {{ youth(id: \"{youth}\") {{ name age team needLevel coordinator {{ status staffId }} plan {{ revision kind goals }} version }} }}"
    );
    println!("  2. the auditor's replay of the same case (auditor token):");
    println!(
        "     {{ history(youthId: \"{youth}\") {{ entries {{ position type occurredAt actor {{ role staffId }} summary }} }} }}"
    );
    println!("  3. who read that case (auditor token):");
    println!("     {{ accessLog(youthId: \"{youth}\") {{ at role staffId operation }} }}");
    println!();
    println!("or with curl:");
    println!(
        "  curl -s http://{addr}/graphql -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' \\",
        token("caseworker")
    );
    println!("       -d '{{\"query\": \"{{ youth(id: \\\"{youth}\\\") {{ name team version }} }}\"}}'");
    println!();
    println!(
        "serve this data again: KUI_JWT_SECRET=$(cat {}) kui --data {} serve --token-file {}",
        data.join(SECRET_FILE).display(),
        data.display(),
        data.join(TOKEN_FILE).display()
    );
    println!("Ctrl-C stops the server.");
}
