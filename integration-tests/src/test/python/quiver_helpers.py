"""Helpers for driving Quiver with nothing but pyarrow.flight.

How pyarrow 25 reports the Flight status a Java server sends (checked against a Java
FlightServer; the message always starts "Flight returned <status> error, with message: "):

    INVALID_ARGUMENT    -> pyarrow.ArrowInvalid            (a ValueError)
    NOT_FOUND           -> pyarrow.ArrowKeyError           (a KeyError)
    ALREADY_EXISTS      -> pyarrow.ArrowException          (message starts "Unknown: ")
    RESOURCE_EXHAUSTED  -> pyarrow.ArrowInvalid            ("gRPC returned resource exhausted")
    UNIMPLEMENTED       -> pyarrow.ArrowNotImplementedError
    CANCELLED           -> pyarrow.flight.FlightCancelledError
    UNAVAILABLE         -> pyarrow.flight.FlightUnavailableError
    INTERNAL            -> pyarrow.flight.FlightInternalError
"""

import json
import re
import struct
import time
import uuid

import pyarrow as pa
import pyarrow.flight as flight

# The exception classes above, named for the status they stand for.
INVALID_ARGUMENT = pa.ArrowInvalid
NOT_FOUND = pa.ArrowKeyError

INVALID_ARGUMENT_PREFIX = "invalid argument error"
NOT_FOUND_PREFIX = "not found error"

SCAN_COMMAND_TYPE_URL = "type.googleapis.com/quiver.v1.ScanCommand"
PUT_COMMAND_TYPE_URL = "type.googleapis.com/quiver.v1.PutCommand"
MAX_NAME_LENGTH = 128


def unique_name(hint):
    """A valid table name built from `hint`, unique to this call."""
    suffix = "_" + uuid.uuid4().hex[:8]
    base = re.sub(r"[^A-Za-z0-9_]", "_", hint).strip("_") or "t"
    if not re.match(r"[A-Za-z_]", base):
        base = "t_" + base
    return base[: MAX_NAME_LENGTH - len(suffix)] + suffix


def put(client, namespace, name, table, max_chunksize=None):
    """Appends `table` to namespace.name with one DoPut; returns the receipt as a dict."""
    return put_to(client, flight.FlightDescriptor.for_path(namespace, name), table,
                  max_chunksize=max_chunksize)


def read_descriptor(client, descriptor):
    """Reads every endpoint of GetFlightInfo(descriptor); returns (FlightInfo, Table)."""
    info = client.get_flight_info(descriptor)
    return info, read_info(client, info)


def read_info(client, info):
    """Reads every endpoint of `info` in order into one table with `info`'s schema."""
    tables = [read_ticket(client, endpoint.ticket) for endpoint in info.endpoints]
    if not tables:
        return info.schema.empty_table()
    return pa.concat_tables(tables)


def read_ticket(client, ticket):
    return client.do_get(ticket).read_all()


def read_table(client, namespace, name):
    """The current snapshot of namespace.name as one table."""
    return read_descriptor(client, flight.FlightDescriptor.for_path(namespace, name))[1]


def action(client, action_type, body=None):
    """Runs DoAction; returns the JSON-decoded results (a list)."""
    payload = b"" if body is None else json.dumps(body).encode()
    results = client.do_action(flight.Action(action_type, payload))
    return [json.loads(result.body.to_pybytes()) for result in results]


def list_snapshots(client, namespace, name):
    [result] = action(client, "list-snapshots", {"namespace": namespace, "table": name})
    return result


def drop_table(client, namespace, name):
    [result] = action(client, "drop-table", {"namespace": namespace, "table": name})
    return result


def sorted_by(table, column="id"):
    """Rows in `column` order, as one chunk: endpoints and files may come back in any order."""
    return table.sort_by(column).combine_chunks()


def wait_until(condition, timeout=30.0, interval=0.05, message="condition"):
    """Polls `condition` until it returns a truthy value (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def assert_stays(condition, duration, interval=0.1, message="condition"):
    """Checks that `condition` holds throughout `duration` seconds.

    Proving that something does not happen needs an observation window; this is that window, not
    a wait for something to become true.
    """
    deadline = time.monotonic() + duration
    while True:
        assert condition(), f"{message} stopped holding"
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


# --- A protobuf writer just big enough for quiver.v1.ScanCommand wrapped in google.protobuf.Any.


def _varint(value):
    value &= (1 << 64) - 1  # int64 is sent as its two's complement, ten bytes when negative
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _varint_field(number, value):
    return _varint(number << 3) + _varint(value)


def _bytes_field(number, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _literal(value):
    if isinstance(value, bool):
        return _varint_field(1, int(value))
    if isinstance(value, int):
        return _varint_field(2, value)
    if isinstance(value, float):
        return _varint(3 << 3 | 1) + struct.pack("<d", value)
    if isinstance(value, str):
        return _bytes_field(4, value)
    return _bytes_field(5, bytes(value))


COMPARISON_OPS = {"==": 1, "!=": 2, "<": 3, "<=": 4, ">": 5, ">=": 6}


def compare(column, op, value):
    """A quiver.v1.Predicate: `column op value`, op one of == != < <= > >=."""
    comparison = (_bytes_field(1, column) + _varint_field(2, COMPARISON_OPS[op])
                  + _bytes_field(3, _literal(value)))
    return _bytes_field(1, comparison)


def all_of(*predicates):
    """A quiver.v1.Predicate that holds when every one of `predicates` does."""
    return _bytes_field(2, b"".join(_bytes_field(1, p) for p in predicates))


def scan_command(namespace, name, columns=(), limit=None, snapshot_id=None, predicate=None,
                 substrait=None):
    """FlightDescriptor.for_command bytes for a quiver.v1.ScanCommand, packed in an Any.

    `predicate` is what compare()/all_of() build; `substrait` is a serialized Substrait
    ExtendedExpression such as pyarrow.substrait.serialize_expressions returns.
    """
    table_ref = _bytes_field(1, namespace) + _bytes_field(2, name)
    message = _bytes_field(1, table_ref)
    for column in columns:
        message += _bytes_field(2, column)
    if predicate is not None:
        message += _bytes_field(3, _bytes_field(1, predicate))
    if substrait is not None:
        message += _bytes_field(3, _bytes_field(2, bytes(substrait)))
    if limit is not None:
        message += _varint_field(4, limit)
    if snapshot_id is not None:
        message += _varint_field(5, snapshot_id)
    return _bytes_field(1, SCAN_COMMAND_TYPE_URL) + _bytes_field(2, message)


PUT_MODES = {"append": 0, "overwrite": 1, "upsert": 2}


def put_command(namespace, name, mode, predicate=None, key_columns=()):
    """FlightDescriptor.for_command bytes for a quiver.v1.PutCommand, packed in an Any.

    `mode` is append, overwrite or upsert; `predicate` (overwrite) is what compare()/all_of()
    build; `key_columns` (upsert) name the columns identifying a row.
    """
    message = _bytes_field(1, _bytes_field(1, namespace) + _bytes_field(2, name))
    message += _varint_field(2, PUT_MODES[mode])
    if predicate is not None:
        message += _bytes_field(3, _bytes_field(1, predicate))
    for column in key_columns:
        message += _bytes_field(4, column)
    return _bytes_field(1, PUT_COMMAND_TYPE_URL) + _bytes_field(2, message)


def put_to(client, descriptor, table, max_chunksize=None):
    """Puts `table` with one DoPut to `descriptor`; returns the receipt as a dict."""
    writer, metadata_reader = client.do_put(descriptor, table.schema)
    try:
        writer.write_table(table, max_chunksize=max_chunksize)
        writer.done_writing()
        receipt = metadata_reader.read()
    finally:
        writer.close()
    assert receipt is not None, f"DoPut to {descriptor} sent no PutResult"
    return json.loads(receipt.to_pybytes())


def scan_descriptor(namespace, name, **kwargs):
    return flight.FlightDescriptor.for_command(scan_command(namespace, name, **kwargs))
