"""Reads a whole table slowly through pyarrow.flight while sampling the server's memory report.

Run by MemoryBoundIT (not a pytest module: pytest collects only test_*.py). It reads every
endpoint of GetFlightInfo(namespace.table) in order, pausing after each batch the way a slow
consumer would, while a second connection polls the memory-report action. It writes one JSON
object to --out: rows and batches read, the sum of every column (Python integers, so no overflow), and the
server's sampled Arrow allocation (max and count). The Java side checks the figures.

    python slow_reader.py --uri grpc://127.0.0.1:PORT --namespace ns --table big \
        --pause-ms 15 --out result.json
"""

import argparse
import json
import threading
import time

import pyarrow.compute as pc
import pyarrow.flight as flight

from quiver_helpers import action


def sample_memory(uri, interval, stop, samples):
    """Appends the server's allocated bytes to `samples` every `interval` seconds until `stop`."""
    with flight.connect(uri) as client:
        while not stop.is_set():
            [report] = action(client, "memory-report")
            samples.append(report["allocated"])
            stop.wait(interval)


def read_slowly(uri, namespace, table, pause):
    """Reads namespace.table endpoint by endpoint; returns (rows, batches, per-column sums)."""
    rows = 0
    batches = 0
    sums = {}
    with flight.connect(uri) as client:
        info = client.get_flight_info(flight.FlightDescriptor.for_path(namespace, table))
        sums = {name: 0 for name in info.schema.names}
        for endpoint in info.endpoints:
            for chunk in client.do_get(endpoint.ticket):
                batch = chunk.data
                rows += batch.num_rows
                batches += 1
                for name in sums:
                    sums[name] += pc.sum(batch.column(name)).as_py() or 0
                time.sleep(pause)
    return rows, batches, sums


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("--pause-ms", type=float, default=15.0, help="sleep after each batch")
    parser.add_argument("--sample-ms", type=float, default=20.0, help="memory-report interval")
    parser.add_argument("--out", required=True, help="where the JSON result goes")
    args = parser.parse_args()

    samples = []
    stop = threading.Event()
    sampler = threading.Thread(
        target=sample_memory, args=(args.uri, args.sample_ms / 1000, stop, samples), daemon=True
    )
    sampler.start()
    started = time.monotonic()
    try:
        rows, batches, sums = read_slowly(
            args.uri, args.namespace, args.table, args.pause_ms / 1000
        )
    finally:
        stop.set()
        sampler.join(timeout=30)
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(
            {
                "rows": rows,
                "batches": batches,
                "sums": {name: str(total) for name, total in sums.items()},
                "seconds": round(time.monotonic() - started, 3),
                "samples": len(samples),
                "max_allocated": max(samples, default=-1),
            },
            out,
        )


if __name__ == "__main__":
    main()
