package dev.quiver.server.flight;

/**
 * {@link QuiverProducerTest} with scan.engine arrow-dataset: every DoGet decodes through Arrow
 * C++'s dataset scanner instead of DuckDB, and must return the same rows, order and statuses.
 */
class ArrowDatasetScanTest extends QuiverProducerTest {
  @Override
  String scanEngine() {
    return "arrow-dataset";
  }
}
