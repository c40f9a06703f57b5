"""A reference Arrow Flight server written with pyarrow.flight (Arrow C++), for side-by-side runs.

Usage: reference_server.py --data-dir DIR [--host 127.0.0.1] [--port 0] [--batch-rows 65536]

It serves the for_path contract Quiver serves, on Parquet files as Quiver stores them, so
benchmarks/compare/compare.py can drive both with the same harness:

- DoPut(for_path(ns, table)): appends the stream to the table as one new zstd Parquet file with
  row groups of up to 1,048,576 rows (Quiver's defaults), written with pyarrow.parquet; the file
  appears atomically (written under a temporary name, then renamed). Replies with one PutResult
  whose app_metadata is JSON {"rows", "bytes", "files"}.
- GetFlightInfo(for_path(ns, table)): schema, total_records and one endpoint whose ticket names
  the table.
- DoGet(ticket): scans the table's files with pyarrow.dataset (threads on, batches of
  --batch-rows) and streams them from C++ (flight.RecordBatchStream), no Python per batch.
- DoAction drop-table with Quiver's JSON body {"namespace", "table"}; ListActions lists it.

It prints "Reference listening on grpc://HOST:PORT" once it serves, and stops on SIGTERM/SIGINT.
"""

import argparse
import json
import os
import pathlib
import re
import shutil
import signal
import sys
import threading
import uuid

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.flight as flight
import pyarrow.parquet as pq

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
ROW_GROUP_ROWS = 1 << 20


class ReferenceServer(flight.FlightServerBase):
    def __init__(self, location, data_dir, batch_rows):
        super().__init__(location)
        self._data = pathlib.Path(data_dir)
        self._batch_rows = batch_rows
        self._lock = threading.Lock()

    def _table_dir(self, parts):
        names = [p.decode() if isinstance(p, bytes) else p for p in parts]
        if len(names) != 2 or not all(NAME.match(n) for n in names):
            raise flight.FlightServerError(f"Bad table path {names}: need [namespace, table]")
        return self._data / names[0] / names[1]

    def _dataset(self, table_dir):
        files = sorted(str(p) for p in table_dir.glob("*.parquet"))
        if not files:
            raise flight.FlightServerError(f"Table {table_dir.name} not found")
        return ds.dataset(files, format="parquet")

    def do_put(self, context, descriptor, reader, writer):
        table_dir = self._table_dir(descriptor.path)
        table_dir.mkdir(parents=True, exist_ok=True)
        name = f"part-{uuid.uuid4().hex}.parquet"
        staging = table_dir / ("." + name + ".tmp")
        rows = 0
        size = 0
        pending = []
        pending_rows = 0
        try:
            with pq.ParquetWriter(str(staging), reader.schema, compression="zstd") as out:
                for chunk in reader:
                    batch = chunk.data
                    rows += batch.num_rows
                    size += batch.nbytes
                    pending.append(batch)
                    pending_rows += batch.num_rows
                    if pending_rows >= ROW_GROUP_ROWS:
                        out.write_table(
                            pa.Table.from_batches(pending), row_group_size=ROW_GROUP_ROWS)
                        pending, pending_rows = [], 0
                if pending:
                    out.write_table(pa.Table.from_batches(pending), row_group_size=ROW_GROUP_ROWS)
            os.replace(staging, table_dir / name)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        receipt = json.dumps({"rows": rows, "bytes": size, "files": 1}).encode()
        writer.write(pa.py_buffer(receipt))

    def get_flight_info(self, context, descriptor):
        table_dir = self._table_dir(descriptor.path)
        dataset = self._dataset(table_dir)
        ticket = flight.Ticket(json.dumps([p.decode() for p in descriptor.path]).encode())
        return flight.FlightInfo(
            dataset.schema,
            descriptor,
            [flight.FlightEndpoint(ticket, [])],
            dataset.count_rows(),
            -1,
        )

    def get_schema(self, context, descriptor):
        return flight.SchemaResult(self._dataset(self._table_dir(descriptor.path)).schema)

    def do_get(self, context, ticket):
        path = json.loads(ticket.ticket.decode())
        dataset = self._dataset(self._table_dir(path))
        reader = dataset.scanner(batch_size=self._batch_rows, use_threads=True).to_reader()
        return flight.RecordBatchStream(reader)

    def list_actions(self, context):
        return [("drop-table", "Drop a table. Body: {\"namespace\": \"ns\", \"table\": \"t\"}.")]

    def do_action(self, context, action):
        if action.type != "drop-table":
            raise flight.FlightUnimplementedError(f"Unknown action {action.type}")
        body = json.loads(action.body.to_pybytes())
        table_dir = self._table_dir([body["namespace"], body["table"]])
        if not table_dir.exists():
            return [json.dumps({"dropped": None}).encode()]
        shutil.rmtree(table_dir)
        return [json.dumps({"dropped": f"{body['namespace']}.{body['table']}"}).encode()]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--batch-rows", type=int, default=65536)
    args = parser.parse_args(argv)
    pathlib.Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    server = ReferenceServer(f"grpc://{args.host}:{args.port}", args.data_dir, args.batch_rows)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"Reference listening on grpc://{args.host}:{server.port}", flush=True)
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
