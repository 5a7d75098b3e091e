//! Reading the segment's records back, and telling an interrupted write from damage.
//!
//! Recovery on open, the read-only open, [`crate::EventLog::verify`] and `repair` all walk
//! the records with one [`RecordReader`], so they agree on where the records end and on
//! what counts as damage.
//!
//! # The acknowledgement watermark
//!
//! Two 64-byte slots in the segment's header block hold the *watermark*: the segment
//! offset after the last acknowledged record, with that record's last position and hash.
//! It is written (alternating slots, each with a sequence number and a CRC) after a
//! group is made durable and *before* its requests are answered: by the flusher for
//! logs acknowledging synced groups, by the writer for logs acknowledging written ones.
//! The next group's `fdatasync` makes it durable; a log that goes idle syncs it on its own
//! shortly after.
//!
//! # Where the records end
//!
//! Records are read from the header block on. A record that fails (its header runs past
//! the end of the file, its length is 0 or above [`MAX_RECORD_BODY`], its CRC does not
//! match, or its entries do not parse) ends the walk, and the bytes from there to the end
//! of the file decide what it was:
//!
//! - Only zeros: the records simply end there (the file is kept extended with zeros
//!   ahead of the writer). Unless that is before the watermark: then acknowledged bytes
//!   are missing, which is damage.
//! - Before the watermark: **damage**. An acknowledged record was complete on disk when
//!   it was answered; whatever changed it since is reported with its byte offset and the
//!   position it should hold, never cut.
//! - After the watermark, with nothing but zeros from somewhere inside the failing record
//!   to the end of the file (the record's declared end lies in or past those zeros): an
//!   **interrupted write**. The writer writes a group with one positional write over
//!   zeros, so a write stopped by a crash leaves a prefix of its bytes and zeros after
//!   them; it was never answered (answers wait for the write and, by default, the sync).
//!   One changed byte of a complete record cannot look like this: it leaves the bytes
//!   after it as they were, up to the record's last byte, which a complete record never
//!   leaves zero in all of its final 32 bytes (a frame's hash, or a command's JSON).
//! - Anything else after the watermark (non-zero bytes past the record's end, as after a
//!   power loss that wrote later sectors of an unsynced write but not earlier ones):
//!   reported as damage too, for a person to decide with `repair`, which shows that the
//!   bytes lie after the last acknowledged write.
//!
//! A record whose last entry is *continues* belongs to a request that goes on in the next
//! record: when the walk ends in the middle of such a request, the interrupted write
//! starts at the first record of the request.

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::segment::{
    crc32, parse_entries, read_up_to, Entry, FORMAT_VERSION, HEADER_BLOCK, MAX_RECORD_BODY, RECORD_HEADER_LEN,
    SEGMENT_MAGIC,
};

/// Every complete record has non-zero bytes among its last this many bytes (its last
/// entry is a chunk ending in a frame's 32-byte hash, a command's JSON outcome, or a
/// continues entry right after a chunk).
const INTACT_TAIL: u64 = 32;

/// Offsets of the two watermark slots (in separate disk sectors, so that a torn write
/// of one leaves the other intact).
pub(crate) const WATERMARK_SLOTS: [u64; 2] = [512, 1024];
/// Bytes per watermark slot: sequence, offset, position, hash, CRC, padding.
const WATERMARK_LEN: usize = 64;

/// The end of the last acknowledged record, and the last event in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Watermark {
    /// Segment offset just after the last acknowledged record.
    pub(crate) offset: u64,
    /// Position of the last event in it.
    pub(crate) position: u64,
    /// Hash of that event.
    pub(crate) hash: [u8; 32],
}

impl Watermark {
    fn encode(&self, sequence: u64) -> [u8; WATERMARK_LEN] {
        let mut slot = [0u8; WATERMARK_LEN];
        slot[..8].copy_from_slice(&sequence.to_be_bytes());
        slot[8..16].copy_from_slice(&self.offset.to_be_bytes());
        slot[16..24].copy_from_slice(&self.position.to_be_bytes());
        slot[24..56].copy_from_slice(&self.hash);
        let crc = crc32(&slot[..56]);
        slot[56..60].copy_from_slice(&crc.to_be_bytes());
        slot
    }

    /// (sequence, watermark) of an intact slot; `Ok(None)` for an unused (all-zero) one.
    fn decode(slot: &[u8; WATERMARK_LEN]) -> Result<Option<(u64, Watermark)>, String> {
        if slot.iter().all(|&byte| byte == 0) {
            return Ok(None);
        }
        let u64_at = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&slot[at..at + 8]);
            u64::from_be_bytes(bytes)
        };
        let stored = u32::from_be_bytes([slot[56], slot[57], slot[58], slot[59]]);
        if stored != crc32(&slot[..56]) || slot[60..] != [0; 4] || u64_at(0) == 0 {
            return Err("its checksum does not match".into());
        }
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&slot[24..56]);
        Ok(Some((
            u64_at(0),
            Watermark {
                offset: u64_at(8),
                position: u64_at(16),
                hash,
            },
        )))
    }
}

/// What the header block holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderBlock {
    /// The newest intact watermark, with its sequence number.
    pub(crate) watermark: Option<(u64, Watermark)>,
    /// Problems that do not stop reading (a damaged slot while the other one is intact,
    /// non-zero padding), for `verify` to report.
    pub(crate) damage: Vec<String>,
}

/// The format version in a segment file's first 8 bytes, or why they are not a segment
/// header.
pub(crate) fn format_version(file: &File) -> std::io::Result<Result<u8, String>> {
    let mut header = [0u8; 8];
    if read_up_to(file, &mut header, 0)? != header.len() {
        return Ok(Err("it is shorter than a segment header".into()));
    }
    if header[..7] != SEGMENT_MAGIC[..] {
        return Ok(Err("it does not start with a kui segment header".into()));
    }
    Ok(Ok(header[7]))
}

/// The bytes of a new, empty segment's header block.
pub(crate) fn new_header_block() -> Vec<u8> {
    let mut block = vec![0u8; HEADER_BLOCK as usize];
    block[..7].copy_from_slice(SEGMENT_MAGIC);
    block[7] = FORMAT_VERSION;
    block
}

/// Reads the header block of a format 2 segment (the magic already checked).
///
/// A file cut short inside its header block is damage, but the watermark slots it still
/// holds are read: they say which events were acknowledged, so that a repair can tell
/// what the missing records lose.
pub(crate) fn read_header_block(file: &File) -> std::io::Result<Result<HeaderBlock, String>> {
    let mut block = vec![0u8; HEADER_BLOCK as usize];
    let read = read_up_to(file, &mut block, 0)?;
    let mut damage = Vec::new();
    let short = read < block.len();
    if short {
        damage.push(format!("the header block is shorter than {HEADER_BLOCK} bytes"));
    }
    let mut watermark: Option<(u64, Watermark)> = None;
    for at in WATERMARK_SLOTS {
        let start = at as usize;
        let mut slot = [0u8; WATERMARK_LEN];
        slot.copy_from_slice(&block[start..start + WATERMARK_LEN]);
        match Watermark::decode(&slot) {
            Ok(Some(found)) => {
                if watermark.is_none_or(|(sequence, _)| found.0 > sequence) {
                    watermark = Some(found);
                }
            }
            Ok(None) => {}
            Err(reason) => damage.push(format!("the watermark slot at byte {at} is damaged: {reason}")),
        }
    }
    let padding_damaged = block.iter().enumerate().skip(8).any(|(at, &byte)| {
        let in_slot = WATERMARK_SLOTS
            .iter()
            .any(|&slot| (slot as usize..slot as usize + WATERMARK_LEN).contains(&at));
        byte != 0 && !in_slot
    });
    if padding_damaged {
        damage.push("the header block holds non-zero bytes outside its fields".into());
    }
    if watermark.is_none() && (short || damage.iter().any(|reason| reason.starts_with("the watermark"))) {
        // Both slots unreadable (or one unused and the other damaged, or the file ends
        // before them): what was acknowledged is unknown, and guessing could cut
        // acknowledged events.
        return Ok(Err(damage.join("; ")));
    }
    Ok(Ok(HeaderBlock { watermark, damage }))
}

/// Writes the watermark, alternating between the two slots.
#[derive(Debug)]
pub(crate) struct WatermarkWriter {
    file: File,
    sequence: u64,
    last: Option<Watermark>,
}

impl WatermarkWriter {
    /// A writer continuing after the slot with `sequence`.
    pub(crate) fn new(file: File, current: Option<(u64, Watermark)>) -> WatermarkWriter {
        WatermarkWriter {
            file,
            sequence: current.map_or(0, |(sequence, _)| sequence),
            last: current.map(|(_, watermark)| watermark),
        }
    }

    /// Records `watermark` (a positional write into the page cache; the next sync of the
    /// segment makes it durable). Writes nothing when it has not moved.
    pub(crate) fn write(&mut self, watermark: Watermark) -> std::io::Result<()> {
        if self.last == Some(watermark) {
            return Ok(());
        }
        self.sequence += 1;
        let slot = WATERMARK_SLOTS[(self.sequence % 2) as usize];
        self.file.write_all_at(&watermark.encode(self.sequence), slot)?;
        self.last = Some(watermark);
        Ok(())
    }
}

/// Puts `watermark` with `sequence` into its slot of a header block being built.
pub(crate) fn write_watermark_into(block: &mut [u8], sequence: u64, watermark: &Watermark) {
    let slot = WATERMARK_SLOTS[(sequence % 2) as usize] as usize;
    block[slot..slot + WATERMARK_LEN].copy_from_slice(&watermark.encode(sequence));
}

/// One intact record.
pub(crate) struct Record<'a> {
    /// Where its header starts.
    pub(crate) offset: u64,
    /// Where its body starts.
    pub(crate) body_offset: u64,
    /// Its entries, in order (a final [`Entry::Continues`] included).
    pub(crate) entries: Vec<Entry<'a>>,
    /// Whether its last request continues in the next record.
    pub(crate) continues: bool,
}

/// How the records end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// Only zeros (or nothing) from `at` to the end of the file.
    Clean {
        /// The end of the last record.
        at: u64,
    },
    /// An interrupted write (never acknowledged) from `at`: non-zero bytes up to
    /// `nonzero_to`, zeros after them.
    Interrupted {
        /// Where the interrupted write starts (the end of the last complete request).
        at: u64,
        /// The end of its non-zero bytes.
        nonzero_to: u64,
        /// What is wrong with the record there.
        reason: String,
    },
}

/// Damage: a record that fails where the bytes cannot be an interrupted write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Damage {
    /// Offset of the damaged record (or of the first record of its request).
    pub(crate) offset: u64,
    /// What is wrong.
    pub(crate) reason: String,
    /// Whether the damaged bytes lie before the watermark (acknowledged).
    pub(crate) acknowledged: bool,
}

/// One step of a walk.
pub(crate) enum Step<'a> {
    /// The next intact record.
    Record(Record<'a>),
    /// The records end.
    End(End),
}

/// Walks the records of a segment from `start`, up to `len` (the file's length, or for
/// a log being written, the end of its durable records).
pub(crate) struct RecordReader<'f> {
    file: &'f File,
    offset: u64,
    len: u64,
    /// Bytes before this offset were acknowledged: any failure there is damage.
    vouched: u64,
    /// Offset of the first record of a request that continues, while in one.
    unit_start: Option<u64>,
    /// The checksum field of the failing record, when its header was read.
    header_crc: Option<u32>,
    body: Vec<u8>,
    done: bool,
}

impl<'f> RecordReader<'f> {
    pub(crate) fn new(file: &'f File, start: u64, len: u64, vouched: u64) -> RecordReader<'f> {
        RecordReader {
            file,
            offset: start,
            len,
            vouched,
            unit_start: None,
            header_crc: None,
            body: Vec::new(),
            done: false,
        }
    }

    /// The next record, or how the records end, or the damage that stops the walk.
    pub(crate) fn next(&mut self) -> Result<Step<'_>, Damage> {
        if self.done {
            return Err(Damage {
                offset: self.offset,
                reason: "the walk already ended".into(),
                acknowledged: false,
            });
        }
        let offset = self.offset;
        let io_damage = |error: std::io::Error| Damage {
            offset,
            reason: format!("reading the segment failed: {error}"),
            acknowledged: offset < self.vouched,
        };
        if self.len.saturating_sub(offset) < RECORD_HEADER_LEN as u64 {
            let reason = "the file ends inside a record header".to_owned();
            return self.finish(None, reason).map(Step::End);
        }
        let mut header = [0u8; RECORD_HEADER_LEN];
        self.file.read_exact_at(&mut header, offset).map_err(io_damage)?;
        let body_len = u64::from(u32::from_be_bytes([header[0], header[1], header[2], header[3]]));
        let crc = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        self.header_crc = Some(crc);
        let body_offset = offset + RECORD_HEADER_LEN as u64;
        let declared_end = body_offset + body_len;
        if body_len == 0 || body_len > MAX_RECORD_BODY {
            let reason = format!("the record header declares a body of {body_len} bytes");
            let declared = (body_len > 0 && body_len <= MAX_RECORD_BODY).then_some(declared_end);
            return self.finish(declared, reason).map(Step::End);
        }
        if declared_end > self.len {
            let reason = format!(
                "the record declares {body_len} bytes, but the file ends {} bytes after its header",
                self.len - body_offset
            );
            return self.finish(Some(declared_end), reason).map(Step::End);
        }
        let body_len = usize::try_from(body_len).map_err(|_| Damage {
            offset,
            reason: "record too large for this machine".into(),
            acknowledged: offset < self.vouched,
        })?;
        self.body.resize(body_len, 0);
        let mut body = std::mem::take(&mut self.body);
        let read = self.file.read_exact_at(&mut body, body_offset);
        self.body = body;
        read.map_err(io_damage)?;
        if crc32(&self.body) != crc {
            let reason = "its checksum does not match its bytes".to_owned();
            return self.finish(Some(declared_end), reason).map(Step::End);
        }
        let entries = match parse_entries(&self.body) {
            Ok(entries) => entries,
            Err(reason) => {
                // The checksum matched: the record was written whole and is malformed.
                self.done = true;
                return Err(Damage {
                    offset,
                    reason: format!("the record's checksum matches but its entries do not parse: {reason}"),
                    acknowledged: offset < self.vouched,
                });
            }
        };
        let continues = matches!(entries.last(), Some(Entry::Continues));
        if continues {
            self.unit_start.get_or_insert(offset);
        } else {
            self.unit_start = None;
        }
        self.offset = declared_end;
        Ok(Step::Record(Record {
            offset,
            body_offset,
            entries,
            continues,
        }))
    }

    /// Decides how the walk ends at the failing record at `self.offset` (its declared end,
    /// when its header is plausible).
    fn finish(&mut self, declared_end: Option<u64>, reason: String) -> Result<End, Damage> {
        self.done = true;
        let offset = self.offset;
        let nonzero_to = last_nonzero_end(self.file, offset, self.len).map_err(|error| Damage {
            offset,
            reason: format!("reading the segment failed: {error}"),
            acknowledged: offset < self.vouched,
        })?;
        let at = self.unit_start.unwrap_or(offset);
        if offset < self.vouched {
            let reason = if nonzero_to == offset {
                format!(
                    "the records end at byte {offset}, before the end of the last acknowledged write at byte {}",
                    self.vouched
                )
            } else {
                format!(
                    "the record at byte {offset} is damaged ({reason}); it lies before the end of the last acknowledged write at byte {}",
                    self.vouched
                )
            };
            return Err(Damage {
                offset,
                reason,
                acknowledged: true,
            });
        }
        if nonzero_to == offset {
            return Ok(if at == offset {
                End::Clean { at }
            } else {
                End::Interrupted {
                    at,
                    nonzero_to: offset,
                    reason: format!("the request written from byte {at} on ends nowhere"),
                }
            });
        }
        let interrupted = match declared_end {
            // The zeros must start well before the record's declared end: every complete
            // record has non-zero bytes among its last INTACT_TAIL bytes, so one changed
            // byte cannot make it look cut short.
            Some(end) => nonzero_to + INTACT_TAIL <= end,
            None => nonzero_to <= offset + RECORD_HEADER_LEN as u64,
        };
        if interrupted {
            if let Some(header_crc) = self.header_crc {
                let probe = complete_body_len(self.file, offset + RECORD_HEADER_LEN as u64, nonzero_to, header_crc);
                if let Some(real_len) = probe.map_err(|error| Damage {
                    offset,
                    reason: format!("reading the segment failed: {error}"),
                    acknowledged: false,
                })? {
                    return Err(Damage {
                        offset,
                        reason: format!(
                            "the record at byte {offset} is complete ({real_len} bytes match its checksum), but its length field is damaged"
                        ),
                        acknowledged: false,
                    });
                }
            }
            Ok(End::Interrupted { at, nonzero_to, reason })
        } else {
            Err(Damage {
                offset,
                reason: format!(
                    "the record at byte {offset} is damaged ({reason}), and non-zero bytes follow up to byte {nonzero_to}"
                ),
                acknowledged: false,
            })
        }
    }
}

/// The length of a complete record body starting at `body_offset` whose non-zero bytes
/// end at `nonzero_to` and whose bytes match `crc`, if there is one: a record whose length
/// field was damaged, not a write cut short.
///
/// Walks the entries from the body's start; the body can only end at an entry boundary at
/// or just after `nonzero_to` (a final continues entry ends in four zero bytes).
fn complete_body_len(file: &File, body_offset: u64, nonzero_to: u64, crc: u32) -> std::io::Result<Option<u64>> {
    let Some(nonzero) = nonzero_to.checked_sub(body_offset) else {
        return Ok(None);
    };
    let limit = (nonzero + 4).min(MAX_RECORD_BODY);
    let mut bytes = vec![0u8; usize::try_from(limit).unwrap_or(0)];
    let read = read_up_to(file, &mut bytes, body_offset)?;
    bytes.truncate(read);
    let mut at = 0usize;
    while at + 5 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[at + 1], bytes[at + 2], bytes[at + 3], bytes[at + 4]]) as usize;
        let Some(end) = (at + 5).checked_add(len).filter(|&end| end <= bytes.len()) else {
            return Ok(None);
        };
        at = end;
        if at as u64 >= nonzero && crc32(&bytes[..at]) == crc {
            return Ok(Some(at as u64));
        }
    }
    Ok(None)
}

/// The offset just after the last non-zero byte in `from..to`, or `from` when there is
/// none.
///
/// Reads backwards a megabyte at a time and compares whole pages with zeros (a `memcmp`),
/// since the zeros written ahead of the writer are megabytes long.
pub(crate) fn last_nonzero_end(file: &File, from: u64, to: u64) -> std::io::Result<u64> {
    const BLOCK: u64 = 1024 * 1024;
    const PAGE: usize = 4096;
    static ZEROS: [u8; PAGE] = [0; PAGE];
    let mut block = vec![0u8; BLOCK as usize];
    let mut end = to;
    while end > from {
        let start = end.saturating_sub(BLOCK).max(from);
        let len = (end - start) as usize;
        let read = read_up_to(file, &mut block[..len], start)?;
        let bytes = &block[..read];
        let mut page_end = bytes.len();
        while page_end > 0 {
            let page_start = page_end.saturating_sub(PAGE);
            let page = &bytes[page_start..page_end];
            if page != &ZEROS[..page.len()] {
                let last = page.iter().rposition(|&byte| byte != 0).unwrap_or(0);
                return Ok(start + (page_start + last) as u64 + 1);
            }
            page_end = page_start;
        }
        end = start;
    }
    Ok(from)
}
