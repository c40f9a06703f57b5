"""SQL from pyarrow: FlightDescriptor.for_command(b"SELECT ...") runs the query on the server.

The server reads plain bytes in a command as SQL text (Flight SQL's CommandStatementQuery), so
pyarrow needs no Flight SQL client. Results keep the tables' exact Arrow types: zoned timestamps
keep their zone and unit, decimals their precision and scale.
"""

import datetime
import decimal

import pyarrow as pa
import pyarrow.flight as flight
import pytest

from quiver_helpers import INVALID_ARGUMENT, NOT_FOUND, put, read_descriptor


def sql(text):
    return flight.FlightDescriptor.for_command(text.encode("utf-8"))


def test_for_command_sql_runs_a_query(client, table_ref):
    namespace, name = table_ref
    put(client, namespace, name, pa.table({"id": pa.array(range(100), pa.int64()),
                                           "name": [f"n{i}" for i in range(100)]}))

    info, result = read_descriptor(
        client, sql(f"SELECT id, name FROM {namespace}.{name} WHERE id >= 97 ORDER BY id"))

    assert result.to_pydict() == {"id": [97, 98, 99], "name": ["n97", "n98", "n99"]}
    assert info.schema == result.schema


def test_aggregates_and_joins(client, session_namespace, table_ref):
    namespace, name = table_ref
    put(client, namespace, name + "_a", pa.table({"id": pa.array(range(10), pa.int64())}))
    put(client, namespace, name + "_b", pa.table({"id": pa.array(range(5, 15), pa.int64())}))

    _, result = read_descriptor(client, sql(
        f"SELECT count(*) AS n, sum(a.id) AS total FROM {namespace}.{name}_a a"
        f" JOIN {namespace}.{name}_b b USING (id)"))

    assert result.to_pydict() == {"n": [5], "total": [5 + 6 + 7 + 8 + 9]}


def test_zoned_timestamps_and_decimals_keep_their_types(client, table_ref):
    namespace, name = table_ref
    instant = datetime.datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=datetime.timezone.utc)
    table = pa.table({
        "ts_us": pa.array([instant, None], pa.timestamp("us", tz="UTC")),
        "ts_ms": pa.array([instant.replace(microsecond=123000), None],
                          pa.timestamp("ms", tz="Europe/Oslo")),
        "ts_ns": pa.array([1_700_000_000_123_456_789, None], pa.timestamp("ns", tz="UTC")),
        "amount": pa.array([decimal.Decimal("12345.67"), None], pa.decimal128(18, 2)),
    })
    put(client, namespace, name, table)

    info, result = read_descriptor(client, sql(f"SELECT * FROM {namespace}.{name}"))

    # SQL results name zone UTC for every zoned column (the same instants: JDBC driver 18.3
    # reads other zones' wall-clock times in the JVM's zone); units and decimals are exact.
    served = table.cast(pa.schema([
        ("ts_us", pa.timestamp("us", tz="UTC")),
        ("ts_ms", pa.timestamp("ms", tz="UTC")),
        ("ts_ns", pa.timestamp("ns", tz="UTC")),
        ("amount", pa.decimal128(18, 2)),
    ]))
    assert result.schema.types == served.schema.types
    assert info.schema.types == served.schema.types
    assert result.equals(served)


def test_syntax_error_is_invalid_argument_with_duckdbs_message(client):
    with pytest.raises(INVALID_ARGUMENT, match='syntax error at or near "SELEC"'):
        client.get_flight_info(sql("SELEC 1"))


def test_unknown_table_is_not_found_naming_it(client):
    with pytest.raises(NOT_FOUND, match="nope.missing"):
        client.get_flight_info(sql("SELECT * FROM nope.missing"))
