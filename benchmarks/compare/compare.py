"""Side-by-side: Quiver against a pyarrow.flight reference server, on loopback, by ratios.

Usage (from anywhere, after `mvn -o -B package -DskipTests` at the repository root):
  python3 benchmarks/compare/compare.py [--rows 10000000] [--schema mixed] [--rounds 3] ...
  python3 benchmarks/compare/compare.py --quick          # the CI smoke: small data, seconds

It starts the Quiver server (flight-server/target/quiver-server.jar) and the reference server
(reference_server.py: pyarrow.parquet writes, pyarrow.dataset scans) on 127.0.0.1 ephemeral
ports, loads the same rows into both with the harness (benchmarks/bin/quiver-bench), then runs
the harness against each in turn, alternating which goes first each round, for DoGet and DoPut.
It prints Quiver / reference for MB/s (median over rounds, with the range), and each server's
CPU seconds per run (Linux), and writes every result and the ratios as JSON (--out). On a shared machine absolute figures drift; ratios of
interleaved runs are what it can measure.

The reference server runs on a venv's python with pyarrow: --python, or a venv made in
benchmarks/target/compare-venv from requirements.txt (pip's own configuration picks the index).
Exit code: 0 when both servers were measured (ratios below 1 are reported, not failed, unless
--min-get-ratio/--min-put-ratio ask for it), 1 on a missed minimum, 2 on a failure.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HARNESS = ROOT / "benchmarks" / "bin" / "quiver-bench"
SERVER_DIR = ROOT / "flight-server" / "target"
MAKE_VENV = ROOT / "integration-tests" / "src" / "build" / "make_venv.py"
LISTENING = re.compile(r"listening on (grpc://[0-9.]+:\d+)")
START_SECONDS = 120


class Server:
    """A server child process whose output goes to a log file; stopped with SIGTERM, then kill."""

    def __init__(self, name, command, log_path, env=None):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "w", encoding="utf-8")
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.uri = None
        found = threading.Event()

        def pump():
            for line in self.process.stdout:
                self._log.write(line)
                self._log.flush()
                match = LISTENING.search(line)
                if match and self.uri is None:
                    self.uri = match.group(1)
                    found.set()
            found.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        if not found.wait(START_SECONDS) or self.uri is None:
            self.stop()
            raise RuntimeError(f"{name} did not start; see {log_path}")

    def cpu_seconds(self):
        """The process's user + system CPU seconds so far (Linux /proc), or None where unknown."""
        try:
            with open(f"/proc/{self.process.pid}/stat", encoding="utf-8") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        self._pump.join(5)
        self._log.close()


def reference_python(args, work):
    if args.python:
        return args.python
    venv = ROOT / "benchmarks" / "target" / "compare-venv"
    subprocess.run(
        [sys.executable, str(MAKE_VENV), str(venv), str(HERE / "requirements.txt")], check=True)
    return str(venv / "bin" / "python")


def start_quiver(work, args, name="quiver", server_args=None, env=None):
    """Starts the built Quiver server as {name}, with its data, temp files and log in work."""
    jar = SERVER_DIR / "quiver-server.jar"
    options = SERVER_DIR / "jvm.options"
    if not jar.exists() or not options.exists():
        sys.exit(f"{pathlib.Path(sys.argv[0]).name}: no server build in {SERVER_DIR}: "
                 "run mvn -o -B package -DskipTests")
    tmp = work / f"{name}-tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    java_opts = getattr(args, "quiver_java_opts", "").split()
    command = ["java", *options.read_text().split(), *java_opts,
               f"-Djava.io.tmpdir={tmp}", "-jar", str(jar), "--host", "127.0.0.1", "--port", "0",
               "--data-dir", str(work / f"{name}-data"),
               *(args.quiver_arg if server_args is None else server_args)]
    return Server(name, command, work / f"{name}.log", env=env)


def start_reference(work, python, args):
    command = [python, str(HERE / "reference_server.py"), "--data-dir", str(work / "ref-data"),
               "--batch-rows", str(args.batch_rows)]
    return Server("reference", command, work / "reference.log")


def harness(uri, mode, args, json_path, extra=(), runs=None, warmup=None):
    command = [str(HARNESS), "--uri", uri, "--mode", mode, "--schema", args.schema,
               "--streams", str(args.streams), "--threads", str(args.threads),
               "--records-per-stream", str(args.rows), "--records-per-batch",
               str(args.batch_rows), "--runs", str(runs if runs is not None else args.runs),
               "--warmup", str(warmup if warmup is not None else args.warmup),
               "--path", "compare/table", "--no-progress", "--json", str(json_path), *extra]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"quiver-bench failed ({done.returncode}): {' '.join(command)}\n"
                           f"{done.stdout}")
    with open(json_path, encoding="utf-8") as f:
        return json.load(f)


def git_commit():
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True).stdout
        return head + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def measure(servers, args, work):
    """Alternating rounds per mode over two servers; the ratio is the first's MB/s over the second's.

    Returns {mode: [{"round", "first", "<name>_mb_per_s" for each server, "ratio"}]}.
    """
    numerator, denominator = (server.name for server in servers)
    results = {}
    for mode in args.modes:
        rounds = []
        for r in range(args.rounds):
            order = servers if r % 2 == 0 else list(reversed(servers))
            medians = {}
            cpus = {}
            for server in order:
                out = work / f"{mode}-{server.name}-{r + 1}.json"
                # get: the table was loaded beforehand; read it as it is.
                extra = ["--no-load"] if mode == "get" else []
                cpu_before = server.cpu_seconds()
                report = harness(server.uri, mode, args, out, extra)
                cpu_after = server.cpu_seconds()
                medians[server.name] = report["summary"]["mb_per_s"]["median"]
                # The server's CPU per stream moved (warm-up runs included): MB/s on a shared
                # machine measures the share of it each server got; CPU per run does not.
                cpu = None
                if cpu_before is not None and cpu_after is not None:
                    cpu = (cpu_after - cpu_before) / (args.runs + args.warmup)
                    cpus[server.name] = cpu
                print(f"  {mode} round {r + 1} {server.name:9s} "
                      f"{medians[server.name]:9.1f} MB/s "
                      f"(spread {report['summary']['mb_per_s']['spread'] * 100:.0f}%)"
                      + (f", server CPU {cpu:.2f} s per run" if cpu is not None else ""),
                      flush=True)
            ratio = medians[numerator] / medians[denominator] if medians[denominator] else 0
            rounds.append({"round": r + 1, "first": order[0].name,
                           **{f"{name}_mb_per_s": medians[name] for name in medians},
                           **{f"{name}_cpu_s_per_run": cpus[name] for name in cpus},
                           "ratio": ratio})
        results[mode] = rounds
    return results


def summarise(results, names=("quiver", "reference")):
    summary = {}
    for mode, rounds in results.items():
        ratios = [r["ratio"] for r in rounds]
        summary[mode] = {"ratio_median": statistics.median(ratios), "ratio_min": min(ratios),
                         "ratio_max": max(ratios)}
        for name in names:
            summary[mode][f"{name}_mb_per_s_median"] = statistics.median(
                r[f"{name}_mb_per_s"] for r in rounds)
            cpu = [r[f"{name}_cpu_s_per_run"] for r in rounds if f"{name}_cpu_s_per_run" in r]
            if cpu:
                summary[mode][f"{name}_cpu_s_per_run_median"] = statistics.median(cpu)
    return summary


def add_run_arguments(parser, schema="mixed", rounds=3):
    """The harness and round arguments compare.py and telemetry_cost.py share."""
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows per stream")
    parser.add_argument("--batch-rows", type=int, default=65_536)
    parser.add_argument("--schema", default=schema, choices=["mixed", "int64x4"])
    parser.add_argument("--streams", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--runs", type=int, default=3, help="measured runs per harness call")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--modes", default="get,put", type=lambda s: s.split(","))
    parser.add_argument("--out", help="write the results and ratios as JSON here")
    parser.add_argument("--work-dir", help="data and logs (default: a temporary folder)")
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke: 20,000 rows in batches of 5,000, 1 round of 1 run")


def check_run_arguments(parser, args):
    """Applies --quick and checks --modes; returns args."""
    if args.quick:
        args.rows, args.batch_rows, args.rounds, args.runs, args.warmup = 20_000, 5_000, 1, 1, 0
    for mode in args.modes:
        if mode not in ("get", "put"):
            parser.error(f"--modes takes get and put, not {mode}")
    return args


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Quiver vs a pyarrow.flight reference server, by ratios.")
    add_run_arguments(parser)
    parser.add_argument("--python", help="a python with pyarrow for the reference server")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--quiver-java-opts", default="", help="extra JVM flags for Quiver")
    parser.add_argument("--quiver-arg", action="append", default=[],
                        help="an extra Quiver argument (repeat: --quiver-arg=--scan.batch-rows "
                             "--quiver-arg=131072)")
    parser.add_argument("--min-get-ratio", type=float, default=0.0)
    parser.add_argument("--min-put-ratio", type=float, default=0.0)
    return check_run_arguments(parser, parser.parse_args(argv))


def main(argv):
    args = parse_args(argv)
    work = pathlib.Path(args.work_dir or tempfile.mkdtemp(prefix="quiver-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    python = reference_python(args, work)
    servers = []
    try:
        servers.append(start_quiver(work, args))
        servers.append(start_reference(work, python, args))
        print(f"quiver {servers[0].uri}, reference {servers[1].uri}; {args.rows:,} rows of "
              f"{args.schema} per stream, batches of {args.batch_rows:,}, work in {work}",
              flush=True)
        if "get" in args.modes:
            for server in servers:
                harness(server.uri, "get", args, work / f"load-{server.name}.json", runs=1,
                        warmup=0)
        results = measure(servers, args, work)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2
    finally:
        for server in servers:
            server.stop()
    summary = summarise(results)
    print("\nQuiver / reference, MB/s (median over rounds, [min, max]):")
    for mode, s in summary.items():
        print(f"  Do{mode.capitalize():3s} {s['ratio_median']:.2f}x  [{s['ratio_min']:.2f}, "
              f"{s['ratio_max']:.2f}]  quiver {s['quiver_mb_per_s_median']:.1f} MB/s, "
              f"reference {s['reference_mb_per_s_median']:.1f} MB/s")
        if "quiver_cpu_s_per_run_median" in s and "reference_cpu_s_per_run_median" in s:
            print(f"        server CPU per run (median): quiver "
                  f"{s['quiver_cpu_s_per_run_median']:.2f} s, reference "
                  f"{s['reference_cpu_s_per_run_median']:.2f} s")
    document = {
        "tool": "compare.py", "format": 1,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "commit": git_commit(),
        "machine": {"host": platform.node(), "cores": os.cpu_count(),
                    "load_average": os.getloadavg()[0]},
        "config": {k: v for k, v in vars(args).items() if k not in ("python", "out")},
        "rounds": results, "summary": summary,
    }
    if args.out:
        pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(args.out).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"JSON: {args.out}")
    if not args.keep and not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    missed = [m for m, floor in (("get", args.min_get_ratio), ("put", args.min_put_ratio))
              if m in summary and summary[m]["ratio_median"] < floor]
    if missed:
        print(f"compare.py: ratio below the minimum for {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
