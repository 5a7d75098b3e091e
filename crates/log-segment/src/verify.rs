//! End-to-end verification of a [`crate::SegmentLog`] (`kui verify`): reads only.
//!
//! One sequential pass over the segment's records, from the header block to the end of
//! the durable records, checks every byte the log stores:
//!
//! - the header block (magic, format, the watermark slots, zeros elsewhere);
//! - every record's length and checksum, and its entries;
//! - every chunk: consecutive positions, and the place the chunk directory gives it;
//! - every frame: its hash recomputed, its link to the previous hash, its position, and
//!   gap-free versions per stream;
//! - every command outcome: it parses and covers positions written before it;
//! - that a request split over records is complete, that the watermark names an event
//!   with that event's hash, and that the last event is the durable head.

use std::collections::HashMap;

use crate::codec::{self, blank_envelope, ChunkView, ZERO_HASH};
use crate::records::{self, End, RecordReader, Step};
use crate::recovery::{check_frame, damaged_event};
use crate::segment::{ChunkLoc, Entry, HEADER_BLOCK};
use crate::segment_log::Shared;
use kui_log::LogError;
use kui_log::{Position, VerifyReport};

/// `progress` is called every this many events.
const PROGRESS_EVERY: u64 = 4096;

pub(crate) fn verify(shared: &Shared, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, LogError> {
    let header = records::read_header_block(&shared.segment)
        .map_err(LogError::io)?
        .map_err(|reason| header_damage(&reason))?;
    if let Some(reason) = header.damage.first().or(shared.header_damage.first()) {
        return Err(header_damage(reason));
    }
    let head = shared.durable_head();
    let end = shared.durable_offset();
    let mut versions: HashMap<String, u64> = HashMap::new();
    let mut last_hash = ZERO_HASH;
    let mut next_position = 1u64;
    let mut envelope = blank_envelope();
    let mut until_progress = PROGRESS_EVERY;
    let mut watermark_hash = None;
    let watermark = header.watermark.map(|(_, watermark)| watermark);
    let mut reader = RecordReader::new(&shared.segment, HEADER_BLOCK, end, end);
    let mut in_request = false;
    loop {
        let step = reader.next().map_err(|damage| {
            let (position, event) = damaged_event(&shared.segment, damage.offset, next_position, &last_hash);
            LogError::corrupt_at(
                position,
                format!("segment byte {}: {}{event}", damage.offset, damage.reason),
            )
        })?;
        let record = match step {
            Step::Record(record) => record,
            Step::End(End::Clean { at }) if at == end => break,
            Step::End(End::Clean { at } | End::Interrupted { at, .. }) => {
                return Err(LogError::corrupt_at(
                    next_position,
                    format!("segment byte {at}: the records end before the durable end at byte {end}"),
                ))
            }
        };
        in_request = record.continues;
        for entry in &record.entries {
            match entry {
                Entry::Chunk { at, bytes } => {
                    let first = next_position;
                    let loc = ChunkLoc {
                        offset: record.body_offset + *at as u64,
                        len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
                    };
                    if shared.directory.get(first) != Some(loc) {
                        return Err(LogError::corrupt_at(
                            first,
                            format!(
                                "the chunk directory (derived data) does not place the chunk starting here at segment byte {}",
                                loc.offset
                            ),
                        ));
                    }
                    let chunk = ChunkView::parse(bytes)
                        .map_err(|reason| LogError::corrupt_at(first, format!("chunk starting here: {reason}")))?;
                    for index in 0..chunk.count() {
                        let position = first + index as u64;
                        last_hash = check_frame(position, chunk.frame(index), &last_hash, &mut envelope, true)?;
                        let version = versions.entry(envelope.stream.as_str().to_owned()).or_insert(0);
                        if envelope.version.0 != *version + 1 {
                            return Err(LogError::corrupt_at(
                                position,
                                format!(
                                    "version gap in stream {}: expected version {}, found {}",
                                    envelope.stream,
                                    *version + 1,
                                    envelope.version
                                ),
                            ));
                        }
                        *version = envelope.version.0;
                        if watermark.is_some_and(|watermark| watermark.position == position) {
                            watermark_hash = Some(last_hash);
                        }
                        until_progress -= 1;
                        if until_progress == 0 {
                            progress(position);
                            until_progress = PROGRESS_EVERY;
                        }
                    }
                    next_position = first + chunk.count() as u64;
                }
                Entry::Command {
                    command_id, outcome, ..
                } => {
                    let written = next_position - 1;
                    let outcome = codec::decode_outcome(outcome).map_err(|reason| {
                        LogError::corrupt_at(written, format!("the outcome of command {command_id}: {reason}"))
                    })?;
                    let (first, last) = (outcome.first_position.0, outcome.last_position.0);
                    if first == 0 || first > last || last > written {
                        return Err(LogError::corrupt_at(
                            written,
                            format!(
                                "command {command_id} claims positions {first}..={last}, but the log holds up to {written} there"
                            ),
                        ));
                    }
                }
                Entry::Continues => {}
            }
        }
    }
    let last_position = next_position - 1;
    if in_request {
        return Err(LogError::corrupt_at(
            next_position,
            "the last request goes on past the durable records",
        ));
    }
    match head {
        None if last_position == 0 => {}
        Some((position, hash)) if position == last_position && hash == last_hash => {}
        _ => {
            return Err(LogError::corrupt_at(
                last_position,
                format!(
                    "the records end at position {last_position}, but the durable head is {}",
                    head.map_or(0, |(position, _)| position)
                ),
            ))
        }
    }
    if let Some(watermark) = watermark.filter(|watermark| watermark.position > 0) {
        // A watermark past the durable head belongs to a log that is being written.
        if watermark.position <= last_position && watermark_hash != Some(watermark.hash) {
            return Err(LogError::corrupt_at(
                watermark.position,
                "the acknowledgement watermark names this position with a hash the stored event does not have",
            ));
        }
    }
    progress(last_position);
    Ok(VerifyReport {
        events: last_position,
        streams: versions.len() as u64,
        head: head.map(|(position, hash)| (Position(position), hash)),
    })
}

fn header_damage(reason: &str) -> LogError {
    LogError::Corrupt {
        position: None,
        reason: format!("the segment's header block: {reason}"),
    }
}
