#!/usr/bin/env python3
"""ab.py ROUNDS RUNS SCHEMA PATH name=port[=pid] ... : alternates quiver-bench DoGet (--no-load) against
servers; per call: median MB/s, server CPU seconds per run (from /proc/pid/stat), load average."""
import json, subprocess, sys, os, statistics, time
rounds, runs, schema, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
servers = [s.split("=") for s in sys.argv[5:]]
mode = os.environ.get("MODE", "get")
rows = os.environ.get("ROWS", "10000000")
def minflt(pid):
    f = open(f"/proc/{pid}/stat").read(); f = f[f.rindex(')')+2:].split()
    return int(f[7])
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read(); f = f[f.rindex(')')+2:].split()
    return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')
res = {n: [] for n, *_ in servers}
for r in range(rounds):
    order = servers if r % 2 == 0 else list(reversed(servers))
    for name, port, pid in order:
        out = f"/tmp/perf/ab-{name}-{r}.json"
        c0 = cpu(pid); l0 = os.getloadavg()[0]; m0 = minflt(pid)
        cmd = ["/work/wt-perf/benchmarks/bin/quiver-bench", "--uri", f"grpc://127.0.0.1:{port}", "--mode", mode,
               "--schema", schema, "--streams", "1", "--records-per-stream", rows, "--warmup", "1", "--runs", str(runs),
               "--no-progress", "--path", path, "--json", out] + (["--no-load"] if mode == "get" else [])
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode: print(p.stdout, p.stderr); sys.exit(1)
        c1 = cpu(pid); l1 = os.getloadavg()[0]; m1 = minflt(pid)
        j = json.load(open(out))
        mbs = [x["mb_per_s"] if "mb_per_s" in x else x["mbPerSecond"] for x in j["runs"]] if "runs" in j else None
        res[name].append((j, (c1 - c0) / (runs + 1), (l0 + l1) / 2))
        sm = j["summary"]["mib_per_s"]
        print(f"round {r} {name:6s}: MiB/s median {sm['median']:7.1f} [{sm['min']:6.1f},{sm['max']:6.1f}] server cpu/run {(c1-c0)/(runs+1):.2f}s minflt/run {(m1-m0)//(runs+1)} load {l0:.1f}-{l1:.1f}", flush=True)
print("== summary")
for name, *_ in servers:
    meds = [x[0]["summary"]["mib_per_s"]["median"] for x in res[name]]
    cpus = [x[1] for x in res[name]]
    print(f"{name:6s}: MiB/s median of medians {statistics.median(meds):.1f} [{min(meds):.1f},{max(meds):.1f}]  cpu/run median {statistics.median(cpus):.2f}s [{min(cpus):.2f},{max(cpus):.2f}]")
if len(servers) == 2:
    a, b = servers[0][0], servers[1][0]
    ratios = [y[0]["summary"]["mib_per_s"]["median"] / x[0]["summary"]["mib_per_s"]["median"] for x, y in zip(res[a], res[b])]
    print(f"{b}/{a} per-round ratios", [round(x, 2) for x in ratios], "median", round(statistics.median(ratios), 2))
