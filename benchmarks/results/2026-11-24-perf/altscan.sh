#!/usr/bin/env bash
# altscan.sh OUT A B [ROUNDS] [BATCH] [THREADS]: ScanBench alternately on builds A and B (dirs under /tmp/perf), 6 scans each, first 2 dropped
out=$1; A=$2; B=$3; rounds=${4:-6}; batch=${5:-65536}; threads=${6:-2}
CP=$(ls /tmp/perf/base/lib/*.jar | tr '\n' ':')
: > $out
for r in $(seq 1 $rounds); do
  for v in $A $B; do
    java -Dlogback.configurationFile=/tmp/perf/scratch/logback.xml $(cat /tmp/perf/base/jvm.options) -cp "/tmp/perf/$v/quiver-server.jar:$CP:/tmp/perf/scratch" ScanBench /tmp/perf/i64.parquet $batch 6 $threads 2>&1 | grep rows | tail -4 | sed "s/^/$v load=$(cut -d' ' -f1 /proc/loadavg) /" >> $out
  done
done
python3 - $out <<'PY'
import sys, statistics, collections
d = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    f = line.split(); v = f[0]
    kv = dict(zip(f[1::2], f[2::2])) if False else None
    vals = {f[i]: f[i+1] for i in range(2, len(f)-1, 2)}
    for k in ("wall","cpu","thread"): d[v][k].append(float(vals[k]))
for v, m in d.items():
    print(v, " ".join(f"{k} median {statistics.median(x):.3f} [{min(x):.3f},{max(x):.3f}] n={len(x)}" for k, x in m.items()))
PY
