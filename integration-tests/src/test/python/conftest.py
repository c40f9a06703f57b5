"""Fixtures for the pyarrow.flight suite.

The suite drives a running Quiver server at QUIVER_URI. `mvn verify` (PyArrowIT) starts one and
sets it; by hand:

    java $(cat flight-server/target/jvm.options) -jar flight-server/target/quiver-server.jar \
        --host 127.0.0.1 --port 8815 --data-dir /tmp/quiver-data &
    QUIVER_URI=grpc://127.0.0.1:8815 integration-tests/target/venv/bin/python -m pytest -q \
        integration-tests/src/test/python

Tests share the server, so every test writes to tables of its own (the `table_ref` and
`namespace` fixtures) and never assumes the server is empty.
"""

import os
import uuid

import pyarrow.flight as flight
import pytest

from quiver_helpers import unique_name

@pytest.fixture(scope="session")
def quiver_uri():
    uri = os.environ.get("QUIVER_URI")
    if not uri:
        pytest.fail("QUIVER_URI is not set: run through `mvn verify` or start a server (see conftest.py)")
    return uri


@pytest.fixture(scope="session")
def client(quiver_uri):
    """One FlightClient for the session; pyarrow's FlightClient is safe to share between threads."""
    with flight.connect(quiver_uri) as flight_client:
        flight_client.wait_for_available(timeout=30)
        yield flight_client


@pytest.fixture
def connect(quiver_uri):
    """Opens extra clients (for tests that need one connection per thread); closes them after."""
    clients = []

    def open_client():
        new_client = flight.connect(quiver_uri)
        clients.append(new_client)
        return new_client

    yield open_client
    for opened in clients:
        opened.close()


@pytest.fixture(scope="session")
def session_namespace():
    return "pytest_" + uuid.uuid4().hex[:8]


@pytest.fixture
def namespace():
    """A namespace no other test uses."""
    return "ns_" + uuid.uuid4().hex[:12]


@pytest.fixture
def table_ref(request, session_namespace):
    """(namespace, name) of a table no other test uses, named after the test."""
    return session_namespace, unique_name(request.node.name)
