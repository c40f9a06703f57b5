package dev.quiver.server.flight;

import dev.quiver.server.QuiverServer;
import dev.quiver.server.config.ServerConfig;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.arrow.flight.impl.Flight;
import org.apache.arrow.flight.impl.FlightServiceGrpc;

/** Starts in-process servers for tests: 127.0.0.1, a free port, a data folder of the test's. */
public final class TestServers {
  private TestServers() {}

  /**
   * Starts a server on {@code dataDir} with {@code settings} (key, value, key, value, ...) on top
   * of a free port; the caller closes it.
   */
  /** A DoPut sent through Flight's protobuf stubs: its request side and the status it ends with. */
  public record RawPut(
      StreamObserver<Flight.FlightData> requests, CompletableFuture<Status> status) {}

  /** Opens a raw DoPut on {@code channel}: FlightData frames exactly as the test writes them. */
  public static RawPut rawPut(ManagedChannel channel) {
    CompletableFuture<Status> done = new CompletableFuture<>();
    StreamObserver<Flight.FlightData> requests =
        FlightServiceGrpc.newStub(channel)
            .doPut(
                new StreamObserver<>() {
                  @Override
                  public void onNext(Flight.PutResult value) {}

                  @Override
                  public void onError(Throwable t) {
                    done.complete(Status.fromThrowable(t));
                  }

                  @Override
                  public void onCompleted() {
                    done.complete(Status.OK);
                  }
                });
    return new RawPut(requests, done);
  }

  public static QuiverServer start(Path dataDir, String... settings) throws IOException {
    if (settings.length % 2 != 0) {
      throw new IllegalArgumentException("settings come in key, value pairs");
    }
    Map<String, String> flags = new HashMap<>();
    flags.put("flight.port", "0");
    flags.put("storage.data-dir", dataDir.toString());
    // No background maintenance unless a test asks: a compaction a minute into a long test would
    // change the files and snapshots it checks. Tests run it with server.maintenance().runOnce.
    flags.put("maintenance.enabled", "false");
    for (int i = 0; i < settings.length; i += 2) {
      flags.put(settings[i], settings[i + 1]);
    }
    return QuiverServer.start(ServerConfig.load(Map.of(), Map.of(), flags));
  }
}
