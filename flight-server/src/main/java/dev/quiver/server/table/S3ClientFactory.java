package dev.quiver.server.table;

import java.net.URI;
import java.util.Map;
import org.apache.iceberg.aws.AwsClientProperties;
import org.apache.iceberg.aws.s3.S3FileIOAwsClientFactory;
import org.apache.iceberg.aws.s3.S3FileIOProperties;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * Builds the S3 client of Quiver's S3FileIO ({@code s3.client-factory-impl}): the JDK's
 * URLConnection HTTP client (no Netty beside Arrow's), credentials from the AWS SDK's default chain
 * only, and the endpoint, region and path-style access of {@code storage.s3.*}.
 *
 * <p>With an endpoint set (an S3-compatible store), checksums are computed and validated only when
 * an operation requires them: the SDK's default flexible checksums (x-amz-checksum-crc32, a
 * streaming x-amz-content-sha256) are refused by stores such as s3proxy. Setting it on the builder,
 * not through {@code -Daws.requestChecksumCalculation}, needs no JVM flag and changes no other
 * client in the JVM. Without an endpoint (AWS itself) the SDK's defaults stay.
 */
public final class S3ClientFactory implements S3FileIOAwsClientFactory {
  private static final long serialVersionUID = 1L;

  private Map<String, String> properties = Map.of();

  @Override
  public void initialize(Map<String, String> props) {
    this.properties = Map.copyOf(props);
  }

  @Override
  public S3Client s3() {
    S3ClientBuilder builder =
        S3Client.builder()
            .httpClientBuilder(UrlConnectionHttpClient.builder())
            .credentialsProvider(DefaultCredentialsProvider.builder().build())
            .forcePathStyle(
                Boolean.parseBoolean(
                    properties.getOrDefault(S3FileIOProperties.PATH_STYLE_ACCESS, "false")));
    String endpoint = properties.get(S3FileIOProperties.ENDPOINT);
    String region = properties.get(AwsClientProperties.CLIENT_REGION);
    if (endpoint != null) {
      builder
          .endpointOverride(URI.create(endpoint))
          .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
          .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
      // An S3-compatible store ignores the region but the SDK signs with one.
      builder.region(Region.of(region != null ? region : "us-east-1"));
    } else if (region != null) {
      builder.region(Region.of(region));
    }
    return builder.build();
  }

  @Override
  public S3AsyncClient s3Async() {
    throw new UnsupportedOperationException(
        "Quiver's S3FileIO uses the synchronous client only (no analytics accelerator, no CRT)");
  }
}
