package dev.quiver.client;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;

/**
 * What a committed DoPut wrote: the JSON app_metadata of its one PutResult.
 *
 * @param rows rows written to new data files: the put's rows, plus for an overwrite or upsert the
 *     existing rows it rewrote (kept rows of files it changed)
 * @param bytes bytes of Parquet data files written
 * @param files data files written
 * @param snapshotId the Iceberg snapshot the put committed
 * @param mode how the put's rows reached the table: {@code append}, {@code overwrite} or {@code
 *     upsert}
 * @param rowsAdded the put's rows that are new to the table: all of them for an append or an
 *     overwrite, those whose key matched no row for an upsert
 * @param rowsReplaced for an upsert, the table's rows a put row with the same key replaced
 * @param rowsDeleted for an overwrite, the table's rows it removed (before any delete files other
 *     engines wrote)
 */
public record PutReceipt(
    @JsonProperty("rows") long rows,
    @JsonProperty("bytes") long bytes,
    @JsonProperty("files") int files,
    @JsonProperty("snapshot_id") long snapshotId,
    @JsonProperty("mode") String mode,
    @JsonProperty("rows_added") long rowsAdded,
    @JsonProperty("rows_replaced") long rowsReplaced,
    @JsonProperty("rows_deleted") long rowsDeleted) {
  /** The mode of a receipt from a server that did not say (one older than put modes). */
  public static final String APPEND = "append";

  public PutReceipt {
    if (mode == null) {
      // A server older than put modes: every put was an append of every row it wrote.
      mode = APPEND;
      rowsAdded = rows;
    }
  }

  /** An append's receipt: every row written was added. */
  public PutReceipt(long rows, long bytes, int files, long snapshotId) {
    this(rows, bytes, files, snapshotId, APPEND, rows, 0, 0);
  }

  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** The receipt as the UTF-8 JSON the server sends. */
  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot serialise " + this, e);
    }
  }

  /** Parses the server's JSON; unknown fields are ignored so newer servers stay readable. */
  public static PutReceipt fromJson(byte[] json) {
    try {
      return JSON.readValue(json, PutReceipt.class);
    } catch (java.io.IOException e) {
      throw new QuiverException(
          QuiverErrorCode.INTERNAL,
          e,
          "Cannot read put receipt '%s'",
          new String(json, StandardCharsets.UTF_8));
    }
  }
}
