#!/usr/bin/env bash
# Interleaved measurements of two builds of kui on this machine, in one session.
#   BEFORE=<dir with kui and kui-bench> AFTER=<dir> benches/load/compare-builds.sh [rounds]
# Per round and build: a young person by id alone (wrk -t2 -c64), referrals of new people
# alone (-t2 -c64, each with a commandId), both together (-t1 -c32 each), the log's
# 64-writer append (kui-bench), and a full rebuild of the national preset.
# Each build serves and rebuilds its own data, generated once under $WORK.
set -u
BEFORE=${BEFORE:?the directory of the first build}
AFTER=${AFTER:?the directory of the second build}
WORK=${WORK:-/tmp/kui-compare}
ROUNDS=${1:-3}
LOAD=$(cd "$(dirname "$0")" && pwd)
declare -A BIN=([before]=$BEFORE [after]=$AFTER)
mkdir -p "$WORK"

prepare() {
  local b=$1
  if [ ! -d "$WORK/$b/sonderborg" ]; then
    "${BIN[$b]}/kui" --data "$WORK/$b/sonderborg" --now 2026-11-01T12:00:00Z generate --preset sonderborg >/dev/null
    "${BIN[$b]}/kui" --data "$WORK/$b/sonderborg" rebuild >/dev/null
  fi
  if [ ! -d "$WORK/$b/national" ]; then
    "${BIN[$b]}/kui" --data "$WORK/$b/national" generate --preset national >/dev/null
  fi
}

api_round() {
  local b=$1 run=$WORK/run
  rm -rf "$run" "$run.master-key"; cp -a "$WORK/$b/sonderborg" "$run"
  [ -f "$WORK/$b/sonderborg.master-key" ] && cp "$WORK/$b/sonderborg.master-key" "$run.master-key"
  local youth
  youth=$("${BIN[$b]}/kui" --data "$run" export 2>/dev/null | grep -m1 '"YouthReferred"' \
    | python3 -c 'import sys,json; print(json.loads(sys.stdin.readline())["payload"]["youth_id"])')
  "${BIN[$b]}/kui" --data "$run" --now 2026-11-01T12:00:00Z demo > "$WORK/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:8080/health && break; sleep 0.2; done
  KUI_TOKEN=$(python3 -c "import json; t=json.load(open('$run/tokens.json')); print([k for k in t if 'caseworker' in k][0])")
  export KUI_TOKEN KUI_YOUTH=$youth
  echo "== $b youth alone"; wrk -t2 -c64 -d10s --latency -s "$LOAD/youth.lua" http://127.0.0.1:8080/graphql | grep -E "Requests/sec|50%|99%|Non-2xx"
  echo "== $b referrals alone"; wrk -t2 -c64 -d10s --latency -s "$LOAD/refer.lua" http://127.0.0.1:8080/graphql | grep -E "Requests/sec|50%|99%|Non-2xx"
  echo "== $b mixed"
  wrk -t1 -c32 -d10s --latency -s "$LOAD/youth.lua" http://127.0.0.1:8080/graphql > "$WORK/mix-youth.txt" &
  wrk -t1 -c32 -d10s --latency -s "$LOAD/refer.lua" http://127.0.0.1:8080/graphql > "$WORK/mix-refer.txt"
  wait %2 2>/dev/null; sleep 1
  echo "  reads:"; grep -E "Requests/sec|99%" "$WORK/mix-youth.txt"
  echo "  referrals:"; grep -E "Requests/sec|99%" "$WORK/mix-refer.txt"
  kill -INT $pid; wait $pid 2>/dev/null
}

for b in before after; do prepare $b; done
for _ in $(seq 1 "$ROUNDS"); do
  for b in before after; do
    api_round $b
    echo "== $b append 64 writers"; "${BIN[$b]}/kui-bench" append --writers 64 --events 200000 --dir "$WORK/bench-$b" | grep "RESULT append "
    echo "== $b rebuild national"; "${BIN[$b]}/kui" --data "$WORK/$b/national" rebuild 2>&1 | tail -1
  done
done
