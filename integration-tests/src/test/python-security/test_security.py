"""pyarrow.flight against a Quiver server with authentication and TLS (SecurityIT starts it).

Environment, set by SecurityIT:
  QUIVER_TLS_URI     grpc+tls:// of a server with a users file and a certificate
  QUIVER_MTLS_URI    grpc+tls:// of a server that also requires client certificates
  QUIVER_CA          PEM file of the CA that signed the server and client certificates
  QUIVER_CLIENT_CERT, QUIVER_CLIENT_KEY   a client certificate and key (PEM)
  QUIVER_PASSWORDS   user=password pairs separated by commas (alice: sales=read,write;
                     bob: sales=read)
"""

import os
import uuid

import pyarrow as pa
import pyarrow.flight as flight
import pytest


def env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run through SecurityIT (mvn verify)")
    return value


def read(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def passwords():
    return dict(pair.split("=", 1) for pair in env("QUIVER_PASSWORDS").split(","))


@pytest.fixture
def client():
    with flight.connect(env("QUIVER_TLS_URI"), tls_root_certs=read(env("QUIVER_CA"))) as c:
        yield c


def login(client, passwords, user):
    header = client.authenticate_basic_token(user, passwords[user])
    assert header[0] == b"authorization" and header[1].startswith(b"Bearer ")
    return flight.FlightCallOptions(headers=[header])


def put(client, options, namespace, name, table):
    descriptor = flight.FlightDescriptor.for_path(namespace, name)
    writer, reader = client.do_put(descriptor, table.schema, options=options)
    writer.write_table(table)
    writer.done_writing()
    reader.read()
    writer.close()


def read_all(client, options, namespace, name):
    info = client.get_flight_info(flight.FlightDescriptor.for_path(namespace, name), options)
    return pa.concat_tables(client.do_get(e.ticket, options).read_all() for e in info.endpoints)


def test_basic_token_then_bearer_on_every_call(client, passwords):
    alice = login(client, passwords, "alice")
    name = "t_" + uuid.uuid4().hex[:8]
    table = pa.table({"id": [1, 2, 3]})
    put(client, alice, "sales", name, table)
    assert read_all(client, alice, "sales", name).column("id").to_pylist() == [1, 2, 3]
    listed = [b".".join(f.descriptor.path).decode() for f in client.list_flights(b"sales", alice)]
    assert f"sales.{name}" in listed
    result = client.get_flight_info(
        flight.FlightDescriptor.for_command(f"SELECT count(*) AS n FROM sales.{name}".encode()),
        alice)
    assert client.do_get(result.endpoints[0].ticket, alice).read_all().column("n")[0].as_py() == 3


def test_missing_wrong_and_forged_credentials_are_unauthenticated(client, passwords):
    with pytest.raises(flight.FlightUnauthenticatedError, match="Authentication required"):
        list(client.list_flights())
    with pytest.raises(flight.FlightUnauthenticatedError, match="Invalid user name or password"):
        client.authenticate_basic_token("alice", "not-the-password")
    forged = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer forged")])
    with pytest.raises(flight.FlightUnauthenticatedError, match="bearer token is not valid"):
        list(client.list_flights(options=forged))


def test_calls_outside_the_grant_are_permission_denied(client, passwords):
    bob = login(client, passwords, "bob")
    with pytest.raises(flight.FlightUnauthorizedError,
                       match="User bob lacks write on namespace sales"):
        put(client, bob, "sales", "t_" + uuid.uuid4().hex[:8], pa.table({"id": [1]}))
    with pytest.raises(flight.FlightUnauthorizedError, match="User bob lacks read on namespace hr"):
        client.get_flight_info(flight.FlightDescriptor.for_path("hr", "pay"), bob)
    with pytest.raises(flight.FlightUnauthorizedError, match="User bob lacks read on namespace hr"):
        client.get_flight_info(flight.FlightDescriptor.for_command(b"SELECT * FROM hr.pay"), bob)
    assert all(f.descriptor.path[0] == b"sales" for f in client.list_flights(options=bob))


# A refused TLS handshake reaches pyarrow as UNAVAILABLE or INTERNAL, depending on when gRPC
# notices; either way the call fails before any credentials are checked.
CONNECTION_REFUSED = (flight.FlightUnavailableError, flight.FlightInternalError)


def test_plain_text_and_untrusted_connections_fail(passwords):
    port = env("QUIVER_TLS_URI").rsplit(":", 1)[1]
    with flight.connect(f"grpc://127.0.0.1:{port}") as plain:
        with pytest.raises(CONNECTION_REFUSED):
            plain.authenticate_basic_token("alice", passwords["alice"])
    with flight.connect(env("QUIVER_TLS_URI")) as untrusting:  # the system CAs only
        with pytest.raises(CONNECTION_REFUSED):
            untrusting.authenticate_basic_token("alice", passwords["alice"])


def test_mutual_tls_needs_the_client_certificate(passwords):
    uri = env("QUIVER_MTLS_URI")
    ca = read(env("QUIVER_CA"))
    with flight.connect(uri, tls_root_certs=ca, cert_chain=read(env("QUIVER_CLIENT_CERT")),
                        private_key=read(env("QUIVER_CLIENT_KEY"))) as with_cert:
        alice = login(with_cert, passwords, "alice")
        list(with_cert.list_flights(options=alice))
    with flight.connect(uri, tls_root_certs=ca) as without_cert:
        with pytest.raises(CONNECTION_REFUSED):
            without_cert.authenticate_basic_token("alice", passwords["alice"])
