#!/usr/bin/env bash
# A/B of two server builds: alternating quiver-bench runs, server CPU seconds per run from /proc.
# usage: ab.sh OUTDIR MODE ROUNDS NAME=DIR NAME=DIR -- harness args...
# Each DIR holds a server build: quiver-server.jar, lib/ and jvm.options copied from
# flight-server/target after `mvn -o -B package -DskipTests` at the commit to measure.
set -euo pipefail
out=$1; mode=$2; rounds=$3; shift 3
names=(); dirs=()
while [[ $1 != -- ]]; do names+=("${1%%=*}"); dirs+=("${1#*=}"); shift; done; shift
mkdir -p "$out"
bench="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)/benchmarks/bin/quiver-bench"
pids=(); uris=()
for i in "${!names[@]}"; do
  d=${dirs[$i]}; w="$out/${names[$i]}"; rm -rf "$w"; mkdir -p "$w/tmp"
  java $(cat "$d/jvm.options") ${AB_JAVA_OPTS:-} -Djava.io.tmpdir="$w/tmp" -jar "$d/quiver-server.jar" --host 127.0.0.1 --port 0 --data-dir "$w/data" > "$w/server.log" 2>&1 &
  pids+=($!)
done
for i in "${!names[@]}"; do
  w="$out/${names[$i]}"
  for _ in $(seq 60); do grep -q "listening on" "$w/server.log" && break; sleep 1; done
  uris+=("$(grep -o 'grpc://[0-9.]*:[0-9]*' "$w/server.log" | head -1)")
done
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
tck=$(getconf CLK_TCK)
for r in $(seq "$rounds"); do
  order=("${!names[@]}"); if (( r % 2 == 0 )); then order=($(printf '%s\n' "${order[@]}" | tac)); fi
  for i in "${order[@]}"; do
    c0=$(cpu ${pids[$i]})
    "$bench" --uri "${uris[$i]}" --mode "$mode" --no-progress --json "$out/${names[$i]}-$r.json" "$@" > "$out/${names[$i]}-$r.txt" 2>&1
    c1=$(cpu ${pids[$i]})
    mb=$(python3 -c "import json;d=json.load(open('$out/${names[$i]}-$r.json'));print(round(d['summary']['mb_per_s']['median'],1))")
    echo "round $r ${names[$i]} median MB/s $mb server CPU s $(python3 -c "print(round(($c1-$c0)/$tck,2))") load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
for p in "${pids[@]}"; do kill "$p"; done
wait 2>/dev/null || true
