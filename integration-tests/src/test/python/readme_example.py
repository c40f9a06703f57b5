import pyarrow as pa
import pyarrow.flight as flight

client = flight.connect("grpc://127.0.0.1:8815")
cities = flight.FlightDescriptor.for_path("demo", "cities")

# Append rows; the first put creates the table from the stream's schema.
table = pa.table({"id": [1, 2, 3], "city": ["Oslo", "Lima", "Pune"]})
writer, receipt = client.do_put(cities, table.schema)
writer.write_table(table)
writer.done_writing()
print("put:", receipt.read().to_pybytes().decode())
writer.close()

# Read the table back: each endpoint holds a share of the rows.
info = client.get_flight_info(cities)
result = pa.concat_tables(client.do_get(e.ticket).read_all() for e in info.endpoints)
print(result.sort_by("id"))

# List the tables of a namespace.
for f in client.list_flights(b"demo"):
    print(b".".join(f.descriptor.path).decode(), f.total_records, "rows")
