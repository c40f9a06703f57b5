#!/usr/bin/env bash
# How ab-*.json (doGet) and abput-*.json (doPut) were made: the two transports alternate, one fork
# each, three rounds, so that load from other work on the shared machine falls on both alike.
# Usage, after the build: ab.sh [doGet|doPut]
set -euo pipefail
method="${1:-doGet}"
prefix=ab
[[ "$method" == doPut ]] && prefix=abput
out="$(cd "$(dirname "$0")" && pwd)"
cd "$out/../../.."
for round in 1 2 3; do
  for t in grpc-netty grpc-netty-shaded; do
    ./benchmarks/run-jmh "TransportBenchmark.$method" -p transport="$t" -f 1 \
      -rf json -rff "$out/$prefix-$round-$t.json"
  done
done
