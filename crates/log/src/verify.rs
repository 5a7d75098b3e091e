//! End-to-end verification of a [`crate::SledLog`] (`kui verify`).
//!
//! One sequential pass over the chunks recomputes every hash and checks the prev-hash
//! links, gap-free positions and gap-free versions per stream.
//! A second pass over the stream index (stored blocks plus the in-memory tail) compares,
//! per stream, the number of entries and
//! a fingerprint of the (version, position) pairs with what the chunks hold; only a
//! stream whose fingerprint differs is re-checked entry by entry to name the bad
//! position.
//! That keeps verification sequential (no random lookups) for millions of events.

use std::collections::HashMap;

use crate::codec::{self, blank_envelope, hash_canonical, split_frame, ChunkView, ZERO_HASH};
use crate::error::LogError;
use crate::segment::WindowReader;
use crate::sled_log::Shared;
use crate::types::{Position, StreamId, VerifyReport};

/// `progress` is called every this many events.
const PROGRESS_EVERY: u64 = 4096;

/// What the chunks and the index say about one stream.
#[derive(Default)]
struct StreamCheck {
    /// Last version seen in the chunks (= number of events, versions being gap-free).
    version: u64,
    /// Sum of `mix(version, position, chunk_first)` over the stream's events.
    fingerprint: u64,
    first_position: u64,
    index_entries: u64,
    index_fingerprint: u64,
}

/// A well-mixed 64-bit value for one index entry (splitmix64 finalizer).
fn mix(version: u64, position: u64, chunk_first: u64) -> u64 {
    let mut z = version.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ position.rotate_left(29) ^ chunk_first.rotate_left(47);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub(crate) fn verify(shared: &Shared, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, LogError> {
    let Some((head_position, head_hash)) = shared.durable_head() else {
        return Ok(VerifyReport {
            events: 0,
            streams: 0,
            head: None,
        });
    };
    let mut streams: HashMap<String, StreamCheck> = HashMap::new();
    let mut expected = 1u64;
    let mut last_hash = ZERO_HASH;
    let mut envelope = blank_envelope();
    let mut until_progress = PROGRESS_EVERY;
    let mut reader = WindowReader::new(&shared.segment);
    let mut cursor = 1;
    'chunks: loop {
        let batch = shared.directory.range(cursor, head_position, 1024);
        let Some(&(last_first, _)) = batch.last() else {
            break;
        };
        cursor = last_first + 1;
        for (first, loc) in batch {
            if first != expected {
                return Err(LogError::corrupt_at(
                    expected,
                    format!("gap: position {expected} is missing, the next chunk starts at {first}"),
                ));
            }
            let bytes = reader.get(loc).map_err(|error| {
                LogError::corrupt_at(first, format!("reading the chunk starting here failed: {error}"))
            })?;
            let chunk = ChunkView::parse(bytes)
                .map_err(|reason| LogError::corrupt_at(first, format!("chunk starting here: {reason}")))?;
            for index in 0..chunk.count() {
                let position = first + index as u64;
                if position > head_position {
                    break 'chunks;
                }
                let frame = chunk.frame(index);
                let corrupt = |reason: String| LogError::corrupt_at(position, reason);
                let (canonical, stored_hash) = split_frame(frame).map_err(corrupt)?;
                if hash_canonical(canonical) != stored_hash {
                    return Err(corrupt(
                        "hash mismatch: the stored event does not hash to its stored hash".into(),
                    ));
                }
                codec::decode_frame_into(frame, &mut envelope).map_err(corrupt)?;
                if envelope.position.0 != position {
                    return Err(corrupt(format!(
                        "the frame stored here claims position {}",
                        envelope.position
                    )));
                }
                if envelope.prev_hash != last_hash {
                    return Err(corrupt(format!(
                        "broken link: prev_hash does not match the hash of position {}",
                        position - 1
                    )));
                }
                let stream = match streams.get_mut(envelope.stream.as_str()) {
                    Some(stream) => stream,
                    None => streams
                        .entry(envelope.stream.as_str().to_owned())
                        .or_insert(StreamCheck {
                            first_position: position,
                            ..StreamCheck::default()
                        }),
                };
                if envelope.version.0 != stream.version + 1 {
                    return Err(corrupt(format!(
                        "version gap in stream {}: expected version {}, found {}",
                        envelope.stream,
                        stream.version + 1,
                        envelope.version
                    )));
                }
                stream.version = envelope.version.0;
                stream.fingerprint = stream.fingerprint.wrapping_add(mix(stream.version, position, first));
                last_hash = stored_hash;
                expected = position + 1;
                until_progress -= 1;
                if until_progress == 0 {
                    progress(position);
                    until_progress = PROGRESS_EVERY;
                }
            }
        }
    }
    if expected <= head_position {
        return Err(LogError::corrupt_at(
            expected,
            format!(
                "gap: the durable head is {head_position} but the events end at {}",
                expected - 1
            ),
        ));
    }
    if last_hash != head_hash {
        return Err(LogError::corrupt_at(
            head_position,
            "the hash of the last event differs from the recorded head hash",
        ));
    }
    progress(head_position);

    check_index(shared, head_position, &mut streams)?;
    check_commands(shared, head_position)?;
    Ok(VerifyReport {
        events: head_position,
        streams: streams.len() as u64,
        head: Some((Position(head_position), head_hash)),
    })
}

/// Compares the stream index with what the chunks hold.
fn check_index(
    shared: &Shared,
    head_position: u64,
    streams: &mut HashMap<String, StreamCheck>,
) -> Result<(), LogError> {
    shared.index.for_each_entry(&shared.db, &mut |stream, entry| {
        let (version, position) = (entry.version, entry.position);
        if position > head_position {
            // Written by a group that is not durable yet.
            return Ok(());
        }
        let Some(check) = streams.get_mut(stream) else {
            return Err(LogError::corrupt_at(
                position,
                format!(
                    "index mismatch: the index lists {stream} version {version} here, but the stream has no events"
                ),
            ));
        };
        check.index_entries += 1;
        check.index_fingerprint = check
            .index_fingerprint
            .wrapping_add(mix(version, position, entry.chunk_first));
        Ok(())
    })?;
    let mut mismatched: Vec<(&String, &StreamCheck)> = streams
        .iter()
        .filter(|(_, check)| check.index_entries != check.version || check.index_fingerprint != check.fingerprint)
        .collect();
    mismatched.sort_by_key(|(_, check)| check.first_position);
    if let Some((stream, check)) = mismatched.first() {
        return Err(locate_index_mismatch(shared, head_position, stream, check));
    }
    Ok(())
}

/// Finds the first wrong entry of a stream whose index fingerprint differs.
fn locate_index_mismatch(shared: &Shared, head_position: u64, stream: &str, check: &StreamCheck) -> LogError {
    let mismatch = |position: u64, reason: String| {
        LogError::corrupt_at(position, format!("index mismatch in stream {stream}: {reason}"))
    };
    let stream_id = match StreamId::new(stream) {
        Ok(stream_id) => stream_id,
        Err(error) => return mismatch(check.first_position, error.to_string()),
    };
    let entries = match shared.index.entries(&shared.db, &stream_id, 1, head_position) {
        Ok(entries) => entries,
        Err(error) => return error,
    };
    let mut cache = None;
    let mut expected_version = 1;
    for entry in entries {
        let (version, position) = (entry.version, entry.position);
        if version != expected_version {
            return mismatch(
                check.first_position,
                format!("the index has no entry for version {expected_version}"),
            );
        }
        match shared.event_in_chunk(position, entry.chunk_first, &mut cache) {
            Ok(envelope) if envelope.stream.as_str() == stream && envelope.version.0 == version => {}
            Ok(envelope) => {
                return mismatch(
                    position,
                    format!(
                        "version {version} points to position {position}, which holds {} version {}",
                        envelope.stream, envelope.version
                    ),
                )
            }
            Err(error) => return mismatch(position, error.to_string()),
        }
        expected_version += 1;
    }
    if expected_version <= check.version {
        return mismatch(
            check.first_position,
            format!("the index has no entry for version {expected_version}"),
        );
    }
    mismatch(check.first_position, "index entries do not match the events".into())
}

/// Checks that every command outcome is readable and points into the log.
fn check_commands(shared: &Shared, head_position: u64) -> Result<(), LogError> {
    let (mut outcomes, mut persisted) = shared.commands.all()?;
    // In segment order, through the read window.
    persisted.sort_by_key(|(_, loc)| loc.offset);
    let mut reader = WindowReader::new(&shared.segment);
    for (command_id, loc) in persisted {
        let bytes = reader.get(loc).map_err(|error| LogError::Corrupt {
            position: None,
            reason: format!("command {command_id}: reading its outcome from the segment failed: {error}"),
        })?;
        let outcome = crate::segment::parse_outcome(&command_id, bytes)?;
        outcomes.push((command_id, outcome));
    }
    for (_, outcome) in outcomes {
        let (first, last) = (outcome.first_position.0, outcome.last_position.0);
        if last > head_position {
            continue;
        }
        if first == 0 || first > last {
            return Err(LogError::corrupt_at(
                first,
                format!("command outcome covers an invalid range {first}..={last}"),
            ));
        }
    }
    Ok(())
}
