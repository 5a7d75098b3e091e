//! Crash test: SIGKILL a process in the middle of appending, reopen, and check that
//! every acknowledged event survived, positions are gap-free and the chain verifies.
//!
//! `KUI_CRASH_ROUNDS=1000 cargo test --release -p kui-log-segment --test integration crash --
//! --nocapture` runs a thousand kills (on a fresh directory every 25 rounds) and prints
//! what it checked.

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use kui_log::{AppendRequest, EventLog, ExpectedVersion, Position};
use uuid::Uuid;

use crate::helpers::{event, open_durable, single, stream, temp_dir};

/// Kill-and-reopen rounds by default.
const ROUNDS: u64 = 12;
/// Rounds on one directory before the next starts fresh (keeps each verification short).
const ROUNDS_PER_DIRECTORY: u64 = 25;

/// A fixed-seed LCG, so the kill delays are the same on every run.
struct Delays(u64);

impl Delays {
    /// The next delay, 50 to 400 ms.
    fn next(&mut self) -> Duration {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        Duration::from_millis(50 + (self.0 >> 33) % 351)
    }
}

/// One acknowledged event: (stream, version) at a position.
type Acked = HashMap<u64, (String, u64)>;

/// Acknowledged commands: id -> (first position, last position).
type Commands = HashMap<Uuid, (u64, u64)>;

/// Parses the complete `ack` lines of the torture tool's output (a line cut by the kill
/// has no newline and was not acknowledged to anyone).
fn parse_acks(output: &[u8], acked: &mut Acked, commands: &mut Commands) -> usize {
    let complete = match output.iter().rposition(|&byte| byte == b'\n') {
        Some(end) => &output[..=end],
        None => return 0,
    };
    let text = std::str::from_utf8(complete).expect("utf-8 output");
    let mut lines = 0;
    for line in text.lines() {
        let mut fields = line.split(' ');
        if line.starts_with("cmd ") {
            let parsed: Vec<&str> = fields.skip(1).collect();
            let [id, first, last] = parsed[..] else {
                panic!("unexpected line {line:?}");
            };
            let id: Uuid = id.parse().expect("command id");
            let range = (first.parse().expect("first"), last.parse().expect("last"));
            assert!(commands.insert(id, range).is_none(), "command {id} acknowledged twice");
            continue;
        }
        assert_eq!(fields.next(), Some("ack"), "unexpected line {line:?}");
        let first: u64 = fields.next().and_then(|f| f.parse().ok()).expect("first position");
        for (offset, event) in fields.enumerate() {
            let (stream, version) = event.rsplit_once(':').expect("stream:version");
            let version: u64 = version.parse().expect("version");
            let previous = acked.insert(first + offset as u64, (stream.to_owned(), version));
            assert!(
                previous.is_none(),
                "position {} acknowledged twice",
                first + offset as u64
            );
        }
        lines += 1;
    }
    lines
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let rounds = std::env::var("KUI_CRASH_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse::<u64>().ok())
        .unwrap_or(ROUNDS);
    let mut dir = temp_dir();
    let mut delays = Delays(0x6b75_692d_6c6f_6721);
    let mut acked = Acked::new();
    let mut commands = Commands::new();
    let mut rounds_with_acks = 0;
    let (mut events_checked, mut commands_checked, mut interrupted_cut) = (0u64, 0u64, 0u64);
    let (mut lost_total, mut verify_failures) = (0u64, 0u64);
    for round in 0..rounds {
        if round > 0 && round % ROUNDS_PER_DIRECTORY == 0 {
            dir = temp_dir();
            acked.clear();
            commands.clear();
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_kui-log-torture"))
            .arg(dir.path())
            .arg(round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kui-log-torture");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let (first_output, started) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut output = Vec::new();
            let mut buffer = [0u8; 8192];
            loop {
                let n = stdout.read(&mut buffer).expect("read stdout");
                if n == 0 {
                    break;
                }
                if output.is_empty() {
                    // The receiver may have given up waiting; the round goes on regardless.
                    let _ = first_output.send(());
                }
                output.extend_from_slice(&buffer[..n]);
            }
            output
        });
        // The kill delay starts once the child acknowledged its first append, so a slow
        // start on a busy machine cannot leave a round with nothing to check.
        let _ = started.recv_timeout(std::time::Duration::from_secs(60));
        std::thread::sleep(delays.next());
        if let Some(status) = child.try_wait().expect("poll child") {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .expect("piped stderr")
                .read_to_string(&mut stderr)
                .expect("read stderr");
            panic!("kui-log-torture exited by itself in round {round}: {status}\n{stderr}");
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        let output = reader.join().expect("reader thread");
        let acks = parse_acks(&output, &mut acked, &mut commands);
        if acks > 0 {
            rounds_with_acks += 1;
        }

        let log = open_durable(dir.path());
        if log.interrupted().is_some() {
            interrupted_cut += 1;
        }
        let head = log.head().expect("head").map_or(0, |(Position(position), _)| position);
        let mut expected_position = 1;
        log.scan(Position(1), Position(u64::MAX), &mut |envelope| {
            assert_eq!(envelope.position.0, expected_position, "gap after round {round}");
            expected_position += 1;
            if let Some((stream, version)) = acked.get(&envelope.position.0) {
                assert_eq!(
                    (envelope.stream.as_str(), envelope.version.0),
                    (stream.as_str(), *version),
                    "wrong event at acknowledged position {} after round {round}",
                    envelope.position
                );
            }
            std::ops::ControlFlow::Continue(())
        })
        .expect("scan");
        assert_eq!(
            expected_position - 1,
            head,
            "scan and head disagree after round {round}"
        );
        let lost: Vec<_> = acked.keys().filter(|&&position| position > head).collect();
        if !lost.is_empty() {
            eprintln!("acknowledged positions lost after round {round}: {lost:?}");
            lost_total += lost.len() as u64;
        }
        let report = match log.verify(&mut |_| {}) {
            Ok(report) => report,
            Err(error) => {
                eprintln!("verify failed after round {round}: {error}");
                verify_failures += 1;
                continue;
            }
        };
        // Every acknowledged command id is known after the crash, and a retry replays it.
        for (id, (first, last)) in &commands {
            let outcome = log
                .command_outcome(*id)
                .expect("lookup")
                .unwrap_or_else(|| panic!("acknowledged command {id} lost after round {round}"));
            assert_eq!((outcome.first_position.0, outcome.last_position.0), (*first, *last));
        }
        for id in commands.keys().take(20) {
            let retry = log
                .append(AppendRequest {
                    command_id: Some(*id),
                    ..single(&stream("retry"), ExpectedVersion::Any, vec![event("Retry", 0)])
                })
                .expect("retry");
            assert!(
                retry.replayed,
                "retried command {id} was written again after round {round}"
            );
            assert_eq!(retry.first_position.0, commands[id].0);
        }
        assert_eq!(report.events, head);
        events_checked += acked.len() as u64;
        commands_checked += commands.len() as u64;
        log.close().expect("close");
        eprintln!(
            "round {round}: {acks} acknowledged appends, head {head}, {} commands",
            commands.len()
        );
    }
    eprintln!(
        "crash test: {rounds} kills, {events_checked} checks of acknowledged events and {commands_checked} of command ids (each once per later kill), {lost_total} lost, {verify_failures} verify failures, {interrupted_cut} interrupted writes cut"
    );
    assert_eq!(
        (lost_total, verify_failures),
        (0, 0),
        "acknowledged events lost or a log that does not verify"
    );
    assert!(
        rounds_with_acks >= rounds / 2,
        "only {rounds_with_acks} rounds acknowledged anything"
    );
}
