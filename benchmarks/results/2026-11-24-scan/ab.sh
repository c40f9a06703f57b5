#!/usr/bin/env bash
# How ab-*.json were made: QuiverRoundTripBenchmark.doGet before (arrow-dataset scans, main at
# 7cbd031, built from `git archive` in $BEFORE) and after (DuckDB scans, this branch) alternate,
# one fork each, per shape and round, so load from other work falls on both alike.
# Usage, after building both (mvn -o -B -q -pl benchmarks -am package -DskipTests in each):
#   BEFORE=/tmp/scan-before ab.sh [rounds]
set -euo pipefail
rounds="${1:-2}"
out="$(cd "$(dirname "$0")" && pwd)"
after="$(cd "$out/../../.." && pwd)"
for round in $(seq 1 "$rounds"); do
  for shape in int64x4 mixed; do
    for side in before after; do
      root="$after"
      [[ "$side" == before ]] && root="$BEFORE"
      "$root/benchmarks/run-jmh" QuiverRoundTripBenchmark.doGet -p shape="$shape" -f 1 \
        -wi 2 -w 5s -i 4 -r 5s -rf json -rff "$out/ab-$round-$shape-$side.json"
    done
  done
done
