"""The wire contract (shared/DESIGN.md) as a plain pyarrow.flight client sees it."""

import json
import re
import subprocess
import sys
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.flight as flight
import pyarrow.substrait
import pytest

from quiver_helpers import (
    INVALID_ARGUMENT,
    INVALID_ARGUMENT_PREFIX,
    NOT_FOUND,
    NOT_FOUND_PREFIX,
    action,
    all_of,
    assert_stays,
    compare,
    drop_table,
    list_snapshots,
    put,
    read_descriptor,
    read_info,
    read_table,
    scan_descriptor,
    sorted_by,
    unique_name,
)


def rows(start, count):
    """`count` rows with ids from `start`: an id, a value derived from it and a label."""
    ids = np.arange(start, start + count, dtype=np.int64)
    return pa.table({
        "id": ids,
        "amount": ids.astype(np.float64) * 0.5,
        "label": pa.array([f"row-{i}" for i in ids], type=pa.utf8()),
    })


def path(namespace, name):
    return flight.FlightDescriptor.for_path(namespace, name)


def not_found(*parts):
    """pytest.raises for NOT_FOUND whose message names every part."""
    return pytest.raises(NOT_FOUND, match=_message_pattern(NOT_FOUND_PREFIX, parts))


def invalid_argument(*parts):
    """pytest.raises for INVALID_ARGUMENT whose message names every part."""
    return pytest.raises(INVALID_ARGUMENT, match=_message_pattern(INVALID_ARGUMENT_PREFIX, parts))


def _message_pattern(prefix, parts):
    return "(?s)" + re.escape(prefix) + "".join(f"(?=.*{re.escape(str(p))})" for p in parts)


def assert_still_serves(client, table_ref, expected_rows):
    """The server answers a normal read after an error, and the table holds what it held."""
    assert read_table(client, *table_ref).num_rows == expected_rows


# --- DoPut and its receipt


def test_put_returns_receipt_with_rows_bytes_files_and_snapshot(client, table_ref):
    receipt = put(client, *table_ref, rows(0, 1000))

    assert set(receipt) >= {"rows", "bytes", "files", "snapshot_id"}
    assert receipt["rows"] == 1000
    assert receipt["bytes"] > 0
    assert receipt["files"] >= 1
    assert isinstance(receipt["snapshot_id"], int)
    assert list_snapshots(client, *table_ref)["current_snapshot_id"] == receipt["snapshot_id"]


def test_put_creates_table_from_stream_schema(client, table_ref):
    data = rows(0, 10)

    put(client, *table_ref, data)

    assert client.get_schema(path(*table_ref)).schema == data.schema
    assert sorted_by(read_table(client, *table_ref)).equals(data)


def test_put_of_an_empty_stream_keeps_the_table_readable(client, table_ref):
    put(client, *table_ref, rows(0, 5))

    receipt = put(client, *table_ref, rows(0, 0))

    assert receipt["rows"] == 0
    assert read_table(client, *table_ref).num_rows == 5


# --- Snapshots and time travel


def test_three_appends_make_three_snapshots_each_readable_by_time_travel(client, table_ref):
    batches = [rows(0, 100), rows(100, 250), rows(350, 50)]
    receipts = [put(client, *table_ref, batch) for batch in batches]

    listing = list_snapshots(client, *table_ref)

    snapshots = listing["snapshots"]
    assert [s["snapshot_id"] for s in snapshots] == [r["snapshot_id"] for r in receipts]
    assert listing["current_snapshot_id"] == receipts[-1]["snapshot_id"]
    assert [s["added_records"] for s in snapshots] == [100, 250, 50]
    assert [s["total_records"] for s in snapshots] == [100, 350, 400]
    assert [s["parent_id"] for s in snapshots[1:]] == [s["snapshot_id"] for s in snapshots[:-1]]
    assert all(s["operation"] == "append" for s in snapshots)
    assert all(s["added_files"] >= 1 for s in snapshots)
    timestamps = [s["timestamp_ms"] for s in snapshots]
    assert timestamps == sorted(timestamps)

    for index, snapshot in enumerate(snapshots):
        expected = pa.concat_tables(batches[: index + 1])
        info, actual = read_descriptor(
            client, scan_descriptor(*table_ref, snapshot_id=snapshot["snapshot_id"]))
        assert info.total_records == expected.num_rows
        assert sorted_by(actual).equals(sorted_by(expected)), f"snapshot {index}"


def test_scan_command_without_snapshot_reads_current_snapshot(client, table_ref):
    put(client, *table_ref, rows(0, 10))
    put(client, *table_ref, rows(10, 10))

    _, actual = read_descriptor(client, scan_descriptor(*table_ref))

    assert sorted_by(actual).equals(sorted_by(rows(0, 20)))


def test_scan_command_with_columns_and_limit(client, table_ref):
    put(client, *table_ref, rows(0, 100))

    _, projected = read_descriptor(client, scan_descriptor(*table_ref, columns=["label", "id"]))
    _, limited = read_descriptor(client, scan_descriptor(*table_ref, limit=7))

    assert projected.column_names == ["label", "id"]
    assert sorted_by(projected).equals(sorted_by(rows(0, 100).select(["label", "id"])))
    assert limited.num_rows == 7


def test_scan_command_with_predicate_filter(client, table_ref):
    put(client, *table_ref, rows(0, 100))

    _, actual = read_descriptor(client, scan_descriptor(
        *table_ref, predicate=all_of(compare("id", ">=", 90), compare("label", "!=", "row-95"))))

    assert sorted(actual.column("id").to_pylist()) == [90, 91, 92, 93, 94, 96, 97, 98, 99]


def test_scan_command_with_substrait_filter_from_pyarrow(client, table_ref):
    data = rows(0, 100)
    put(client, *table_ref, data)
    expression = (pc.field("amount") < 5.0) & (pc.field("id") != 3)
    substrait = pyarrow.substrait.serialize_expressions([expression], ["filter"], data.schema)

    _, actual = read_descriptor(client, scan_descriptor(*table_ref, substrait=substrait))

    assert sorted(actual.column("id").to_pylist()) == [0, 1, 2, 4, 5, 6, 7, 8, 9]


def test_filter_on_unknown_column_is_invalid_argument(client, table_ref):
    put(client, *table_ref, rows(0, 10))

    with invalid_argument("no_such_column"):
        client.get_flight_info(
            scan_descriptor(*table_ref, predicate=compare("no_such_column", "==", 1)))

    assert_still_serves(client, table_ref, 10)


def test_time_travel_to_unknown_snapshot_is_not_found(client, table_ref):
    put(client, *table_ref, rows(0, 1))

    with not_found("123456789"):
        client.get_flight_info(scan_descriptor(*table_ref, snapshot_id=123456789))
    assert_still_serves(client, table_ref, 1)


# --- Metadata: GetFlightInfo, GetSchema, ListFlights


def test_get_flight_info_reports_schema_records_and_endpoints(client, table_ref):
    data = rows(0, 1234)
    put(client, *table_ref, data)

    info = client.get_flight_info(path(*table_ref))

    assert info.schema == data.schema
    assert info.total_records == 1234
    assert len(info.endpoints) >= 1
    assert info.descriptor.path == [p.encode() for p in table_ref]
    assert sorted_by(read_info(client, info)).equals(data)


def test_endpoints_read_in_parallel_cover_the_table_exactly_once(client, connect, table_ref):
    for first in range(0, 50_000, 10_000):
        put(client, *table_ref, rows(first, 10_000))
    info = client.get_flight_info(path(*table_ref))
    parts = [None] * len(info.endpoints)

    def read(index, endpoint):
        parts[index] = connect().do_get(endpoint.ticket).read_all()

    readers = [threading.Thread(target=read, args=(i, e)) for i, e in enumerate(info.endpoints)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=120)

    assert all(part is not None for part in parts), "an endpoint read failed or hung"
    assert sorted_by(pa.concat_tables(parts)).equals(rows(0, 50_000))


def test_get_schema_returns_table_schema(client, table_ref):
    data = rows(0, 3)
    put(client, *table_ref, data)

    assert client.get_schema(path(*table_ref)).schema == data.schema


def test_list_flights_filters_by_namespace(client, namespace):
    other_namespace = namespace + "_other"
    put(client, namespace, "alpha", rows(0, 1))
    put(client, namespace, "beta", rows(0, 2))
    put(client, other_namespace, "gamma", rows(0, 3))

    in_namespace = {tuple(p.decode() for p in f.descriptor.path): f.total_records
                    for f in client.list_flights(namespace.encode())}
    everything = {tuple(p.decode() for p in f.descriptor.path)
                  for f in client.list_flights()}

    assert in_namespace == {(namespace, "alpha"): 1, (namespace, "beta"): 2}
    assert {(namespace, "alpha"), (namespace, "beta"), (other_namespace, "gamma")} <= everything


def test_list_flights_of_unknown_namespace_is_empty_or_not_found(client, namespace):
    try:
        flights = list(client.list_flights(namespace.encode()))
    except NOT_FOUND as error:
        assert namespace in str(error)
    else:
        assert flights == []


# --- Errors, each followed by proof that the server still serves


def test_put_with_mismatched_schema_is_invalid_and_commits_nothing(client, table_ref):
    put(client, *table_ref, rows(0, 10))
    snapshots_before = list_snapshots(client, *table_ref)["snapshots"]
    wrong = pa.table({"id": pa.array([1], pa.int64()), "amount": pa.array(["not a number"]),
                      "label": pa.array(["x"])})

    with invalid_argument(table_ref[1]):
        put(client, *table_ref, wrong)

    assert list_snapshots(client, *table_ref)["snapshots"] == snapshots_before
    assert_still_serves(client, table_ref, 10)
    put(client, *table_ref, rows(10, 5))
    assert_still_serves(client, table_ref, 15)


def test_put_with_missing_column_is_invalid(client, table_ref):
    put(client, *table_ref, rows(0, 10))

    with invalid_argument(table_ref[1]):
        put(client, *table_ref, rows(10, 5).drop_columns(["label"]))

    assert_still_serves(client, table_ref, 10)


def test_unknown_table_is_not_found_everywhere(client, session_namespace):
    name = unique_name("missing")
    descriptor = path(session_namespace, name)

    with not_found(name):
        client.get_flight_info(descriptor)
    with not_found(name):
        client.get_schema(descriptor)
    with not_found(name):
        list_snapshots(client, session_namespace, name)
    with not_found(name):
        drop_table(client, session_namespace, name)
    with not_found(name):
        client.get_flight_info(scan_descriptor(session_namespace, name))


@pytest.mark.parametrize("parts", [
    ("bad namespace", "t"),
    ("ns", "1starts_with_digit"),
    ("ns", "has-dash"),
    ("ns", "dotted.name"),
    ("ns", ""),
    ("ns", "x" * 129),
    ("ns", "ünïcode"),
], ids=["space", "leading_digit", "dash", "dot", "empty", "too_long", "non_ascii"])
def test_bad_table_name_is_invalid_argument(client, parts, table_ref):
    put(client, *table_ref, rows(0, 1))
    descriptor = path(*parts)

    with invalid_argument():
        client.get_flight_info(descriptor)
    with invalid_argument():
        put(client, *parts, rows(0, 1))
    with invalid_argument():
        list_snapshots(client, *parts)
    assert_still_serves(client, table_ref, 1)
    assert parts not in {tuple(p.decode() for p in f.descriptor.path)
                         for f in client.list_flights()}


@pytest.mark.parametrize("parts", [("only_one",), ("a", "b", "c")], ids=["one", "three"])
def test_path_of_wrong_length_is_invalid_argument(client, parts):
    with invalid_argument():
        client.get_flight_info(flight.FlightDescriptor.for_path(*parts))


def test_garbage_ticket_is_invalid_argument(client, table_ref):
    put(client, *table_ref, rows(0, 3))

    for garbage in [b"garbage", b"\x00\xff\x13\x37" * 8, b""]:
        with invalid_argument():
            client.do_get(flight.Ticket(garbage)).read_all()

    assert_still_serves(client, table_ref, 3)


def test_unknown_action_is_rejected(client, table_ref):
    put(client, *table_ref, rows(0, 1))

    with pytest.raises((INVALID_ARGUMENT, pa.ArrowNotImplementedError), match="no-such-action"):
        action(client, "no-such-action", {})

    assert_still_serves(client, table_ref, 1)


# --- Failed and cancelled puts commit nothing


def snapshot_ids(client, table_ref):
    return [s["snapshot_id"] for s in list_snapshots(client, *table_ref)["snapshots"]]


def test_put_cancelled_by_deadline_commits_nothing(client, table_ref):
    put(client, *table_ref, rows(0, 100))
    before = snapshot_ids(client, table_ref)
    batch = rows(1_000_000, 1000).to_batches()[0]
    options = flight.FlightCallOptions(timeout=1.0)

    writer, _ = client.do_put(path(*table_ref), batch.schema, options=options)
    # Write until the deadline cancels the call: the write (or the close) then fails.
    with pytest.raises((flight.FlightTimedOutError, flight.FlightCancelledError, pa.ArrowException)):
        try:
            for _ in range(1_000_000):
                writer.write_batch(batch)
        finally:
            writer.close()

    assert_stays(lambda: snapshot_ids(client, table_ref) == before, duration=2.0,
                 message="no new snapshot after the cancelled put")
    assert_still_serves(client, table_ref, 100)


KILLED_WRITER = """
import sys, pyarrow as pa, pyarrow.flight as flight
uri, namespace, name = sys.argv[1:4]
client = flight.connect(uri)
batch = pa.record_batch({"id": pa.array(range(1000), pa.int64()),
                         "amount": pa.array([0.5] * 1000), "label": pa.array(["x"] * 1000)})
writer, _ = client.do_put(flight.FlightDescriptor.for_path(namespace, name), batch.schema)
for _ in range(20):
    writer.write_batch(batch)
print("wrote", flush=True)
sys.stdin.read()  # never finishes the put; the test kills this process
"""


def test_put_from_a_killed_client_commits_nothing(client, table_ref, quiver_uri):
    put(client, *table_ref, rows(0, 100))
    before = snapshot_ids(client, table_ref)

    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, quiver_uri, *table_ref],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "wrote"
    finally:
        writer.kill()
        writer.wait(timeout=30)

    assert_stays(lambda: snapshot_ids(client, table_ref) == before, duration=2.0,
                 message="no new snapshot after the killed client's put")
    assert_still_serves(client, table_ref, 100)


# --- Concurrency and volume


def test_four_threads_appending_at_once_lose_no_row(client, connect, table_ref):
    put(client, *table_ref, rows(0, 1))  # create the table first: concurrent creates may race
    threads, puts_per_thread, rows_per_put = 4, 5, 2000
    start = threading.Barrier(threads)
    receipts, errors = [], []

    def append(worker):
        own_client = connect()
        try:
            start.wait(timeout=30)
            for i in range(puts_per_thread):
                first_id = 1 + (worker * puts_per_thread + i) * rows_per_put
                receipts.append(put(own_client, *table_ref, rows(first_id, rows_per_put)))
        except Exception as error:  # reported below with the thread that raised it
            errors.append((worker, error))

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)

    assert not any(worker.is_alive() for worker in workers), "an appending thread hung"
    assert errors == []
    total = 1 + threads * puts_per_thread * rows_per_put
    ids = read_table(client, *table_ref).column("id").to_numpy()
    assert len(ids) == total
    assert np.array_equal(np.sort(ids), np.arange(total))
    assert len({r["snapshot_id"] for r in receipts}) == threads * puts_per_thread
    assert list_snapshots(client, *table_ref)["snapshots"][-1]["total_records"] == total


TEN_MILLION = 10_000_000
BATCH_ROWS = 1_000_000
MASK64 = np.uint64(2**64 - 1)


def big_batch(first_id, count):
    """Deterministic rows: four columns derived from the id, so any row can be re-checked."""
    ids = np.arange(first_id, first_id + count, dtype=np.int64)
    rng = np.random.default_rng(first_id)
    return pa.record_batch({
        "id": ids,
        "bucket": (ids % 1000).astype(np.int32),
        "value": rng.standard_normal(count),
        "ts": pa.array(ids * 1000 + 1_700_000_000_000_000, type=pa.timestamp("us")),
        "flag": pa.array(ids % 3 == 0),
    })


class Checksum:
    """Order-independent digest of rows: row count, and wrapping sums of per-row hashes."""

    def __init__(self):
        self.rows = 0
        self.sums = np.zeros(2, dtype=np.uint64)

    def add(self, batch):
        ids = batch.column("id").to_numpy().view(np.uint64)
        bucket = batch.column("bucket").to_numpy().astype(np.uint64)
        value_bits = batch.column("value").to_numpy().view(np.uint64)
        ts = batch.column("ts").cast(pa.int64()).to_numpy().view(np.uint64)
        flag = batch.column("flag").to_numpy(zero_copy_only=False).astype(np.uint64)
        with np.errstate(over="ignore"):
            row_hash = (ids * np.uint64(0x9E3779B97F4A7C15)) ^ value_bits
            row_hash ^= (bucket << np.uint64(40)) ^ ts ^ (flag << np.uint64(63))
            self.sums[0] += np.sum(row_hash, dtype=np.uint64)
            self.sums[1] += np.sum(row_hash * row_hash, dtype=np.uint64)
        self.rows += batch.num_rows

    def __eq__(self, other):
        return self.rows == other.rows and np.array_equal(self.sums, other.sums)

    def __repr__(self):
        return f"Checksum(rows={self.rows}, sums={self.sums.tolist()})"


def test_ten_million_rows_put_and_read_back_equal(client, table_ref):
    sent = Checksum()
    schema = big_batch(0, 1).schema
    writer, metadata = client.do_put(path(*table_ref), schema)
    try:
        for first_id in range(0, TEN_MILLION, BATCH_ROWS):
            batch = big_batch(first_id, BATCH_ROWS)
            sent.add(batch)
            writer.write_batch(batch)
        writer.done_writing()
        receipt = metadata.read()
    finally:
        writer.close()
    assert receipt is not None
    assert json.loads(receipt.to_pybytes())["rows"] == TEN_MILLION

    info = client.get_flight_info(path(*table_ref))
    received = Checksum()
    for endpoint in info.endpoints:
        for chunk in client.do_get(endpoint.ticket):
            assert chunk.data.schema == schema
            received.add(chunk.data)

    assert info.total_records == TEN_MILLION
    assert received == sent


# --- Drop


def test_drop_table_then_not_found(client, table_ref):
    put(client, *table_ref, rows(0, 10))

    result = drop_table(client, *table_ref)

    assert result["dropped"] == ".".join(table_ref)
    with not_found(table_ref[1]):
        client.get_flight_info(path(*table_ref))
    with not_found(table_ref[1]):
        drop_table(client, *table_ref)
    assert table_ref not in {tuple(p.decode() for p in f.descriptor.path)
                             for f in client.list_flights(table_ref[0].encode())}


def test_dropped_table_can_be_created_again(client, table_ref):
    put(client, *table_ref, rows(0, 10))
    drop_table(client, *table_ref)

    put(client, *table_ref, rows(100, 3))

    assert sorted_by(read_table(client, *table_ref)).equals(rows(100, 3))
    assert len(list_snapshots(client, *table_ref)["snapshots"]) == 1


def test_list_actions_names_the_table_actions(client):
    types = {a.type for a in client.list_actions()}

    assert {"drop-table", "list-snapshots", "server-info"} <= types


def test_server_info_answers_json(client):
    [info] = action(client, "server-info")

    assert info["name"]
    assert info["version"]
