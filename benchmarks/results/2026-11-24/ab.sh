#!/usr/bin/env bash
# How ab-*.json were made: the two transports alternate, one fork each, three rounds, so that load
# from other work on the shared machine falls on both alike. Run from anywhere after the build.
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)"
cd "$out/../../.."
for round in 1 2 3; do
  for t in grpc-netty grpc-netty-shaded; do
    ./benchmarks/run-jmh 'TransportBenchmark.doGet' -p transport="$t" -f 1 \
      -rf json -rff "$out/ab-$round-$t.json"
  done
done
