//! What an operator does with a log the open refuses: [`inspect`] a damaged log and
//! [`repair`] it (cut the damaged records and everything after them, a copy kept),
//! [`reindex`] it (drop the derived data, which the next open rebuilds from the segment),
//! or [`upgrade`] a log in an earlier format.
//!
//! None of these runs beside a process that has the log open: each first takes the lock
//! of the derived data (sled's), and fails with [`LogError::Backend`] when it is held.

use std::fs::{self, File};
use std::io::Write as _;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::codec::{self, ChunkView, ZERO_HASH};
use kui_log::LogError;

use crate::error::OpenError;
use crate::records::{self, End, RecordReader, Step, Watermark};
use crate::recovery::{self, Tail, INDEX_DIR};
use crate::segment::{read_up_to, Entry, FORMAT_VERSION, HEADER_BLOCK, RECORD_HEADER_LEN, SEGMENT_FILE};

/// The directory a repair keeps the bytes it cut in.
pub const REPAIR_DIR: &str = "repair";

/// What a repair would do to a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairPlan {
    /// The log directory.
    pub path: PathBuf,
    /// What is wrong, as the open or `verify` reports it.
    pub problem: String,
    /// The segment byte the cut starts at (the end of the last intact request); `None`
    /// when only the header block is damaged and no event is cut.
    pub cut_at: Option<u64>,
    /// How many bytes the cut removes (up to the last non-zero byte of the file).
    pub cut_bytes: u64,
    /// The last position kept (0: none).
    pub kept_head: u64,
    /// The highest position found intact after the damage (the cut loses
    /// `kept_head + 1` up to at least this), when any was found.
    pub last_found: Option<u64>,
    /// When the cut removes acknowledged events: the last acknowledged position (the cut
    /// loses `kept_head + 1 ..= this` although they were answered as durable).
    pub acknowledged_to: Option<u64>,
    kept_hash: [u8; 32],
    watermark_sequence: u64,
}

impl RepairPlan {
    /// Whether the repair removes events that were acknowledged as durable.
    pub fn loses_acknowledged(&self) -> bool {
        self.acknowledged_to.is_some()
    }
}

/// What [`repair`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// The copy of the cut bytes (and of the header block as it was).
    pub copies: Vec<PathBuf>,
    /// The log's head after the repair.
    pub head: u64,
}

/// Reads the log in `path` (nothing is written) and says what a repair would cut, or
/// `None` when there is nothing to repair.
///
/// An interrupted write at the end is a plan too (it never was acknowledged; a writable
/// open would cut it by itself).
pub fn inspect(path: &Path) -> Result<Option<RepairPlan>, OpenError> {
    let file = open_segment_file(path, false)?;
    let file_len = file.metadata().map_err(LogError::io)?.len();
    let (watermark, sequence, header_problem) = match records::read_header_block(&file).map_err(LogError::io)? {
        Ok(header) => (
            header.watermark.map(|(_, watermark)| watermark),
            header.watermark.map_or(0, |(sequence, _)| sequence),
            (!header.damage.is_empty()).then(|| header.damage.join("; ")),
        ),
        Err(reason) => (None, 0, Some(reason)),
    };
    let vouched = watermark.map_or(HEADER_BLOCK, |watermark| watermark.offset);
    let mut tail = Tail::new(1, ZERO_HASH, true);
    let mut envelope = codec::blank_envelope();
    let mut reader = RecordReader::new(&file, HEADER_BLOCK, file_len, vouched);
    // The state before the first record of the request being read, and its offset.
    let mut request: Option<(u64, recovery::Mark)> = None;
    let (cut_at, problem, damaged_record) = loop {
        let step = match reader.next() {
            Ok(step) => step,
            Err(damage) => {
                let at = restore_request(&mut tail, request.take()).unwrap_or(damage.offset);
                break (Some(at), damage.reason, Some(damage.offset));
            }
        };
        match step {
            Step::Record(record) => {
                let before = tail.mark();
                let offset = record.offset;
                if let Err(error) = tail.apply(&record, &mut envelope) {
                    tail.restore(before);
                    let at = restore_request(&mut tail, request.take()).unwrap_or(offset);
                    break (Some(at), error.to_string(), Some(offset));
                }
                if !record.continues {
                    request = None;
                } else if request.is_none() {
                    request = Some((offset, before));
                }
            }
            Step::End(End::Clean { .. }) => break (None, String::new(), None),
            Step::End(End::Interrupted { at, reason, .. }) => {
                restore_request(&mut tail, request.take());
                break (
                    Some(at),
                    format!("an interrupted write (never acknowledged) at byte {at}: {reason}"),
                    None,
                );
            }
        }
    };
    let problem = match (cut_at, header_problem) {
        (None, None) => return Ok(None),
        (None, Some(header)) => format!("the segment's header block: {header}"),
        (Some(_), Some(header)) => format!("{problem}; the segment's header block: {header}"),
        (Some(_), None) => problem,
    };
    let kept_head = tail.next_position - 1;
    let cut_bytes = match cut_at {
        Some(at) => records::last_nonzero_end(&file, at, file_len)
            .map_err(LogError::io)?
            .saturating_sub(at),
        None => 0,
    };
    let last_found = match damaged_record {
        Some(offset) => positions_after(&file, offset, file_len),
        None => None,
    };
    let acknowledged_to = match (cut_at, watermark) {
        (Some(at), Some(watermark)) if at < watermark.offset && watermark.position > kept_head => {
            Some(watermark.position)
        }
        _ => None,
    };
    Ok(Some(RepairPlan {
        path: path.to_path_buf(),
        problem,
        cut_at,
        cut_bytes,
        kept_head,
        last_found,
        acknowledged_to,
        kept_hash: tail.last_hash,
        watermark_sequence: sequence,
    }))
}

/// Carries out `plan`: copies the bytes it cuts (and the header block as it was) into
/// `<log>/repair/`, cuts the segment, writes a fresh header block whose watermark names
/// the new last record, syncs, and drops the derived data so that the next open rebuilds
/// it. The log must not be open anywhere.
pub fn repair(plan: &RepairPlan) -> Result<Repaired, OpenError> {
    let path = &plan.path;
    ensure_not_open(path)?;
    let file = open_segment_file(path, true)?;
    let repair_dir = path.join(REPAIR_DIR);
    fs::create_dir_all(&repair_dir).map_err(LogError::io)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut copies = Vec::new();
    let mut header = vec![0u8; HEADER_BLOCK as usize];
    let read = read_up_to(&file, &mut header, 0).map_err(LogError::io)?;
    header.truncate(read);
    let header_copy = repair_dir.join(format!("{stamp}-header-block"));
    write_synced(&header_copy, &header)?;
    copies.push(header_copy);
    let end = match plan.cut_at {
        Some(at) => {
            let mut bytes = vec![
                0u8;
                usize::try_from(plan.cut_bytes).map_err(|_| LogError::Corrupt {
                    position: None,
                    reason: "the bytes to cut do not fit in memory".into(),
                })?
            ];
            let read = read_up_to(&file, &mut bytes, at).map_err(LogError::io)?;
            bytes.truncate(read);
            let copy = repair_dir.join(format!("{stamp}-cut-at-byte-{at}"));
            write_synced(&copy, &bytes)?;
            copies.push(copy);
            file.set_len(at).map_err(LogError::io)?;
            at
        }
        None => {
            let len = file.metadata().map_err(LogError::io)?.len();
            records::last_nonzero_end(&file, HEADER_BLOCK, len).map_err(LogError::io)?
        }
    };
    let mut block = records::new_header_block();
    if plan.kept_head > 0 {
        let watermark = Watermark {
            offset: end,
            position: plan.kept_head,
            hash: plan.kept_hash,
        };
        records::write_watermark_into(&mut block, plan.watermark_sequence + 1, &watermark);
    }
    file.write_all_at(&block, 0).map_err(LogError::io)?;
    file.sync_all().map_err(LogError::io)?;
    sync_dir(&repair_dir)?;
    drop_index(path)?;
    Ok(Repaired {
        copies,
        head: plan.kept_head,
    })
}

/// Drops the derived data of the log in `path` (the stream index, the chunk directory,
/// the command table); the next open rebuilds it from the segment. The log must not be
/// open anywhere.
pub fn reindex(path: &Path) -> Result<(), OpenError> {
    open_segment_file(path, false)?;
    ensure_not_open(path)?;
    Ok(drop_index(path)?)
}

/// What [`upgrade`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgraded {
    /// Events copied.
    pub events: u64,
    /// Record bytes copied.
    pub bytes: u64,
    /// An interrupted write found at the end of the old segment (not copied).
    pub interrupted_bytes: u64,
}

/// Upgrades a log in segment format 1 (an 8-byte header, records from byte 8, the
/// derived data in the log directory itself) to the current format: its records are
/// copied unchanged after a new header block, every event keeps its position and hash,
/// and the old derived data is removed (the next open rebuilds it).
///
/// The old segment is replaced only after the new one is complete and synced; a log that
/// does not verify (damage in a record) is refused and left as it was. `None` when the
/// log is already in the current format.
pub fn upgrade(path: &Path) -> Result<Option<Upgraded>, OpenError> {
    let segment_path = path.join(SEGMENT_FILE);
    let old = File::open(&segment_path).map_err(LogError::io)?;
    match records::format_version(&old).map_err(LogError::io)? {
        Ok(1) => {}
        Ok(FORMAT_VERSION) => return Ok(None),
        Ok(other) => {
            return Err(LogError::Corrupt {
                position: None,
                reason: format!("segment format {other} is unknown to this build"),
            }
            .into())
        }
        Err(reason) => {
            return Err(LogError::Corrupt {
                position: None,
                reason: format!("{}: {reason}", segment_path.display()),
            }
            .into())
        }
    }
    // The old layout keeps sled's files in the log directory: its lock says whether a
    // process has the log open.
    ensure_unlocked(path)?;
    const OLD_START: u64 = 8;
    let old_len = old.metadata().map_err(LogError::io)?.len();
    let mut tail = Tail::new(1, ZERO_HASH, true);
    let mut envelope = codec::blank_envelope();
    let mut reader = RecordReader::new(&old, OLD_START, old_len, OLD_START);
    let (end, interrupted_bytes) = loop {
        let step = reader.next().map_err(|damage| {
            LogError::corrupt_at(
                tail.next_position,
                format!(
                    "segment byte {}: {}; the log is not upgraded",
                    damage.offset, damage.reason
                ),
            )
        })?;
        match step {
            Step::Record(record) => tail.apply(&record, &mut envelope)?,
            Step::End(End::Clean { at }) => break (at, 0),
            Step::End(End::Interrupted { at, nonzero_to, .. }) => break (at, nonzero_to - at),
        }
    };
    let new_path = path.join(format!("{SEGMENT_FILE}.upgrade"));
    let _ = fs::remove_file(&new_path);
    let new = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&new_path)
        .map_err(LogError::io)?;
    let mut block = records::new_header_block();
    let head = tail.next_position - 1;
    let new_end = HEADER_BLOCK + (end - OLD_START);
    if head > 0 {
        let watermark = Watermark {
            offset: new_end,
            position: head,
            hash: tail.last_hash,
        };
        records::write_watermark_into(&mut block, 1, &watermark);
    }
    new.write_all_at(&block, 0).map_err(LogError::io)?;
    let mut buffer = vec![0u8; 4 * 1024 * 1024];
    let mut copied = 0u64;
    while OLD_START + copied < end {
        let len = usize::try_from((end - OLD_START - copied).min(buffer.len() as u64)).unwrap_or(buffer.len());
        old.read_exact_at(&mut buffer[..len], OLD_START + copied)
            .map_err(LogError::io)?;
        new.write_all_at(&buffer[..len], HEADER_BLOCK + copied)
            .map_err(LogError::io)?;
        copied += len as u64;
    }
    new.sync_all().map_err(LogError::io)?;
    fs::rename(&new_path, &segment_path).map_err(LogError::io)?;
    sync_dir(path)?;
    for name in ["db", "conf", "blobs"] {
        let old_file = path.join(name);
        let removed = if old_file.is_dir() {
            fs::remove_dir_all(&old_file)
        } else {
            fs::remove_file(&old_file)
        };
        match removed {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
    }
    for entry in fs::read_dir(path).map_err(LogError::io)? {
        let entry = entry.map_err(LogError::io)?;
        if entry.file_name().to_string_lossy().starts_with("snap.") {
            fs::remove_file(entry.path()).map_err(LogError::io)?;
        }
    }
    sync_dir(path)?;
    Ok(Some(Upgraded {
        events: head,
        bytes: copied,
        interrupted_bytes,
    }))
}

/// Rolls `tail` back to before the request that spans records, if one was being read;
/// returns the offset of its first record.
fn restore_request(tail: &mut Tail, request: Option<(u64, recovery::Mark)>) -> Option<u64> {
    let (at, mark) = request?;
    tail.restore(mark);
    Some(at)
}

/// The highest position in the intact records that follow the damaged record at
/// `offset`, reading on from its declared end (best effort: `None` when its header says
/// nothing usable or nothing intact follows).
fn positions_after(file: &File, offset: u64, len: u64) -> Option<u64> {
    let mut header = [0u8; RECORD_HEADER_LEN];
    file.read_exact_at(&mut header, offset).ok()?;
    let body_len = u64::from(u32::from_be_bytes([header[0], header[1], header[2], header[3]]));
    let next = offset + RECORD_HEADER_LEN as u64 + body_len;
    if body_len == 0 || next >= len {
        return None;
    }
    let mut reader = RecordReader::new(file, next, len, next);
    let mut highest = None;
    while let Ok(Step::Record(record)) = reader.next() {
        for entry in &record.entries {
            if let Entry::Chunk { bytes, .. } = entry {
                let Ok(chunk) = ChunkView::parse(bytes) else {
                    continue;
                };
                if chunk.count() == 0 {
                    continue;
                }
                if let Ok(frame) = codec::decode_frame(chunk.frame(chunk.count() - 1)) {
                    highest = Some(frame.position.0);
                }
            }
        }
    }
    highest
}

fn open_segment_file(path: &Path, writable: bool) -> Result<File, OpenError> {
    let segment_path = path.join(SEGMENT_FILE);
    let file = fs::OpenOptions::new()
        .read(true)
        .write(writable)
        .open(&segment_path)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => OpenError::NotALog {
                path: path.to_path_buf(),
            },
            _ => error.into(),
        })?;
    match records::format_version(&file).map_err(LogError::io)? {
        Ok(FORMAT_VERSION) => Ok(file),
        Ok(1) => Err(OpenError::EarlierFormat {
            path: path.to_path_buf(),
            format: 1,
        }),
        Ok(other) => Err(LogError::Corrupt {
            position: None,
            reason: format!("segment format {other} is unknown to this build"),
        }
        .into()),
        Err(reason) => Err(LogError::Corrupt {
            position: None,
            reason: format!("{}: {reason}", segment_path.display()),
        }
        .into()),
    }
}

/// Fails when a process has the log in `path` open (it holds the derived data's lock).
fn ensure_not_open(path: &Path) -> Result<(), LogError> {
    let index = path.join(INDEX_DIR);
    if index.exists() {
        ensure_unlocked(&index)?;
    }
    Ok(())
}

/// Fails when sled's lock on the database in `dir` is held.
fn ensure_unlocked(dir: &Path) -> Result<(), LogError> {
    if !dir.join("db").exists() {
        return Ok(());
    }
    let db = crate::segment_log::open_sled(dir, 1024 * 1024)?;
    drop(db);
    Ok(())
}

fn drop_index(path: &Path) -> Result<(), LogError> {
    match fs::remove_dir_all(path.join(INDEX_DIR)) {
        Ok(()) => sync_dir(path),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(LogError::io(error)),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), LogError> {
    let mut file = File::create(path).map_err(LogError::io)?;
    file.write_all(bytes).map_err(LogError::io)?;
    file.sync_all().map_err(LogError::io)
}

fn sync_dir(path: &Path) -> Result<(), LogError> {
    File::open(path).and_then(|dir| dir.sync_all()).map_err(LogError::io)
}
