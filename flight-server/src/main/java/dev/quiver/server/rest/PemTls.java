package dev.quiver.server.rest;

import dev.quiver.server.security.ServerSecurity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * An SSLContext from the PEM files Flight's TLS uses ({@code security.tls-cert}, {@code
 * security.tls-key} as PKCS#8, RSA or EC, and for mutual TLS {@code security.tls-client-ca}), so
 * the REST catalog presents the same certificate as the Flight port.
 */
final class PemTls {
  private static final char[] NO_PASSWORD = new char[0];

  private PemTls() {}

  static SSLContext context(ServerSecurity.TlsFiles files) throws IOException {
    try {
      Certificate[] chain = certificates(files.certificate()).toArray(new Certificate[0]);
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("quiver", privateKey(files.key()), NO_PASSWORD, chain);
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, NO_PASSWORD);
      javax.net.ssl.TrustManager[] trust = null;
      if (files.clientCa().isPresent()) {
        KeyStore cas = KeyStore.getInstance("PKCS12");
        cas.load(null, null);
        int i = 0;
        for (Certificate ca : certificates(files.clientCa().get())) {
          cas.setCertificateEntry("ca-" + i++, ca);
        }
        TrustManagerFactory tmf =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(cas);
        trust = tmf.getTrustManagers();
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), trust, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException(
          "Cannot use security.tls-cert "
              + files.certificate()
              + " and security.tls-key for the"
              + " REST catalog: "
              + e.getMessage(),
          e);
    }
  }

  private static Collection<? extends Certificate> certificates(Path pem)
      throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(pem)) {
      Collection<? extends Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new GeneralSecurityException("no certificate in " + pem);
      }
      return certs;
    }
  }

  private static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
    String text = Files.readString(pem);
    int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = text.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new GeneralSecurityException(pem + " holds no PKCS#8 private key (BEGIN PRIVATE KEY)");
    }
    byte[] der =
        Base64.getMimeDecoder()
            .decode(text.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    GeneralSecurityException last = null;
    for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw last;
  }
}
