#!/usr/bin/env python3
"""Scale-out benchmarks: the figures of the cluster issue, from real processes.

  nodes   DoGet throughput of one table read by clients that read all its endpoints at once
          (quiver-bench --endpoints parallel), with one node and then two nodes up, both on one
          PostgreSQL catalog and one shared warehouse folder.
  s3      DoPut and DoGet on an s3proxy warehouse against a local folder: the put, a first read
          with an empty read cache (cold) and a second read (warm).

Starts and stops everything itself (PostgreSQL from Debian's package, run as the postgres user;
s3proxy from the classpath the S3 tests resolve; the server jar and quiver-bench as built by
`mvn -DskipTests package`), on free 127.0.0.1 ports, in a temporary folder. Prints a table and,
with --json, writes the figures. Timings on a loaded machine are noisy: read the ratios.

  python3 benchmarks/cluster/cluster_bench.py nodes --rows 10000000
  python3 benchmarks/cluster/cluster_bench.py s3 --rows 4000000
"""
import argparse
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER_JAR = os.path.join(ROOT, "flight-server", "target", "quiver-server.jar")
JVM_OPTIONS = os.path.join(ROOT, "flight-server", "target", "jvm.options")
BENCH = os.path.join(ROOT, "benchmarks", "bin", "quiver-bench")
S3PROXY_CP = os.path.join(ROOT, "flight-server", "target", "s3proxy", "classpath.txt")
KEY, SECRET = "benchkey", "benchsecret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


class Postgres:
    """A throw-away PostgreSQL cluster in `folder`, run as the postgres user."""

    def __init__(self, folder):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = os.path.dirname(bins[-1])
        self.data = os.path.join(folder, "pg")
        os.makedirs(self.data)
        shutil.chown(self.data, "postgres")
        os.chmod(folder, 0o755)
        self.port = free_port()
        self._as_postgres([f"{self.bin}/initdb", "-D", self.data, "-U", "postgres",
                           "--auth=trust", "-E", "UTF8"])
        self._as_postgres([f"{self.bin}/pg_ctl", "-D", self.data, "-l",
                           os.path.join(self.data, "pg.log"), "-o",
                           f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data}",
                           "-w", "start"])
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        "-c", "create database catalog"], check=True, capture_output=True)

    def _as_postgres(self, command):
        subprocess.run(["su", "postgres", "-c", " ".join(f"'{c}'" for c in command)],
                       check=True, capture_output=True)

    def uri(self):
        return f"jdbc:postgresql://127.0.0.1:{self.port}/catalog"

    def stop(self):
        self._as_postgres([f"{self.bin}/pg_ctl", "-D", self.data, "-m", "fast", "stop"])


class S3Proxy:
    """s3proxy on the file system (filesystem-nio2), one bucket `bench`."""

    def __init__(self, folder):
        if not os.path.exists(S3PROXY_CP):
            raise SystemExit(f"{S3PROXY_CP} is missing: run the S3 tests once (mvn -pl "
                             "flight-server test -Dtest=S3WarehouseTest) to resolve it")
        base = os.path.join(folder, "s3data")
        os.makedirs(os.path.join(base, "bench"))
        self.port = free_port()
        props = os.path.join(folder, "s3proxy.properties")
        with open(props, "w") as f:
            f.write(f"s3proxy.endpoint=http://127.0.0.1:{self.port}\n"
                    "s3proxy.authorization=aws-v2-or-v4\n"
                    f"s3proxy.identity={KEY}\ns3proxy.credential={SECRET}\n"
                    "s3proxy.ignore-unknown-headers=true\n"
                    "jclouds.provider=filesystem-nio2\n"
                    f"jclouds.filesystem.basedir={base}\n"
                    f"jclouds.identity={KEY}\njclouds.credential={SECRET}\n")
        logback = os.path.join(folder, "logback.xml")
        with open(logback, "w") as f:
            f.write('<configuration><appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">'
                    "<encoder><pattern>%msg%n</pattern></encoder></appender>"
                    '<root level="WARN"><appender-ref ref="OUT"/></root></configuration>')
        with open(S3PROXY_CP) as f:
            cp = f.read().strip()
        self.process = subprocess.Popen(
            ["java", "-Xmx512m", f"-Dlogback.configurationFile={logback}", "-cp", cp,
             "org.gaul.s3proxy.Main", "--properties", props],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self):
        self.process.terminate()
        self.process.wait(30)


class Node:
    """One server process."""

    def __init__(self, folder, name, settings, env=None):
        self.port = free_port()
        self.log = open(os.path.join(folder, name + ".log"), "w")
        with open(JVM_OPTIONS) as f:
            flags = f.read().split()
        args = ["java", *flags, "-Xmx2g", "-jar", SERVER_JAR,
                "--data-dir", os.path.join(folder, name), "--port", str(self.port),
                "--maintenance.enabled", "false"]
        for key, value in settings.items():
            args += ["--" + key, str(value)]
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                        env={**os.environ, **(env or {})})
        wait_port(self.port)
        self.uri = f"grpc://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(60)
        self.log.close()


def bench(uri, *args):
    """Runs quiver-bench and returns its JSON report."""
    out = tempfile.mktemp(suffix=".json")
    subprocess.run([BENCH, "--uri", uri, "--no-progress", "--json", out, *args], check=True,
                   stdout=subprocess.DEVNULL)
    with open(out) as f:
        report = json.load(f)
    os.remove(out)
    return report


def mb_per_s(report):
    runs = report["runs"]
    return sum(r["bytes"] / r["seconds"] for r in runs) / len(runs) / 1e6 if runs else 0.0


def nodes(options, folder):
    pg = Postgres(folder)
    warehouse = os.path.join(folder, "warehouse")
    settings = {"catalog.uri": pg.uri(), "catalog.user": "postgres",
                "storage.warehouse": warehouse, "cluster.node-timeout": "5s",
                "storage.target-file-size": options.file_size,
                "flight.endpoint-target-size": options.file_size}
    results = {}
    a = Node(folder, "a", settings)
    b = None
    try:
        common = ["--mode", "get", "--schema", "mixed", "--path", "bench/cluster",
                  "--records-per-stream", str(options.rows), "--streams", str(options.clients),
                  "--threads", str(options.clients), "--endpoints", "parallel",
                  "--warmup", "1", "--runs", str(options.runs)]
        report = bench(a.uri, *common)  # loads the table, then reads it
        results["one_node_mb_s"] = mb_per_s(report)
        b = Node(folder, "b", settings)
        time.sleep(3)  # a heartbeat of b reaches a's view of the live nodes
        report = bench(a.uri, *common, "--no-load")
        results["two_nodes_mb_s"] = mb_per_s(report)
    finally:
        for node in (b, a):
            if node:
                node.stop()
        pg.stop()
    results["ratio"] = results["two_nodes_mb_s"] / results["one_node_mb_s"]
    return results


def s3(options, folder):
    proxy = S3Proxy(folder)
    env = {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "us-east-1"}
    remote = {"storage.warehouse": "s3://bench/wh",
              "storage.s3.endpoint": f"http://127.0.0.1:{proxy.port}",
              "storage.s3.path-style-access": "true", "storage.s3.region": "us-east-1"}
    put = ["--mode", "put", "--schema", "mixed", "--records-per-stream", str(options.rows),
           "--streams", "1", "--warmup", "0", "--runs", str(options.runs), "--path", "bench/p"]
    get = ["--mode", "get", "--schema", "mixed", "--records-per-stream", str(options.rows),
           "--streams", "1", "--path", "bench/g"]
    results = {}
    try:
        for name, settings in (("local", {}), ("s3", remote)):
            node = Node(folder, "node-" + name, settings, env)
            try:
                results[name + "_put_mb_s"] = mb_per_s(bench(node.uri, *put))
                bench(node.uri, *get, "--warmup", "0", "--runs", "1")  # loads the table
            finally:
                node.stop()
            # A restart with an empty read cache: the first read fetches every file (cold).
            cache = {"storage.cache-dir": os.path.join(folder, "cache-" + name)}
            node = Node(folder, "node-" + name, {**settings, **cache}, env)
            try:
                results[name + "_get_cold_mb_s"] = mb_per_s(
                    bench(node.uri, *get, "--no-load", "--warmup", "0", "--runs", "1"))
                results[name + "_get_warm_mb_s"] = mb_per_s(
                    bench(node.uri, *get, "--no-load", "--warmup", "0", "--runs",
                          str(options.runs)))
            finally:
                node.stop()
    finally:
        proxy.stop()
    for what in ("put", "get_cold", "get_warm"):
        results[f"ratio_{what}"] = results[f"s3_{what}_mb_s"] / results[f"local_{what}_mb_s"]
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["nodes", "s3"])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2, help="nodes: concurrent readers")
    parser.add_argument("--file-size", default="32MB",
                        help="nodes: storage.target-file-size and flight.endpoint-target-size")
    parser.add_argument("--json")
    options = parser.parse_args()
    for path in (SERVER_JAR, JVM_OPTIONS):
        if not os.path.exists(path):
            raise SystemExit(f"{path} is missing: mvn -B -DskipTests package first")
    folder = tempfile.mkdtemp(prefix="quiver-cluster-bench-")
    try:
        results = (nodes if options.what == "nodes" else s3)(options, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()[0]
    results["load_average"] = load
    for key, value in results.items():
        print(f"{key:>24}  {value:10.2f}")
    if options.json:
        with open(options.json, "w") as f:
            json.dump({"what": options.what, "rows": options.rows, **results}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
