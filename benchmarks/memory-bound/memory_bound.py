"""Memory bound under load: a table many times larger than memory.total, read by 1, 4 and 16 clients.

Usage (after `mvn -o -B package -DskipTests` at the repository root):
  python3 benchmarks/memory-bound/memory_bound.py                 # 64 Mi rows (2 GiB), 128MB
  python3 benchmarks/memory-bound/memory_bound.py --rows 16777216 --clients 1,4 --out r.json
  python3 benchmarks/memory-bound/memory_bound.py --server-arg=--storage.row-group-rows \
      --server-arg=131072 --server-arg=--sql.memory-limit --server-arg=128MB

It starts the Quiver server jar (flight-server/target/quiver-server.jar) with --memory.total
(default 128MB; Arrow gets it less the two DuckDB limits) and -Xmx (default 256m), loads --rows
rows of 4 x int64 (64 Mi rows = 2 GiB of Arrow, 16 x 128MB) with the harness
(benchmarks/bin/quiver-bench), then for each client count restarts the server on the same data (so
its peaks are that phase's alone) and runs the harness's DoGet with that many concurrent streams,
each reading the whole table. It records per phase: throughput (the harness's MB/s and rows/s),
the server's peak Arrow memory (memory-report's root peak, through the harness) and the server
process's peak RSS (VmHWM from /proc, so Linux only), and checks peak Arrow <= memory.total and
peak RSS <= memory.total + the stated fixed overhead (--rss-overhead, default -Xmx + 128MB: the
JVM heap, then metaspace, code cache, GC structures, thread stacks and both native libraries'
code; see docs/architecture.md, "RSS bound"). Exit code 0 when every phase stayed within both
bounds, 1 when one did not, 2 on a
failure. Standard library only.
"""

import argparse
import json
import pathlib
import re
import sys
import threading

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "compare"))
import compare  # noqa: E402  (Server, harness, start_quiver's paths)

MB = 1024 * 1024
SIZE = re.compile(r"^(\d+)(MB|GB)$", re.IGNORECASE)


def size(text):
    match = SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"use a size like 256MB or 1GB, not {text}")
    return int(match.group(1)) * (MB if match.group(2).upper() == "MB" else 1024 * MB)


def start(work, args, memory_total):
    jar = compare.SERVER_DIR / "quiver-server.jar"
    options = compare.SERVER_DIR / "jvm.options"
    if not jar.exists() or not options.exists():
        sys.exit(f"memory_bound.py: no server build in {compare.SERVER_DIR}: run mvn package")
    command = ["java", *options.read_text().split(), f"-Xmx{args.xmx}",
               f"-Djava.io.tmpdir={work / 'tmp'}", "-jar", str(jar), "--host", "127.0.0.1",
               "--port", "0", "--data-dir", str(work / "data"),
               "--memory.total", memory_total, "--memory.query-limit", args.query_limit,
               "--flight.stall-timeout", "10m", "--telemetry.enabled", "false", *args.server_arg]
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    return compare.Server("quiver", command, work / "quiver.log")


def peak_rss(pid):
    """The process's peak resident set (VmHWM) in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/<pid>/status")


def harness_options(args, clients, load):
    return argparse.Namespace(schema="int64x4", streams=clients, threads=clients, rows=args.rows,
                              batch_rows=args.batch_rows, runs=1, warmup=0), \
        [] if load else ["--no-load"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=64 * MB, help="rows of 4 x int64 to serve")
    parser.add_argument("--batch-rows", type=int, default=65536)
    parser.add_argument("--clients", default="1,4,16", help="client counts, comma-separated")
    parser.add_argument("--memory-total", default="128MB")
    parser.add_argument("--query-limit", default="64MB")
    parser.add_argument("--load-memory-total", default="1GB", help="memory.total while loading")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="an extra server flag, e.g. --server-arg=--sql.memory-limit "
                             "--server-arg=128MB (repeat)")
    parser.add_argument("--xmx", default="256m", help="the server JVM's -Xmx (as 256m or 1g)")
    parser.add_argument("--rss-overhead", type=size,
                        help="fixed RSS allowed on top of memory.total (default -Xmx + 128MB)")
    parser.add_argument("--work", default=str(compare.ROOT / "benchmarks" / "target" /
                                              "memory-bound"))
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    work = pathlib.Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    total = size(args.memory_total)
    if args.rss_overhead is None:
        args.rss_overhead = size(args.xmx.upper() + "B") + 128 * MB

    # The load is not what is measured: it runs under a roomier budget.
    server = start(work, args, args.load_memory_total)
    try:
        # The harness puts the table before its DoGet run unless told --no-load.
        options, extra = harness_options(args, 1, load=True)
        compare.harness(server.uri, "get", options, work / "load.json", extra=extra)
    finally:
        server.stop()

    phases = []
    ok = True
    for clients in [int(c) for c in args.clients.split(",")]:
        server = start(work, args, args.memory_total)
        try:
            options, extra = harness_options(args, clients, load=False)
            result = compare.harness(server.uri, "get", options, work / f"get-{clients}.json",
                                     extra=extra)
            rss = peak_rss(server.process.pid)
        finally:
            server.stop()
        summary = result["summary"]
        arrow_peak = result.get("server", {}).get("peak_memory_bytes", -1)
        phase = {
            "clients": clients,
            "mb_per_s": summary["mb_per_s"]["median"],
            "rows_per_s": summary["rows_per_s"]["median"],
            "peak_arrow_bytes": arrow_peak,
            "peak_rss_bytes": rss,
            "arrow_within_total": 0 <= arrow_peak <= total,
            "rss_within_bound": rss <= total + args.rss_overhead,
        }
        ok &= phase["arrow_within_total"] and phase["rss_within_bound"]
        phases.append(phase)
        print(f"{clients:>3} clients: {phase['mb_per_s']:8.1f} MB/s, "
              f"{phase['rows_per_s'] / 1e6:6.2f} M rows/s, peak Arrow "
              f"{arrow_peak / MB:6.1f} MiB, peak RSS {rss / MB:7.1f} MiB", flush=True)
    report = {"rows": args.rows, "table_bytes": args.rows * 32, "memory_total": total,
              "xmx": args.xmx, "rss_overhead": args.rss_overhead, "commit": compare.git_commit(),
              "phases": phases, "within_bounds": ok}
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError) as e:
        print(f"memory_bound.py: {e}", file=sys.stderr)
        sys.exit(2)
