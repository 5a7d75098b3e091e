//! Durable append throughput: single-event commands from 1 and from 64 threads.
//!
//! For the large figures use `cargo run --release -p kui-benches --bin kui-bench -- append`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kui_benches::{open_log, request, synthetic_workload};
use kui_log::EventLog;

const EVENTS_PER_ITERATION: usize = 2_048;

fn durable_appends(c: &mut Criterion) {
    let mut group = c.benchmark_group("append");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(EVENTS_PER_ITERATION as u64));
    for writers in [1usize, 64] {
        group.bench_function(format!("durable_{writers}_writers"), |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
                    let log = open_log(dir.path()).unwrap_or_else(|e| panic!("{e}"));
                    let workload = Arc::new(synthetic_workload(EVENTS_PER_ITERATION, 1_024));
                    let started = Instant::now();
                    let threads: Vec<_> = (0..writers)
                        .map(|lane| {
                            let log = log.clone();
                            let workload = workload.clone();
                            std::thread::spawn(move || {
                                // Streams are dealt to writers by index, so each stream's versions stay in order.
                                for (idx, event) in workload.iter().enumerate() {
                                    let stream_idx: usize = event.stream[2..].parse().unwrap_or(0);
                                    if stream_idx % writers == lane {
                                        let request = request(event, idx as u128 + 1).unwrap_or_else(|e| panic!("{e}"));
                                        log.append(request).unwrap_or_else(|e| panic!("{e}"));
                                    }
                                }
                            })
                        })
                        .collect();
                    for thread in threads {
                        thread.join().unwrap_or_else(|_| panic!("writer panicked"));
                    }
                    total += started.elapsed();
                }
                total
            });
        });
    }
    group.finish();
}

criterion_group!(benches, durable_appends);
criterion_main!(benches);
