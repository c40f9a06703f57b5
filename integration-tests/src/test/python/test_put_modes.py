"""Overwrite and upsert from plain pyarrow: a quiver.v1.PutCommand sent with
FlightDescriptor.for_command, as README's "Overwrite and upsert" shows."""

import pathlib
import subprocess
import sys

import pyarrow as pa
import pyarrow.flight as flight
import pytest

from quiver_helpers import (
    INVALID_ARGUMENT,
    compare,
    drop_table,
    list_snapshots,
    put,
    put_command,
    put_to,
    read_table,
    sorted_by,
)

README = pathlib.Path(__file__).resolve().parents[4] / "README.md"


def orders(ids, regions, amounts):
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "region": pa.array(regions, pa.utf8()),
        "amount": pa.array(amounts, pa.int64()),
    })


def rows_of(client, namespace, name):
    table = sorted_by(read_table(client, namespace, name))
    return list(zip(table["id"].to_pylist(), table["region"].to_pylist(),
                    table["amount"].to_pylist()))


def test_overwrite_of_a_region_replaces_only_its_rows(client, table_ref):
    put(client, *table_ref, orders([1, 2, 3], ["eu", "us", "eu"], [10, 20, 30]))
    snapshots = len(list_snapshots(client, *table_ref)["snapshots"])

    command = put_command(*table_ref, "overwrite", predicate=compare("region", "==", "eu"))
    receipt = put_to(client, flight.FlightDescriptor.for_command(command),
                     orders([4], ["eu"], [40]))

    assert receipt["mode"] == "overwrite"
    assert receipt["rows_added"] == 1
    assert receipt["rows_deleted"] == 2
    assert rows_of(client, *table_ref) == [(2, "us", 20), (4, "eu", 40)]
    assert len(list_snapshots(client, *table_ref)["snapshots"]) == snapshots + 1


def test_overwrite_without_filter_replaces_the_table(client, table_ref):
    put(client, *table_ref, orders([1, 2], ["eu", "us"], [10, 20]))

    command = put_command(*table_ref, "overwrite")
    receipt = put_to(client, flight.FlightDescriptor.for_command(command),
                     orders([9], ["ap"], [90]))

    assert receipt["rows_deleted"] == 2
    assert rows_of(client, *table_ref) == [(9, "ap", 90)]


def test_overwrite_with_rows_outside_its_filter_is_refused(client, table_ref):
    put(client, *table_ref, orders([1, 2], ["eu", "us"], [10, 20]))
    snapshots = list_snapshots(client, *table_ref)["snapshots"]

    command = put_command(*table_ref, "overwrite", predicate=compare("region", "==", "eu"))
    with pytest.raises(INVALID_ARGUMENT, match="where region = 'eu': 1 of the put's 2 rows"):
        put_to(client, flight.FlightDescriptor.for_command(command),
               orders([3, 4], ["eu", "us"], [30, 40]))

    assert list_snapshots(client, *table_ref)["snapshots"] == snapshots
    assert rows_of(client, *table_ref) == [(1, "eu", 10), (2, "us", 20)]


def test_upsert_replaces_matching_keys_and_inserts_the_rest(client, table_ref):
    put(client, *table_ref, orders([1, 2, 3], ["eu", "us", "eu"], [10, 20, 30]))

    command = put_command(*table_ref, "upsert", key_columns=["id"])
    receipt = put_to(client, flight.FlightDescriptor.for_command(command),
                     orders([2, 4], ["us", "ap"], [21, 40]))

    assert receipt["mode"] == "upsert"
    assert receipt["rows_replaced"] == 1
    assert receipt["rows_added"] == 1
    assert rows_of(client, *table_ref) == [(1, "eu", 10), (2, "us", 21), (3, "eu", 30),
                                           (4, "ap", 40)]


def test_upsert_with_a_key_twice_is_refused(client, table_ref):
    put(client, *table_ref, orders([1], ["eu"], [10]))
    snapshots = list_snapshots(client, *table_ref)["snapshots"]

    command = put_command(*table_ref, "upsert", key_columns=["id"])
    with pytest.raises(INVALID_ARGUMENT, match=r"the put holds key \(id=5\) 2 times"):
        put_to(client, flight.FlightDescriptor.for_command(command),
               orders([5, 5], ["eu", "us"], [1, 2]))
    with pytest.raises(INVALID_ARGUMENT, match="on key column customer: the table has no such"):
        put_to(client, flight.FlightDescriptor.for_command(
                   put_command(*table_ref, "upsert", key_columns=["customer"])),
               orders([5], ["eu"], [1]))

    assert list_snapshots(client, *table_ref)["snapshots"] == snapshots


def test_readme_overwrite_and_upsert_example_runs(client, quiver_uri):
    """README's "Overwrite and upsert" block runs as written, after its first example."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    at = 0
    while "```python\n" in text[at:]:
        start = text.index("```python\n", at) + len("```python\n")
        end = text.index("```", start)
        blocks.append(text[start:end])
        at = end + 3
    example = next(b for b in blocks if "PUT_MODE_UPSERT" in b)
    try:
        drop_table(client, "demo", "cities")
    except KeyError:
        pass
    source = (blocks[0] + "\n" + example).replace("grpc://127.0.0.1:8815", quiver_uri)

    run = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                         timeout=120)

    assert run.returncode == 0, run.stderr
    assert "'mode': 'overwrite'" in run.stdout
    assert "'mode': 'upsert', 'rows_added': 1, 'rows_replaced': 1" in run.stdout
    assert rows_of_cities(client) == [(1, "Oslo"), (2, "Lima"), (3, "Pune"), (4, "Kyiv")]


def rows_of_cities(client):
    table = sorted_by(read_table(client, "demo", "cities"))
    return list(zip(table["id"].to_pylist(), table["city"].to_pylist()))
