"""Puts one record batch larger than the server's limits.max-message-size and prints, one line
each, what a pyarrow user sees: the receipt read after the batch, then the error that closing the
writer raises. PyArrowIT runs it against a server started with a small limit.

    python put_over_limit.py grpc://127.0.0.1:8815 ROWS
"""

import sys

import pyarrow as pa
import pyarrow.flight as flight


def main(uri, rows):
    table = pa.table({"id": pa.array(range(rows), pa.int64())})
    client = flight.connect(uri)
    writer, reader = client.do_put(flight.FlightDescriptor.for_path("limits", "big"), table.schema)
    try:
        writer.write_table(table)
        writer.done_writing()
        receipt = reader.read()
        print("receipt:", None if receipt is None else receipt.to_pybytes().decode())
    except pa.ArrowException as e:
        print("write:", type(e).__name__, str(e).splitlines()[0])
    try:
        writer.close()
        print("close: ok")
    except pa.ArrowException as e:
        print("close:", type(e).__name__, str(e).splitlines()[0])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
