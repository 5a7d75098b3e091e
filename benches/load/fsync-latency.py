#!/usr/bin/env python3
"""How long fdatasync takes on this disk at a given rate and write size.

usage: python3 benches/load/fsync-latency.py RATE BYTES [SECONDS] [DIRECTORY]

Appends BYTES and syncs them RATE times a second for SECONDS (default 10), in a scratch
file under DIRECTORY (default: the current one), like a log's group commits, and prints
the percentiles of the sync. A read whose access record must be synced before it is
answered can be no faster than this.
"""

import os
import sys
import tempfile
import time


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        rate, size = int(sys.argv[1]), int(sys.argv[2])
        seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
    except ValueError:
        print("RATE and BYTES are whole numbers, SECONDS a number", file=sys.stderr)
        return 2
    if rate <= 0 or size <= 0 or seconds <= 0:
        print("RATE, BYTES and SECONDS must be positive", file=sys.stderr)
        return 2
    directory = sys.argv[4] if len(sys.argv) > 4 else "."
    block = b"x" * size
    latencies = []
    with tempfile.NamedTemporaryFile(dir=directory, prefix="fsync-latency-") as scratch:
        fd = scratch.fileno()
        started = time.perf_counter()
        offset = 0
        while time.perf_counter() - started < seconds:
            os.pwrite(fd, block, offset)
            offset += size
            before = time.perf_counter()
            os.fdatasync(fd)
            latencies.append((time.perf_counter() - before) * 1000)
            pause = started + len(latencies) / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
    latencies.sort()
    n = len(latencies)

    def at(share: float) -> float:
        return latencies[min(n - 1, int(n * share))]

    print(
        f"{n} syncs of {size} bytes at {rate}/s: p50 {at(0.5):.2f} ms, p90 {at(0.9):.2f} ms, "
        f"p99 {at(0.99):.2f} ms, p99.9 {at(0.999):.2f} ms, max {latencies[-1]:.2f} ms, "
        f"{sum(1 for x in latencies if x > 5)} over 5 ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
