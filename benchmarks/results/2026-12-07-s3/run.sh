#!/usr/bin/env bash
# DoPut and DoGet on a local warehouse against an s3proxy warehouse (cold and warm read cache).
# Needs: flight-server and benchmarks packaged (bin/quiver, benchmarks/bin/quiver-bench) and
# s3proxy's classpath in flight-server/target/s3proxy/classpath.txt (any S3WarehouseTest run
# writes it). Usage: benchmarks/results/2026-12-07-s3/run.sh OUT_DIR [ROWS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
rows="${2:-2000000}"
work="$(mktemp -d)"
s3port=19400
qport=18815
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/s3data/bench"
cat > "$work/s3proxy.properties" <<P
s3proxy.endpoint=http://127.0.0.1:$s3port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=benchkey
s3proxy.credential=benchsecret
s3proxy.ignore-unknown-headers=true
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$work/s3data
jclouds.identity=benchkey
jclouds.credential=benchsecret
P
cat > "$work/logback.xml" <<'L'
<configuration><appender name="F" class="ch.qos.logback.core.FileAppender"><file>${LOG}</file>
<encoder><pattern>%d %level %logger{20} - %msg%n</pattern></encoder></appender>
<root level="INFO"><appender-ref ref="F"/></root></configuration>
L
java -Xmx256m -DLOG="$work/s3proxy.log" -Dlogback.configurationFile="$work/logback.xml" \
  -cp "$(cat "$root/flight-server/target/s3proxy/classpath.txt")" org.gaul.s3proxy.Main \
  --properties "$work/s3proxy.properties" > "$work/s3proxy.out" 2>&1 &
pids+=($!)

wait_port() { for _ in $(seq 1 300); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done; return 1; }
wait_port $s3port

# One server at a time: label, extra server flags.
bench() {
  local label="$1"; shift
  rm -rf "$work/data"
  "$root/bin/quiver" --port $qport --data-dir "$work/data" --memory.total 2GB "$@" \
    > "$work/server-$label.log" 2>&1 &
  local pid=$!
  pids+=($pid)
  wait_port $qport
  local bench="$root/benchmarks/bin/quiver-bench"
  "$bench" --uri grpc://127.0.0.1:$qport --mode put --schema mixed --streams 1 \
    --records-per-stream "$rows" --warmup 1 --runs 3 --no-progress --label "put-$label" \
    --json "$out/put-$label.json" > "$out/put-$label.txt"
  "$bench" --uri grpc://127.0.0.1:$qport --mode get --schema mixed --streams 1 \
    --records-per-stream "$rows" --warmup 1 --runs 3 --no-progress --label "get-$label" \
    --json "$out/get-$label.json" > "$out/get-$label.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

bench local
s3=(--storage.warehouse s3://bench/wh --storage.s3.endpoint http://127.0.0.1:$s3port
    --storage.s3.path-style-access true)
bench s3-warm "${s3[@]}"
# A 1-byte cache keeps no copy once a read ends: every DoGet fetches every file (cold).
bench s3-cold "${s3[@]}" --storage.cache-size 1B
grep -H "median" "$out"/*.txt || true
