//! The master key: 32 random bytes in a file of their own (`kui master key v1` and 64
//! hex digits), read from a path and never from the command line, so that it shows in no
//! process list and no shell history.

use std::io::Write;
use std::path::Path;

use crate::error::KeyError;

const FIRST_LINE: &str = "kui master key v1";

/// The key the key store is sealed under.
#[derive(Clone)]
pub struct MasterKey(pub(crate) [u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// A key from known bytes (tests and tools that derive one).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MasterKey(bytes)
    }

    /// A new random key.
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(MasterKey(bytes))
    }

    /// Reads the key at `path`.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::MasterKeyMissing { path: path.to_owned() })
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(malformed(path, "it is not text"));
            }
            Err(e) => return Err(KeyError::io(path, e)),
        };
        let mut lines = text.lines();
        if lines.next() != Some(FIRST_LINE) {
            return Err(malformed(path, &format!("the first line must be {FIRST_LINE:?}")));
        }
        let hex = lines.next().unwrap_or("").trim();
        let bytes = decode_hex(hex).ok_or_else(|| malformed(path, "the second line must be 64 hex digits"))?;
        Ok(MasterKey(bytes))
    }

    /// Writes a new random key to `path`, readable by its owner only; refuses to replace a
    /// file that exists.
    pub fn create(path: &Path) -> Result<Self, KeyError> {
        let key = MasterKey::generate()?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| KeyError::io(parent, e))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| KeyError::io(path, e))?;
        let text = format!("{FIRST_LINE}\n{}\n", encode_hex(&key.0));
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| KeyError::io(path, e))?;
        Ok(key)
    }
}

fn malformed(path: &Path, why: &str) -> KeyError {
    KeyError::MasterKeyMalformed {
        path: path.to_owned(),
        why: why.to_owned(),
    }
}

pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_reads_back_and_a_second_create_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let key = MasterKey::create(&path).unwrap();
        assert_eq!(MasterKey::read(&path).unwrap().0, key.0);
        assert!(MasterKey::create(&path).is_err());
    }

    #[test]
    fn malformed_and_missing_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        assert!(matches!(MasterKey::read(&path), Err(KeyError::MasterKeyMissing { .. })));
        std::fs::write(&path, "kui master key v1\nnot hex\n").unwrap();
        assert!(matches!(
            MasterKey::read(&path),
            Err(KeyError::MasterKeyMalformed { .. })
        ));
        std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(
            MasterKey::read(&path),
            Err(KeyError::MasterKeyMalformed { .. })
        ));
        std::fs::write(&path, format!("something else\n{}\n", "0".repeat(64))).unwrap();
        assert!(matches!(
            MasterKey::read(&path),
            Err(KeyError::MasterKeyMalformed { .. })
        ));
    }
}
