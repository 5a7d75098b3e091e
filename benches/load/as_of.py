#!/usr/bin/env python3
"""Times reports as of a past day through the API: the first call, repeated calls, and
calls every --interval seconds while referrals are being written (one writer, as fast as
it is answered).

    kui --data /tmp/s generate --preset sonderborg
    kui --data /tmp/s --now 2026-11-01T12:00:00Z demo --addr 127.0.0.1:18080 &
    python3 benches/load/as_of.py --url http://127.0.0.1:18080/graphql \
        --tokens /tmp/s/tokens.json --as-of 2026-06-30

The token file is the one `kui demo` writes; the caseworker's token is used. Referrals
are dated by the server's clock (after the day asked about), each for a new young person.
"""

import argparse
import json
import statistics
import threading
import time
import urllib.request


def post(url, token, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + token},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        answer = json.load(response)
    if answer.get("errors"):
        raise RuntimeError(json.dumps(answer["errors"]))
    return answer["data"]


def timed(url, token, query):
    started = time.perf_counter()
    data = post(url, token, query)
    return time.perf_counter() - started, data


def summary(label, seconds):
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(f"{label:<44} n={len(ms):<3} median {statistics.median(ms):8.1f} ms   p95 {p95:8.1f} ms   max {ms[-1]:8.1f} ms")


REFER = "mutation Refer($input: ReferInput!) { refer(input: $input) { position } }"


def writer(url, token, stop, written):
    # A distinct valid CPR number per referral: born 2009-2010, serials from a time-based offset.
    n = int(time.time()) % 100_000 * 50
    while not stop.is_set():
        n += 1
        day, month = n % 28 + 1, n // 28 % 12 + 1
        year, serial = 9 + n // 336 % 2, 4000 + n // 672 % 6000
        cpr = f"{day:02d}{month:02d}{year:02d}-{serial:04d}"
        variables = {"input": {"cpr": cpr, "name": "Load Test", "schoolStatus": "IN_EDUCATION",
                               "indicators": ["HIGH_ABSENCE"], "note": "load"}}
        try:
            post(url, token, REFER, variables)
        except RuntimeError as error:
            # A generated log may already know this CPR number: take the next one.
            if "case_already_open" not in str(error):
                raise
            continue
        written.append(time.perf_counter())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--tokens", required=True, help="the token file kui demo writes")
    parser.add_argument("--as-of", required=True, help="a past day, YYYY-MM-DD")
    parser.add_argument("--repeat", type=int, default=20, help="calls while nothing is written")
    parser.add_argument("--during", type=float, default=10.0, help="seconds of calls while referrals are written")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between those calls")
    args = parser.parse_args()

    with open(args.tokens) as file:
        tokens = json.load(file)
    token = next(t for t, claims in tokens.items() if claims["role"] == "caseworker")
    query = '{ alarms(asOf: "%s") { rule due } }' % args.as_of

    first, data = timed(args.url, token, query)
    print(f"alarms as of {args.as_of}: {len(data['alarms'])} shown")
    summary("first call", [first])
    summary("repeated, nothing written", [timed(args.url, token, query)[0] for _ in range(args.repeat)])

    stop, written = threading.Event(), []
    thread = threading.Thread(target=writer, args=(args.url, token, stop, written))
    thread.start()
    time.sleep(1.0)
    started, before = time.perf_counter(), len(written)
    during = []
    while time.perf_counter() - started < args.during:
        during.append(timed(args.url, token, query)[0])
        time.sleep(args.interval)
    elapsed, count = time.perf_counter() - started, len(written) - before
    stop.set()
    thread.join()
    summary(f"every {args.interval} s while referrals are written", during)
    print(f"  referrals written meanwhile: {count} ({count / elapsed:.0f}/s)")


if __name__ == "__main__":
    main()
