"""The README's pyarrow example runs as written (the first python block of README.md)."""

import pathlib
import subprocess
import sys

import pyarrow.flight as flight

from quiver_helpers import drop_table

README = pathlib.Path(__file__).resolve().parents[4] / "README.md"
README_URI = "grpc://127.0.0.1:8815"


def test_readme_example_runs(client, quiver_uri):
    text = README.read_text(encoding="utf-8")
    start = text.index("```python\n") + len("```python\n")
    source = text[start:text.index("```", start)]
    assert README_URI in source, "the example should connect to the default location"
    try:
        drop_table(client, "demo", "cities")  # the example assumes it starts from nothing
    except KeyError:
        pass

    run = subprocess.run([sys.executable, "-c", source.replace(README_URI, quiver_uri)],
                         capture_output=True, text=True, timeout=120)

    assert run.returncode == 0, run.stderr
    assert '"rows": 3' in run.stdout.replace('"rows":3', '"rows": 3')
    assert "Pune" in run.stdout
    assert "demo.cities 3 rows" in run.stdout
    assert "filtered: ['Lima', 'Pune']" in run.stdout
    info = client.get_flight_info(flight.FlightDescriptor.for_path("demo", "cities"))
    assert info.total_records == 3
