//! What opening a segment log can fail with beyond [`LogError`], and the one conversion
//! of sled's errors.

use std::path::PathBuf;

use kui_log::LogError;

/// Why a log directory cannot be opened (or repaired, reindexed, upgraded).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The directory exists and is not empty, but it is not a kui log.
    ///
    /// Handling: the path is probably wrong; refuse to start rather than write into
    /// someone else's data.
    #[error("{} is not a kui log (it is not empty and holds no segment file)", .path.display())]
    NotALog {
        /// The directory that was opened.
        path: PathBuf,
    },

    /// The directory holds a log in an earlier on-disk format, which this build reads only
    /// to upgrade it.
    ///
    /// Handling: upgrade the directory (it copies the records into the current format
    /// and keeps every event and hash as it is), then open it again.
    #[error("{} holds a log in an earlier format (segment format {format}), which must be upgraded before use", .path.display())]
    EarlierFormat {
        /// The log directory.
        path: PathBuf,
        /// The format version found.
        format: u8,
    },

    /// Anything else: damage ([`LogError::Corrupt`]), a file system or sled error
    /// ([`LogError::Backend`], a held lock among them).
    #[error(transparent)]
    Log(#[from] LogError),
}

impl From<std::io::Error> for OpenError {
    fn from(error: std::io::Error) -> OpenError {
        OpenError::Log(LogError::io(error))
    }
}

/// The one conversion of sled's errors: damage sled reports is [`LogError::Corrupt`],
/// everything else [`LogError::Backend`].
pub(crate) fn sled_error(error: sled::Error) -> LogError {
    match error {
        sled::Error::Corruption { .. } => LogError::Corrupt {
            position: None,
            reason: format!("sled reported corruption in the derived data: {error}"),
        },
        other => LogError::Backend(Box::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sled_errors_map_to_backend_or_corrupt() {
        let error = sled_error(sled::Error::Unsupported("x".into()));
        assert!(matches!(error, LogError::Backend(_)));
        let error = sled_error(sled::Error::Corruption { at: None, bt: () });
        assert!(matches!(error, LogError::Corrupt { position: None, .. }));
    }
}
