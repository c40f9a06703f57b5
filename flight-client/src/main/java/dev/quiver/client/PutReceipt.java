package dev.quiver.client;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;

/**
 * What a committed DoPut wrote: the JSON app_metadata of its one PutResult.
 *
 * @param rows rows appended
 * @param bytes bytes of Parquet data files written
 * @param files data files written
 * @param snapshotId the Iceberg snapshot the put committed
 */
public record PutReceipt(
    @JsonProperty("rows") long rows,
    @JsonProperty("bytes") long bytes,
    @JsonProperty("files") int files,
    @JsonProperty("snapshot_id") long snapshotId) {
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
