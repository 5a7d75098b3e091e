//! Full replay (scan, decode, fold) and one young person's stream read, on the small preset.
//!
//! For sonderborg and the 5,000,000-event national preset use
//! `cargo run --release -p kui-benches --bin kui-bench -- all`.

use std::ops::ControlFlow;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kui_benches::{ensure_preset, fold_all};
use kui_domain::{Youth, YouthId};
use kui_fixtures::Preset;
use kui_log::{EventLog, Position};

fn replay(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (log, events, _) = ensure_preset(dir.path(), &Preset::small()).unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("replay");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(events));
    group.bench_function("scan_small", |b| {
        b.iter(|| log.scan(Position(1), Position(u64::MAX), &mut |_| ControlFlow::Continue(())))
    });
    group.bench_function("fold_small", |b| {
        b.iter(|| fold_all(log.as_ref(), 2).unwrap_or_else(|e| panic!("{e}")))
    });
    group.finish();

    let mut youth = Vec::new();
    log.scan(Position(1), Position(u64::MAX), &mut |envelope| {
        if let Some(id) = YouthId::from_stream_name(envelope.stream.as_str()) {
            if envelope.version.0 == 1 {
                youth.push(id);
            }
        }
        ControlFlow::Continue(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let engine = kui_benches::engine(
        log.clone(),
        kui_benches::keys(dir.path()).unwrap_or_else(|e| panic!("{e}")),
    );
    let mut idx = 0usize;
    c.bench_function("youth_stream_read_small", |b| {
        b.iter(|| {
            idx = (idx + 7919) % youth.len().max(1);
            engine
                .load::<Youth>(&youth[idx].stream_name())
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
}

criterion_group!(benches, replay);
criterion_main!(benches);
