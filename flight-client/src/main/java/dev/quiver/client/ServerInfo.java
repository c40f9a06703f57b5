package dev.quiver.client;

import static java.util.Objects.requireNonNull;

/**
 * What the {@value QuiverActions#SERVER_INFO} action says about a server. A field the server did
 * not send is the empty string.
 *
 * @param name the server's name
 * @param version the server's version
 * @param arrowVersion the Arrow Java version it runs
 * @param icebergVersion the Iceberg version it runs
 * @param javaVersion the Java runtime version
 * @param dataDir the server's data folder
 * @param location the Flight location it listens on
 */
public record ServerInfo(
    String name,
    String version,
    String arrowVersion,
    String icebergVersion,
    String javaVersion,
    String dataDir,
    String location) {
  public ServerInfo {
    requireNonNull(name, "name is null");
    requireNonNull(version, "version is null");
    requireNonNull(arrowVersion, "arrowVersion is null");
    requireNonNull(icebergVersion, "icebergVersion is null");
    requireNonNull(javaVersion, "javaVersion is null");
    requireNonNull(dataDir, "dataDir is null");
    requireNonNull(location, "location is null");
  }
}
