package dev.quiver.server.table;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.testing.Await;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.aws.s3.S3FileIO;
import org.apache.iceberg.aws.s3.S3FileIOProperties;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.PositionOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * S3FileIO with Quiver's client factory against s3proxy: a file past the multipart threshold is
 * uploaded in parts (checksums only where required, which s3proxy accepts) and reads back equal.
 */
class S3FileIoTest {
  @RegisterExtension static final S3ProxyExtension S3 = new S3ProxyExtension("multipart");

  @TempDir Path staging;

  @Test
  void aFilePastTheMultipartThresholdUploadsInPartsAndReadsBackEqual() throws Exception {
    Map<String, String> props =
        Map.of(
            S3FileIOProperties.CLIENT_FACTORY, S3ClientFactory.class.getName(),
            S3FileIOProperties.ENDPOINT, S3.endpoint(),
            S3FileIOProperties.PATH_STYLE_ACCESS, "true",
            S3FileIOProperties.MULTIPART_SIZE, Integer.toString(5 << 20),
            S3FileIOProperties.STAGING_DIRECTORY, staging.toString());
    byte[] content = new byte[13 << 20];
    new Random(42).nextBytes(content);
    String location = "s3://" + S3.bucket() + "/big/data-0.parquet";
    try (FileIO io = CatalogUtil.loadFileIO(S3FileIO.class.getName(), props, null)) {
      try (PositionOutputStream out = io.newOutputFile(location).create();
          var s3 = S3.client()) {
        for (int off = 0; off < content.length; off += 1 << 20) {
          out.write(content, off, 1 << 20);
        }
        // Past the threshold (1.5 parts) S3FileIO has started a multipart upload. s3proxy's
        // file-system store may answer 500 to a listing while parts are still being written,
        // so the listing is retried until it answers.
        Await.until(
            () -> {
              try {
                return s3.listMultipartUploads(r -> r.bucket(S3.bucket())).uploads().stream()
                    .anyMatch(u -> u.key().equals("big/data-0.parquet"));
              } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
                return false;
              }
            },
            "a multipart upload of big/data-0.parquet to be listed");
      }
      byte[] back;
      try (InputStream in = io.newInputFile(location).newStream()) {
        back = in.readAllBytes();
      }
      assertThat(back).isEqualTo(content);
    }
    try (var s3 = S3.client()) {
      var head = s3.headObject(r -> r.bucket(S3.bucket()).key("big/data-0.parquet"));
      assertThat(head.contentLength()).isEqualTo(content.length);
      assertThat(s3.listMultipartUploads(r -> r.bucket(S3.bucket())).uploads())
          .as("completed")
          .isEmpty();
    }
  }
}
