package dev.quiver.server.config;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The {@code storage.warehouse}, {@code storage.s3.*} and {@code storage.cache-*} part of {@link
 * ServerConfig}: where table files live and how a node keeps local copies of remote ones.
 *
 * <p>S3 credentials are never part of the configuration: the AWS SDK's default chain supplies them
 * (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, an instance role).
 *
 * @param warehouse the folder of local tables, or empty when {@code remoteWarehouse} is set
 * @param remoteWarehouse an {@code s3://bucket/prefix} location for the tables, or empty
 * @param s3Endpoint the S3 endpoint URI for S3-compatible stores, or empty for AWS's own
 * @param s3Region the region, or empty for the SDK's default chain
 * @param s3PathStyleAccess address buckets as {@code endpoint/bucket}, not {@code bucket.endpoint}
 * @param cacheDir the folder of the read-through cache of remote data files
 * @param cacheBytes the most bytes the cache keeps (files being read are kept even past it)
 */
public record StorageSettings(
    Optional<Path> warehouse,
    Optional<URI> remoteWarehouse,
    Optional<URI> s3Endpoint,
    Optional<String> s3Region,
    boolean s3PathStyleAccess,
    Path cacheDir,
    long cacheBytes) {
  public StorageSettings {
    requireNonNull(warehouse, "warehouse is null");
    requireNonNull(remoteWarehouse, "remoteWarehouse is null");
    requireNonNull(s3Endpoint, "s3Endpoint is null");
    requireNonNull(s3Region, "s3Region is null");
    requireNonNull(cacheDir, "cacheDir is null");
    if (warehouse.isPresent() == remoteWarehouse.isPresent()) {
      throw new IllegalArgumentException("Exactly one of a local and a remote warehouse is set");
    }
    remoteWarehouse.ifPresent(StorageSettings::checkS3);
    if (cacheBytes < 1) {
      throw new IllegalArgumentException("cacheBytes must be positive: " + cacheBytes);
    }
  }

  /**
   * Tables in {@code dataDir/warehouse}, a 1 GB read cache in {@code dataDir/cache} (unused by a
   * local warehouse): the defaults for a data folder.
   */
  public static StorageSettings local(Path dataDir) {
    return new StorageSettings(
        Optional.of(dataDir.resolve("warehouse")),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        false,
        dataDir.resolve("cache"),
        1L << 30);
  }

  /** True when tables live in object storage. */
  public boolean isRemote() {
    return remoteWarehouse.isPresent();
  }

  /** The bucket of the remote warehouse. */
  public String bucket() {
    return remoteWarehouse.orElseThrow().getHost();
  }

  /** The warehouse as text: the s3:// location, or the local folder. */
  public String describeWarehouse() {
    return remoteWarehouse.map(URI::toString).orElseGet(() -> warehouse.orElseThrow().toString());
  }

  private static void checkS3(URI uri) {
    if (!"s3".equals(uri.getScheme()) || uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException(
          "A remote warehouse is s3://bucket or s3://bucket/prefix, not " + uri);
    }
  }
}
