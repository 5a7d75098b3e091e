//! The key store: one key per young person, the keyed CPR lookup, and the secrets for
//! lookups and pseudonyms.
//!
//! On disk (`<data>/keys/keystore`): an 8-byte magic, a 16-byte check value of the master
//! key (so a wrong master key is told from damage), then records appended one after the
//! other, each `u32` length, a 24-byte nonce and the XChaCha20-Poly1305 ciphertext of a
//! JSON record under the master key. A record is durable (fsync, shared by writers that
//! arrive together) before `register` returns. Erasure rewrites the whole file without the
//! person's records (a new file, synced, renamed over the old one), leaving only a
//! tombstone with the id, so that neither the key nor the lookup entry survives in it.
//!
//! A record cut short at the end of the file is a write that never returned (nothing was
//! sealed under it): opening cuts it, keeps the cut bytes beside the file and says so in
//! [`Opened::cut`]. Any other record that fails its check is [`KeyError::Damaged`].

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use kui_domain::{Cpr, YouthId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::KeyError;
use crate::master::{decode_hex, encode_hex, MasterKey};

const MAGIC: &[u8; 8] = b"KUIKEYS1";
const HEADER: usize = 8 + 16;
/// No record is near this; a longer declared length is damage.
const MAX_RECORD: u32 = 64 * 1024;

/// A young person's key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PersonKey(pub(crate) [u8; 32]);

impl std::fmt::Debug for PersonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonKey(..)")
    }
}

/// What the store knows of a young person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Their key exists.
    Present,
    /// An erasure was begun and not yet completed or abandoned; the key still exists.
    Erasing,
    /// Their key was destroyed.
    Erased,
    /// Never registered here.
    Unknown,
}

/// One record of the file.
#[derive(Serialize, Deserialize)]
#[serde(tag = "r", rename_all = "snake_case")]
enum Record {
    Secrets { lookup: String, pseudonym: String },
    Person { youth: Uuid, key: String, cpr_mac: String },
    Erasing { youth: Uuid },
    Abandoned { youth: Uuid },
    Erased { youth: Uuid },
}

#[derive(Clone)]
struct Person {
    key: [u8; 32],
    cpr_mac: [u8; 32],
}

#[derive(Default)]
struct State {
    lookup: [u8; 32],
    pseudonym: [u8; 32],
    people: HashMap<YouthId, Person>,
    by_mac: HashMap<[u8; 32], YouthId>,
    erasing: HashSet<YouthId>,
    erased: HashSet<YouthId>,
    /// Records written (file-backed stores), for group commit.
    written: u64,
    /// Seeded stores draw their keys from this counter instead of the system.
    seed: Option<(u64, u64)>,
}

struct Backing {
    path: PathBuf,
    master: MasterKey,
    file: Mutex<File>,
    /// Records known durable.
    synced: Mutex<u64>,
}

/// What opening a store found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Where an interrupted record was cut, and where its bytes were kept.
    pub cut: Option<(u64, PathBuf)>,
    /// Erasures begun and neither completed nor abandoned: the caller finishes each one
    /// whose erasure event is in the log and abandons the rest.
    pub pending: Vec<YouthId>,
}

/// The key store.
pub struct KeyStore {
    state: Mutex<State>,
    backing: Option<Backing>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("path", &self.backing.as_ref().map(|b| &b.path))
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// A store in memory, with keys drawn from the system (nothing survives the process).
    pub fn in_memory() -> Result<Self, KeyError> {
        let state = State {
            lookup: random()?,
            pseudonym: random()?,
            ..State::default()
        };
        Ok(KeyStore {
            state: Mutex::new(state),
            backing: None,
        })
    }

    /// A store in memory whose secrets and keys follow from `seed`: the same seed gives
    /// the same keys, for reproducible fixtures and tests. Never for real data.
    pub fn seeded(seed: u64) -> Self {
        let mut state = State {
            seed: Some((seed, 0)),
            ..State::default()
        };
        state.lookup = state.draw();
        state.pseudonym = state.draw();
        KeyStore {
            state: Mutex::new(state),
            backing: None,
        }
    }

    /// The file of the store kept in `data_dir`.
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join("keys").join("keystore")
    }

    /// Creates a new store at `path` (its directory is created; an existing file is
    /// refused), with fresh secrets, sealed under `master`.
    pub fn create(path: &Path, master: &MasterKey) -> Result<Self, KeyError> {
        Self::create_with(path, master, None)
    }

    /// As [`KeyStore::create`], with the secrets and keys following from `seed`
    /// (reproducible fixtures; never for real data).
    pub fn create_seeded(path: &Path, master: &MasterKey, seed: u64) -> Result<Self, KeyError> {
        Self::create_with(path, master, Some(seed))
    }

    fn create_with(path: &Path, master: &MasterKey, seed: Option<u64>) -> Result<Self, KeyError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| KeyError::io(parent, e))?;
        }
        let mut state = State {
            seed: seed.map(|s| (s, 0)),
            ..State::default()
        };
        state.lookup = state.draw_or_random()?;
        state.pseudonym = state.draw_or_random()?;
        let mut bytes = header(master);
        bytes.extend(seal_record(master, &state.secrets_record())?);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| KeyError::io(path, e))?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| KeyError::io(path, e))?;
        sync_dir(path)?;
        drop(file);
        let (store, _) = Self::open(path, master)?;
        if let Some(seed) = seed {
            store.lock().seed = Some((seed, 2));
        }
        Ok(store)
    }

    /// Opens the store at `path` under `master`.
    pub fn open(path: &Path, master: &MasterKey) -> Result<(Self, Opened), KeyError> {
        let mut bytes = Vec::new();
        match File::open(path) {
            Ok(mut file) => file.read_to_end(&mut bytes).map_err(|e| KeyError::io(path, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::KeyStoreMissing { path: path.to_owned() })
            }
            Err(e) => return Err(KeyError::io(path, e)),
        };
        let damaged = |offset: u64, why: &str| KeyError::Damaged {
            path: path.to_owned(),
            offset,
            why: why.to_owned(),
        };
        if bytes.len() < HEADER || &bytes[..8] != MAGIC {
            return Err(damaged(0, "the file does not start as a kui key store"));
        }
        if bytes[8..HEADER] != check_value(master) {
            return Err(KeyError::WrongMasterKey { path: path.to_owned() });
        }
        let mut state = State::default();
        let mut offset = HEADER;
        let mut cut = None;
        let mut saw_secrets = false;
        while offset < bytes.len() {
            let rest = &bytes[offset..];
            let declared = rest.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            let complete = matches!(declared, Some(len) if len <= MAX_RECORD && rest.len() >= 4 + len as usize);
            if !complete {
                if matches!(declared, Some(len) if len > MAX_RECORD) {
                    return Err(damaged(offset as u64, "a record declares an impossible length"));
                }
                // A write that never returned: keep its bytes, cut it.
                let aside = path.with_extension(format!("cut-{offset}"));
                std::fs::write(&aside, rest).map_err(|e| KeyError::io(&aside, e))?;
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| KeyError::io(path, e))?;
                file.set_len(offset as u64)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| KeyError::io(path, e))?;
                cut = Some((offset as u64, aside));
                break;
            }
            let len = declared.unwrap_or(0) as usize;
            let record = open_record(master, &rest[4..4 + len])
                .ok_or_else(|| damaged(offset as u64, "a record fails its check"))?;
            if !saw_secrets && !matches!(record, Record::Secrets { .. }) {
                return Err(damaged(offset as u64, "the secrets record is missing"));
            }
            saw_secrets = true;
            state.apply(record).map_err(|why| damaged(offset as u64, why))?;
            state.written += 1;
            offset += 4 + len;
        }
        if !saw_secrets {
            return Err(damaged(HEADER as u64, "the secrets record is missing"));
        }
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| KeyError::io(path, e))?;
        let pending = state.erasing.iter().copied().collect();
        let written = state.written;
        Ok((
            KeyStore {
                state: Mutex::new(state),
                backing: Some(Backing {
                    path: path.to_owned(),
                    master: master.clone(),
                    file: Mutex::new(file),
                    synced: Mutex::new(written),
                }),
            },
            Opened { cut, pending },
        ))
    }

    /// Draws the keys of people registered from now on from `seed` instead of the system,
    /// until [`KeyStore::stop_seeding`]: for generated fixtures, so that a preset gives the
    /// same log. The store's secrets stay random.
    pub fn seed_keys(&self, seed: u64) {
        self.lock().seed = Some((seed, 0));
    }

    /// Draws keys from the system again.
    pub fn stop_seeding(&self) {
        self.lock().seed = None;
    }

    /// The file behind the store, if any.
    pub fn path(&self) -> Option<&Path> {
        self.backing.as_ref().map(|b| b.path.as_path())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The young person registered with this CPR number, if any (and not erased).
    pub fn lookup(&self, cpr: &Cpr) -> Option<YouthId> {
        let state = self.lock();
        let mac = state.cpr_mac(cpr);
        state.by_mac.get(&mac).copied()
    }

    /// The young person with this CPR number: the one registered before, or a new one
    /// under the id `new_id` gives, with a new key, durable when this returns. True when
    /// the person is new.
    pub fn register(&self, cpr: &Cpr, new_id: impl FnOnce() -> YouthId) -> Result<(YouthId, bool), KeyError> {
        let (youth, new, sequence) = self.register_unsynced(cpr, new_id)?;
        self.sync_through(sequence)?;
        Ok((youth, new))
    }

    /// Makes every registration so far durable (after [`KeyStore::register_in_bulk`]).
    pub fn sync(&self) -> Result<(), KeyError> {
        self.sync_through(u64::MAX)
    }

    /// As [`KeyStore::register`] without waiting for the record to be durable: for bulk
    /// loads, which call [`KeyStore::sync`] before appending anything sealed under the keys.
    pub fn register_in_bulk(&self, cpr: &Cpr, new_id: impl FnOnce() -> YouthId) -> Result<(YouthId, bool), KeyError> {
        let (youth, new, _) = self.register_unsynced(cpr, new_id)?;
        Ok((youth, new))
    }

    fn register_unsynced(&self, cpr: &Cpr, new_id: impl FnOnce() -> YouthId) -> Result<(YouthId, bool, u64), KeyError> {
        let mut state = self.lock();
        let mac = state.cpr_mac(cpr);
        if let Some(id) = state.by_mac.get(&mac) {
            // The record may have been written by a writer still waiting for its sync:
            // the caller waits for everything written so far.
            return Ok((*id, false, state.written));
        }
        let youth = new_id();
        if state.people.contains_key(&youth) || state.erased.contains(&youth) {
            return Err(KeyError::Unknown {
                youth: format!("{youth} (the id is taken)"),
            });
        }
        let key = state.draw_or_random()?;
        let record = Record::Person {
            youth: youth.0,
            key: encode_hex(&key),
            cpr_mac: encode_hex(&mac),
        };
        let sequence = self.append(&mut state, &record)?;
        state.people.insert(youth, Person { key, cpr_mac: mac });
        state.by_mac.insert(mac, youth);
        Ok((youth, true, sequence))
    }

    /// The key of a young person.
    pub fn key(&self, youth: YouthId) -> Result<PersonKey, KeyError> {
        let state = self.lock();
        match state.people.get(&youth) {
            Some(person) => Ok(PersonKey(person.key)),
            None if state.erased.contains(&youth) => Err(KeyError::Erased {
                youth: youth.to_string(),
            }),
            None => Err(KeyError::Unknown {
                youth: youth.to_string(),
            }),
        }
    }

    /// What the store knows of a young person.
    pub fn state_of(&self, youth: YouthId) -> KeyState {
        let state = self.lock();
        if state.erasing.contains(&youth) {
            KeyState::Erasing
        } else if state.people.contains_key(&youth) {
            KeyState::Present
        } else if state.erased.contains(&youth) {
            KeyState::Erased
        } else {
            KeyState::Unknown
        }
    }

    /// How many young people have a key.
    pub fn people(&self) -> usize {
        self.lock().people.len()
    }

    /// A pseudonym for a young person: keyed by the store's pseudonym secret and computed
    /// from their key, so that it cannot be recomputed from their id, and not at all once
    /// the key is erased.
    pub fn youth_pseudonym(&self, youth: YouthId) -> Option<[u8; 32]> {
        let state = self.lock();
        let person = state.people.get(&youth)?;
        Some(hmac(&state.pseudonym, &[b"youth:", &person.key[..]]))
    }

    /// A pseudonym for anything else (a staff member): keyed by the store's pseudonym
    /// secret.
    pub fn pseudonym(&self, subject: &[u8]) -> [u8; 32] {
        let state = self.lock();
        hmac(&state.pseudonym, &[b"other:", subject])
    }

    /// Records, durably, that an erasure of `youth` begins. Refused for a person without a
    /// key.
    pub fn begin_erasure(&self, youth: YouthId) -> Result<(), KeyError> {
        let mut state = self.lock();
        if !state.people.contains_key(&youth) {
            return Err(if state.erased.contains(&youth) {
                KeyError::Erased {
                    youth: youth.to_string(),
                }
            } else {
                KeyError::Unknown {
                    youth: youth.to_string(),
                }
            });
        }
        if state.erasing.contains(&youth) {
            return Ok(());
        }
        let sequence = self.append(&mut state, &Record::Erasing { youth: youth.0 })?;
        state.erasing.insert(youth);
        drop(state);
        self.sync_through(sequence)
    }

    /// Records, durably, that a begun erasure will not happen (its event never reached
    /// the log).
    pub fn abandon_erasure(&self, youth: YouthId) -> Result<(), KeyError> {
        let mut state = self.lock();
        if !state.erasing.contains(&youth) {
            return Ok(());
        }
        let sequence = self.append(&mut state, &Record::Abandoned { youth: youth.0 })?;
        state.erasing.remove(&youth);
        drop(state);
        self.sync_through(sequence)
    }

    /// Destroys the key and the lookup entry of `youth`: the file is rewritten without
    /// them (a tombstone with the id stays) and synced before this returns. Returns the
    /// bytes written. Completing an erasure already completed writes nothing.
    pub fn complete_erasure(&self, youth: YouthId) -> Result<u64, KeyError> {
        self.complete_erasures(&[youth])
    }

    /// As [`KeyStore::complete_erasure`] for several people with one rewrite of the file.
    /// An unknown person fails the whole call before anything is changed; if the rewrite
    /// fails, nothing is changed either (in memory or on disk).
    pub fn complete_erasures(&self, people: &[YouthId]) -> Result<u64, KeyError> {
        let mut state = self.lock();
        let mut erasing = Vec::with_capacity(people.len());
        for youth in people {
            if state.people.contains_key(youth) {
                erasing.push(*youth);
            } else if !state.erased.contains(youth) {
                return Err(KeyError::Unknown {
                    youth: youth.to_string(),
                });
            }
        }
        if erasing.is_empty() {
            for youth in people {
                state.erasing.remove(youth);
            }
            return Ok(0);
        }
        let mut written = 0;
        if let Some(backing) = &self.backing {
            // Everything the file must hold from now on, and nothing else.
            let gone: HashSet<YouthId> = erasing.iter().copied().collect();
            let mut records = vec![state.secrets_record()];
            let mut kept: Vec<_> = state.people.iter().filter(|(id, _)| !gone.contains(id)).collect();
            kept.sort_by_key(|(id, _)| **id);
            for (id, person) in kept {
                records.push(Record::Person {
                    youth: id.0,
                    key: encode_hex(&person.key),
                    cpr_mac: encode_hex(&person.cpr_mac),
                });
            }
            let mut erased: Vec<_> = state.erased.iter().chain(gone.iter()).copied().collect();
            erased.sort();
            erased.dedup();
            records.extend(erased.into_iter().map(|id| Record::Erased { youth: id.0 }));
            let mut still: Vec<_> = state.erasing.iter().filter(|id| !gone.contains(id)).copied().collect();
            still.sort();
            records.extend(still.into_iter().map(|id| Record::Erasing { youth: id.0 }));
            let mut bytes = header(&backing.master);
            for record in &records {
                bytes.extend(seal_record(&backing.master, record)?);
            }
            let fresh = backing.path.with_extension("new");
            let path = &backing.path;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&fresh).map_err(|e| KeyError::io(&fresh, e))?;
            file.write_all(&bytes)
                .and_then(|()| file.sync_all())
                .map_err(|e| KeyError::io(&fresh, e))?;
            std::fs::rename(&fresh, path).map_err(|e| KeyError::io(path, e))?;
            sync_dir(path)?;
            // Appends go to the new file from now on.
            let reopened = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|e| KeyError::io(path, e))?;
            *backing.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = reopened;
            written = bytes.len() as u64;
        }
        for youth in &erasing {
            if let Some(person) = state.people.remove(youth) {
                state.by_mac.remove(&person.cpr_mac);
            }
            state.erasing.remove(youth);
            state.erased.insert(*youth);
        }
        for youth in people {
            state.erasing.remove(youth);
        }
        if let Some(backing) = &self.backing {
            // Every record written so far is in the synced file (sequence numbers only grow).
            let sequence = state.written;
            drop(state);
            let mut synced = backing.synced.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *synced = (*synced).max(sequence);
        }
        Ok(written)
    }

    /// Appends `record` (written, not yet synced); returns its sequence number.
    fn append(&self, state: &mut State, record: &Record) -> Result<u64, KeyError> {
        state.written += 1;
        let Some(backing) = &self.backing else {
            return Ok(state.written);
        };
        let bytes = seal_record(&backing.master, record)?;
        backing
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .write_all(&bytes)
            .map_err(|e| KeyError::io(&backing.path, e))?;
        Ok(state.written)
    }

    /// Returns once every record up to `sequence` is durable; one fsync serves every
    /// writer waiting at the time.
    fn sync_through(&self, sequence: u64) -> Result<(), KeyError> {
        let Some(backing) = &self.backing else {
            return Ok(());
        };
        let mut synced = backing.synced.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let written = self.lock().written;
        if *synced >= sequence.min(written) {
            return Ok(());
        }
        // A handle of its own, so that appenders are not held up by the sync.
        let file = backing
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .try_clone()
            .map_err(|e| KeyError::io(&backing.path, e))?;
        file.sync_data().map_err(|e| KeyError::io(&backing.path, e))?;
        *synced = written;
        Ok(())
    }
}

impl State {
    fn apply(&mut self, record: Record) -> Result<(), &'static str> {
        let hex32 = |text: &str| decode_hex(text).ok_or("a record holds a malformed key");
        match record {
            Record::Secrets { lookup, pseudonym } => {
                self.lookup = hex32(&lookup)?;
                self.pseudonym = hex32(&pseudonym)?;
            }
            Record::Person { youth, key, cpr_mac } => {
                let person = Person {
                    key: hex32(&key)?,
                    cpr_mac: hex32(&cpr_mac)?,
                };
                self.by_mac.insert(person.cpr_mac, YouthId(youth));
                self.people.insert(YouthId(youth), person);
            }
            Record::Erasing { youth } => {
                self.erasing.insert(YouthId(youth));
            }
            Record::Abandoned { youth } => {
                self.erasing.remove(&YouthId(youth));
            }
            Record::Erased { youth } => {
                let id = YouthId(youth);
                if let Some(person) = self.people.remove(&id) {
                    self.by_mac.remove(&person.cpr_mac);
                }
                self.erasing.remove(&id);
                self.erased.insert(id);
            }
        }
        Ok(())
    }

    fn secrets_record(&self) -> Record {
        Record::Secrets {
            lookup: encode_hex(&self.lookup),
            pseudonym: encode_hex(&self.pseudonym),
        }
    }

    fn cpr_mac(&self, cpr: &Cpr) -> [u8; 32] {
        hmac(&self.lookup, &[b"cpr:", cpr.formatted().as_bytes()])
    }

    fn draw(&mut self) -> [u8; 32] {
        let (seed, counter) = self.seed.unwrap_or((0, 0));
        self.seed = Some((seed, counter + 1));
        Sha256::new()
            .chain_update(b"kui seeded key")
            .chain_update(seed.to_le_bytes())
            .chain_update(counter.to_le_bytes())
            .finalize()
            .into()
    }

    fn draw_or_random(&mut self) -> Result<[u8; 32], KeyError> {
        if self.seed.is_some() {
            Ok(self.draw())
        } else {
            random()
        }
    }
}

fn random() -> Result<[u8; 32], KeyError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(bytes)
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    // A 32-byte key is always a valid HMAC key.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn check_value(master: &MasterKey) -> [u8; 16] {
    let full = hmac(&master.0, &[b"kui key store check"]);
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

fn header(master: &MasterKey) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&check_value(master));
    bytes
}

fn seal_record(master: &MasterKey, record: &Record) -> Result<Vec<u8>, KeyError> {
    let plain = serde_json::to_vec(record).map_err(|e| KeyError::Random(e.to_string()))?;
    let nonce: [u8; 24] = {
        let mut n = [0u8; 24];
        getrandom::fill(&mut n).map_err(|e| KeyError::Random(e.to_string()))?;
        n
    };
    let cipher = XChaCha20Poly1305::new((&master.0).into());
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: MAGIC,
            },
        )
        .map_err(|_| KeyError::Random("sealing a key record failed".into()))?;
    let len = (24 + sealed.len()) as u32;
    let mut bytes = Vec::with_capacity(4 + len as usize);
    bytes.extend_from_slice(&len.to_le_bytes());
    bytes.extend_from_slice(&nonce);
    bytes.extend_from_slice(&sealed);
    Ok(bytes)
}

fn open_record(master: &MasterKey, bytes: &[u8]) -> Option<Record> {
    if bytes.len() < 24 {
        return None;
    }
    let cipher = XChaCha20Poly1305::new((&master.0).into());
    let plain = cipher
        .decrypt(
            XNonce::from_slice(&bytes[..24]),
            Payload {
                msg: &bytes[24..],
                aad: MAGIC,
            },
        )
        .ok()?;
    serde_json::from_slice(&plain).ok()
}

fn sync_dir(path: &Path) -> Result<(), KeyError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| KeyError::io(parent, e))?;
    }
    Ok(())
}
