package dev.quiver.server.config;

/**
 * The {@code limits.*} part of {@link ServerConfig}: bounds on every size and count a client
 * controls. Exceeding one fails the call with INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the
 * key; the server keeps serving.
 *
 * @param maxMessageBytes the largest gRPC message (one record batch, one ticket) the server reads
 * @param maxPutBatches the most record batches one put may send
 * @param maxColumns the most top-level columns a schema (a put's, a new table's) may have
 * @param maxTicketBytes the largest ticket DoGet accepts
 * @param maxActionBodyBytes the largest action body DoAction accepts
 */
public record LimitSettings(
    int maxMessageBytes,
    long maxPutBatches,
    int maxColumns,
    int maxTicketBytes,
    int maxActionBodyBytes) {
  /** 256 MB messages, a million batches per put, 4096 columns, 64 KB tickets and bodies. */
  public static final LimitSettings DEFAULTS =
      new LimitSettings(256 << 20, 1_000_000, 4096, 64 << 10, 64 << 10);

  public LimitSettings {
    if (maxMessageBytes < 1024
        || maxPutBatches < 1
        || maxColumns < 1
        || maxTicketBytes < 256
        || maxActionBodyBytes < 256) {
      throw new IllegalArgumentException(
          "Limits out of range: message "
              + maxMessageBytes
              + ", batches "
              + maxPutBatches
              + ", columns "
              + maxColumns
              + ", ticket "
              + maxTicketBytes
              + ", action body "
              + maxActionBodyBytes);
    }
  }
}
