package dev.quiver.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away certificate authority, a server certificate for 127.0.0.1/localhost and a client
 * certificate, made with openssl at test time in a temporary folder: no private key is checked in.
 *
 * @param ca the CA's certificate (PEM)
 * @param serverCert the server's certificate (PEM), signed by the CA
 * @param serverKey the server's private key (PEM, PKCS#8)
 * @param clientCert a client certificate (PEM), signed by the CA
 * @param clientKey the client's private key (PEM, PKCS#8)
 * @param otherCa a second CA's certificate, which signed nothing here
 */
public record TestCertificates(
    Path ca, Path serverCert, Path serverKey, Path clientCert, Path clientKey, Path otherCa) {

  /** Makes the certificates and keys in {@code dir}; needs openssl on the PATH. */
  public static TestCertificates create(Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path ca = selfSigned(dir, "ca", "/CN=Quiver Test CA");
    Path caKey = dir.resolve("ca-key.pem");
    Path otherCa = selfSigned(dir, "other-ca", "/CN=Other CA");
    Path serverCert = dir.resolve("server.pem");
    Path serverKey = dir.resolve("server-key.pem");
    signed(
        dir,
        ca,
        caKey,
        "server",
        "/CN=localhost",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
    Path clientCert = dir.resolve("client.pem");
    Path clientKey = dir.resolve("client-key.pem");
    signed(dir, ca, caKey, "client", "/CN=quiver-client", "extendedKeyUsage=clientAuth");
    return new TestCertificates(ca, serverCert, serverKey, clientCert, clientKey, otherCa);
  }

  /** A self-signed CA certificate {@code name}.pem with its key {@code name}-key.pem. */
  private static Path selfSigned(Path dir, String name, String subject)
      throws IOException, InterruptedException {
    Path cert = dir.resolve(name + ".pem");
    openssl(
        dir,
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        dir.resolve(name + "-key.pem").toString(),
        "-out",
        cert.toString(),
        "-days",
        "2",
        "-subj",
        subject);
    return cert;
  }

  private static void signed(
      Path dir, Path ca, Path caKey, String name, String subject, String extensions)
      throws IOException, InterruptedException {
    Path key = dir.resolve(name + "-key.pem");
    Path csr = dir.resolve(name + ".csr");
    Path ext = dir.resolve(name + ".ext");
    Files.writeString(ext, extensions + "\n", StandardCharsets.UTF_8);
    openssl(
        dir,
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key.toString(),
        "-out",
        csr.toString(),
        "-subj",
        subject);
    openssl(
        dir,
        "x509",
        "-req",
        "-in",
        csr.toString(),
        "-CA",
        ca.toString(),
        "-CAkey",
        caKey.toString(),
        "-CAcreateserial",
        "-out",
        dir.resolve(name + ".pem").toString(),
        "-days",
        "2",
        "-extfile",
        ext.toString());
  }

  private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("openssl " + String.join(" ", args) + " failed:\n" + output);
    }
  }
}
