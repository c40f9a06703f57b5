"""What telemetry costs: Quiver with telemetry on against Quiver with it off, by ratios.

Usage (after `mvn -o -B package -DskipTests` at the repository root):
  python3 benchmarks/compare/telemetry_cost.py [--rows 10000000] [--schema int64x4] [--rounds 5]
  python3 benchmarks/compare/telemetry_cost.py --quick      # the CI smoke: small data, seconds

It starts two Quiver servers from the same build on 127.0.0.1 ephemeral ports:
  on:  telemetry.enabled=true, Prometheus on (telemetry.prometheus-port 0), and the OTLP exporter
       pointed at an endpoint nobody listens on (OTEL_EXPORTER_OTLP_ENDPOINT, traces and metrics),
       so every span and metric is recorded and every export fails: the worst case of issue 5;
  off: telemetry.enabled=false.
Each round loads nothing new for DoGet (the table is loaded once per server), runs the harness
(benchmarks/bin/quiver-bench) against both, alternating which goes first, and records on / off of
the median MB/s for DoGet and DoPut. It prints the median ratio over rounds with its range and
writes every figure as JSON (--out). A ratio whose range straddles 1.0 is within noise.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
import sys
import tempfile

import compare

DEAD_OTLP = "http://127.0.0.1:9"  # the discard port: nothing listens there on loopback


def start(name, work, args, telemetry_on):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    if telemetry_on:
        env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": DEAD_OTLP, "OTEL_TRACES_EXPORTER": "otlp",
                    "OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "none",
                    "OTEL_METRIC_EXPORT_INTERVAL": "1000"})
        server_args = ["--telemetry.enabled", "true", "--telemetry.prometheus-port", "0"]
    else:
        server_args = ["--telemetry.enabled", "false"]
    return compare.start_quiver(work, args, name=name, server_args=server_args, env=env)


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Quiver telemetry on vs off, by ratios.")
    compare.add_run_arguments(parser, schema="int64x4", rounds=5)
    return compare.check_run_arguments(parser, parser.parse_args(argv))


def main(argv):
    args = parse_args(argv)
    work = pathlib.Path(args.work_dir or tempfile.mkdtemp(prefix="quiver-telemetry-"))
    work.mkdir(parents=True, exist_ok=True)
    servers = []
    try:
        servers.append(start("on", work, args, telemetry_on=True))
        servers.append(start("off", work, args, telemetry_on=False))
        print(f"telemetry on {servers[0].uri}, off {servers[1].uri}; {args.rows:,} rows of "
              f"{args.schema} per stream, work in {work}", flush=True)
        if "get" in args.modes:
            for server in servers:
                compare.harness(server.uri, "get", args, work / f"load-{server.name}.json",
                                runs=1, warmup=0)
        results = compare.measure(servers, args, work)
    except RuntimeError as e:
        print(f"telemetry_cost.py: {e}", file=sys.stderr)
        return 2
    finally:
        for server in servers:
            server.stop()
    summary = compare.summarise(results, names=("on", "off"))
    print("\nTelemetry on / off, MB/s (median over rounds, [min, max]):")
    for mode, m in summary.items():
        print(f"  Do{mode.capitalize():3s} {m['ratio_median']:.3f}x  [{m['ratio_min']:.3f}, "
              f"{m['ratio_max']:.3f}]  on {m['on_mb_per_s_median']:.1f} MB/s, "
              f"off {m['off_mb_per_s_median']:.1f} MB/s")
    document = {
        "tool": "telemetry_cost.py", "format": 1,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "commit": compare.git_commit(),
        "machine": {"host": platform.node(), "cores": os.cpu_count(),
                    "load_average": os.getloadavg()[0]},
        "config": {k: v for k, v in vars(args).items() if k != "out"},
        "rounds": results, "summary": summary,
    }
    if args.out:
        pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(args.out).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"JSON: {args.out}")
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
