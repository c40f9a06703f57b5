"""Every Arrow type Quiver accepts comes back from a put exactly as it went in, nulls included.

One test per type, so a failure names the type. Each table is `id` (int64, never null) plus one
column `v` of the type under test holding edge values and at least one null, written in two
record batches. The read is sorted by `id` because endpoints may come back in any order.
"""

import datetime
import decimal

import numpy as np
import pyarrow as pa
import pyarrow.flight as flight
import pytest

from quiver_helpers import INVALID_ARGUMENT, NOT_FOUND, put, read_table, sorted_by

INT_RANGES = {
    pa.int8(): (-(2**7), 2**7 - 1),
    pa.int16(): (-(2**15), 2**15 - 1),
    pa.int32(): (-(2**31), 2**31 - 1),
    pa.int64(): (-(2**63), 2**63 - 1),
    pa.uint8(): (0, 2**8 - 1),
    pa.uint16(): (0, 2**16 - 1),
    pa.uint32(): (0, 2**32 - 1),
    pa.uint64(): (0, 2**64 - 1),
}


def integers(arrow_type):
    low, high = INT_RANGES[arrow_type]
    return pa.array([low, None, 0, high, 1, None, high - 1], type=arrow_type)


def float16():
    values = np.array([0.0, 1.5, -2.25, np.inf, 65504.0, 0.0, -0.0], dtype=np.float16)
    mask = np.array([False, False, True, False, False, True, False])
    return pa.array(values, type=pa.float16(), mask=mask)


def floats(arrow_type):
    return pa.array([0.0, 1.5, None, -1e300 if arrow_type == pa.float64() else -3.0e38,
                     float("inf"), float("-inf"), 5e-324 if arrow_type == pa.float64() else 1e-45],
                    type=arrow_type)


def booleans():
    return pa.array([True, False, None, True, True, None, False], type=pa.bool_())


STRINGS = ["", "plain", None, "ünïcödé ✓ 日本", "tab\tand\nnewline", None, "x" * 1000]
BINARIES = [b"", b"\x00\x01\xff", None, b"bytes", bytes(range(256)), None, b"\x00" * 64]


def times(unit):
    per_second = {"us": 10**6, "ns": 10**9}[unit]
    last = 86400 * per_second - 1
    return pa.array([0, 1, None, 43200 * per_second, last, None, 12345], type=pa.time64(unit))


def timestamps(unit, tz):
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    values = [0, -86400 * per_second, None, 1_700_000_000 * per_second + per_second // 2,
              253402300799 * per_second if unit != "ns" else 2**62, None, 1]
    return pa.array(values, type=pa.timestamp(unit, tz=tz))


def decimals():
    values = [decimal.Decimal("0"), decimal.Decimal("12345678901234567890.1234567890"), None,
              decimal.Decimal("-0.0000000001"), decimal.Decimal("9" * 28 + "." + "9" * 10), None,
              decimal.Decimal("-" + "9" * 28 + "." + "9" * 10)]
    return pa.array(values, type=pa.decimal128(38, 10))


def lists():
    return pa.array([[1, 2, 3], [], None, [None], [4, None, 6], None, list(range(100))],
                    type=pa.list_(pa.int32()))


def large_lists():
    return pa.array([["a", "b"], [], None, [None, "c"], ["d"], None, ["e"] * 50],
                    type=pa.large_list(pa.utf8()))


def structs():
    struct_type = pa.struct([("a", pa.int32()), ("b", pa.utf8()), ("c", pa.float64())])
    return pa.array([{"a": 1, "b": "x", "c": 1.5}, {"a": None, "b": None, "c": None}, None,
                     {"a": -1, "b": "", "c": 0.0}, {"a": 7, "b": "y", "c": None}, None,
                     {"a": 2**31 - 1, "b": "z" * 20, "c": -2.5}], type=struct_type)


def maps():
    return pa.array([[("a", 1), ("b", 2)], [], None, [("c", None)], [("d", 4)], None,
                     [(f"k{i}", i) for i in range(20)]], type=pa.map_(pa.utf8(), pa.int64()))


def dictionary_strings():
    indices = pa.array([0, 1, None, 2, 0, None, 1], type=pa.int32())
    return pa.DictionaryArray.from_arrays(indices, pa.array(["red", "green", "blue"]))


CASES = {
    "int8": lambda: integers(pa.int8()),
    "int16": lambda: integers(pa.int16()),
    "int32": lambda: integers(pa.int32()),
    "int64": lambda: integers(pa.int64()),
    "uint8": lambda: integers(pa.uint8()),
    "uint16": lambda: integers(pa.uint16()),
    "uint32": lambda: integers(pa.uint32()),
    "uint64": lambda: integers(pa.uint64()),
    "float16": float16,
    "float32": lambda: floats(pa.float32()),
    "float64": lambda: floats(pa.float64()),
    "bool": booleans,
    "utf8": lambda: pa.array(STRINGS, type=pa.utf8()),
    "large_utf8": lambda: pa.array(STRINGS, type=pa.large_utf8()),
    "binary": lambda: pa.array(BINARIES, type=pa.binary()),
    "large_binary": lambda: pa.array(BINARIES, type=pa.large_binary()),
    "fixed_size_binary": lambda: pa.array(
        [b"abcd", b"\x00\x00\x00\x00", None, b"\xff\xfe\xfd\xfc", b"wxyz", None, b"1234"],
        type=pa.binary(4)),
    "date32": lambda: pa.array(
        [datetime.date(1970, 1, 1), datetime.date(1, 1, 1), None, datetime.date(2024, 2, 29),
         datetime.date(9999, 12, 31), None, datetime.date(1969, 12, 31)], type=pa.date32()),
    "time64_us": lambda: times("us"),
    "time64_ns": lambda: times("ns"),
    "timestamp_s": lambda: timestamps("s", None),
    "timestamp_ms": lambda: timestamps("ms", None),
    "timestamp_us": lambda: timestamps("us", None),
    "timestamp_ns": lambda: timestamps("ns", None),
    "timestamp_s_utc": lambda: timestamps("s", "UTC"),
    "timestamp_ms_utc": lambda: timestamps("ms", "UTC"),
    "timestamp_us_utc": lambda: timestamps("us", "UTC"),
    "timestamp_ns_utc": lambda: timestamps("ns", "UTC"),
    "timestamp_us_europe_paris": lambda: timestamps("us", "Europe/Paris"),
    "decimal128": decimals,
    "list": lists,
    "large_list": large_lists,
    "struct": structs,
    "map": maps,
    "dictionary_utf8": dictionary_strings,
}


def table_of(values):
    assert values.null_count > 0, "every case must hold a null"
    return pa.table({"id": pa.array(range(len(values)), type=pa.int64()), "v": values})


@pytest.mark.parametrize("type_name", list(CASES))
def test_type_round_trips_with_nulls(client, table_ref, type_name):
    expected = table_of(CASES[type_name]())

    receipt = put(client, *table_ref, expected, max_chunksize=4)
    actual = sorted_by(read_table(client, *table_ref))

    assert receipt["rows"] == expected.num_rows
    assert actual.schema == expected.schema, (
        f"{type_name}: schema changed\nsent:\n{expected.schema}\nread:\n{actual.schema}")
    assert actual.equals(expected.combine_chunks()), (
        f"{type_name}: values changed\nsent:\n{expected.column('v')}\nread:\n{actual.column('v')}")


def test_every_type_in_one_table_round_trips(client, table_ref):
    columns = {"id": pa.array(range(7), type=pa.int64())}
    columns.update({name: build() for name, build in CASES.items()})
    expected = pa.table(columns)

    put(client, *table_ref, expected, max_chunksize=3)
    actual = sorted_by(read_table(client, *table_ref))

    assert actual.schema == expected.schema
    assert actual.equals(expected.combine_chunks())


def test_non_nullable_field_stays_non_nullable(client, table_ref):
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False),
                        pa.field("v", pa.utf8(), nullable=True)])
    expected = pa.table({"id": [1, 2], "v": ["a", None]}, schema=schema)

    put(client, *table_ref, expected)
    actual = sorted_by(read_table(client, *table_ref))

    assert actual.schema == expected.schema
    assert actual.equals(expected)


UNSUPPORTED = {
    "date64": lambda: pa.array([0, None], type=pa.date64()),
    "duration": lambda: pa.array([1, None], type=pa.duration("s")),
    "interval": lambda: pa.array([pa.MonthDayNano([1, 2, 3]), None],
                                 type=pa.month_day_nano_interval()),
    "null": lambda: pa.nulls(2),
    "fixed_size_list": lambda: pa.array([[1, 2], None], type=pa.list_(pa.int32(), 2)),
    "dense_union": lambda: pa.UnionArray.from_dense(
        pa.array([0, 1], type=pa.int8()), pa.array([0, 0], type=pa.int32()),
        [pa.array([1]), pa.array(["a"])]),
}


@pytest.mark.parametrize("type_name", list(UNSUPPORTED))
def test_unsupported_type_is_invalid_argument_and_creates_no_table(client, table_ref, type_name):
    data = pa.table({"id": pa.array([1, 2], type=pa.int64()), "odd_column": UNSUPPORTED[type_name]()})

    with pytest.raises(INVALID_ARGUMENT, match="odd_column"):
        put(client, *table_ref, data)

    with pytest.raises(NOT_FOUND):
        client.get_flight_info(flight.FlightDescriptor.for_path(*table_ref))
