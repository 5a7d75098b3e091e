//! What can go wrong with keys. No variant carries a personal value.

use std::path::PathBuf;

/// A key store or master key problem.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The master key file does not exist.
    #[error("no master key at {path}: give the file the key store was created with (--master-key-file or KUI_MASTER_KEY_FILE)")]
    MasterKeyMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The master key file is not a kui master key.
    #[error("{path} is not a kui master key: {why}")]
    MasterKeyMalformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The master key does not open this key store.
    #[error("the master key does not open the key store {path}: it was created under another master key")]
    WrongMasterKey {
        /// The key store.
        path: PathBuf,
    },
    /// The key store file does not exist.
    #[error("no key store at {path}: the personal data of the log cannot be read without it")]
    KeyStoreMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A record of the key store fails its check.
    #[error("the key store {path} is damaged at byte {offset}: {why}")]
    Damaged {
        /// The key store.
        path: PathBuf,
        /// Where the damaged record starts.
        offset: u64,
        /// What is wrong.
        why: String,
    },
    /// The young person has no key: never registered.
    #[error("no key for young person {youth}")]
    Unknown {
        /// The young person's id.
        youth: String,
    },
    /// The young person's key was destroyed.
    #[error("the personal data of young person {youth} was erased")]
    Erased {
        /// The young person's id.
        youth: String,
    },
    /// Reading or writing the key store failed.
    #[error("key store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The operating system gave no random bytes.
    #[error("no random bytes from the operating system: {0}")]
    Random(String),
}

impl KeyError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        KeyError::Io {
            path: path.to_owned(),
            source,
        }
    }
}
