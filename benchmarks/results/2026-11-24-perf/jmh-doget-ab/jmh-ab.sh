#!/usr/bin/env bash
# jmh-ab.sh ROUNDS: QuiverRoundTripBenchmark.doGet on the base server jar and on the new one, alternating
T=/work/wt-perf/benchmarks/target
read -r -a flags < "$T/classes/dev/quiver/benchmarks/jvm-flags.txt"
for r in $(seq 1 $1); do
  for v in base new; do
    jar=/tmp/perf/$v/quiver-server.jar
    cp=$(cat $T/classpath.txt | sed "s#/work/wt-perf/flight-server/target/quiver-server.jar#$jar#")
    echo "== round $r $v load $(cut -d' ' -f1 /proc/loadavg)"
    java "${flags[@]}" -cp "$T/classes:$cp" dev.quiver.benchmarks.BenchmarkRunner 'QuiverRoundTripBenchmark.doGet' -f 1 -wi 2 -w 5 -i 4 -r 5 -rf json -rff /tmp/perf/jmh-$v-$r.json 2>&1 | grep -E "^QuiverRoundTrip|^Benchmark|Unable" 
  done
done
