package dev.quiver.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.testing.ArrowAllocatorExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.arrow.flight.CallOptions;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.sql.FlightSqlClient;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Soak: 16 clients mixing puts, gets and Flight SQL queries on four tables of one server for a
 * while ({@link #SECONDS}; {@code -Dquiver.soak.seconds=600} for ten minutes). No call fails except
 * with the statuses a loaded server may give (RESOURCE_EXHAUSTED from admission, UNAVAILABLE from a
 * commit conflict), the server's Arrow memory is back to zero at the end, its resident set levels
 * off (the last third of the run grows it by at most a fifth over the middle third, plus 64 MB),
 * and every table holds exactly the rows of the puts that were acknowledged (row count, distinct
 * ids, sum of ids).
 */
@ExtendWith(ArrowAllocatorExtension.class)
class SoakIT {
  static final int SECONDS = Integer.getInteger("quiver.soak.seconds", 60);
  private static final long SEED = Long.getLong("quiver.soak.seed", System.nanoTime());
  private static final int CLIENTS = 16;
  private static final int TABLES = 4;
  private static final Set<FlightStatusCode> EXPECTED =
      Set.of(FlightStatusCode.RESOURCE_EXHAUSTED, FlightStatusCode.UNAVAILABLE);

  /** Per table: the acknowledged puts' row counts and id sums. */
  private final Map<Integer, AtomicLong> rows = new ConcurrentHashMap<>();

  private final Map<Integer, AtomicLong> idSums = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> operations = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> errors = new ConcurrentHashMap<>();
  private final List<String> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());

  @Test
  void sixteenClientsMixingPutsGetsAndSqlLeakNothingAndLoseNothing(BufferAllocator allocator)
      throws Exception {
    System.out.printf("SoakIT: %d clients, %d s, seed %d%n", CLIENTS, SECONDS, SEED);
    for (int t = 0; t < TABLES; t++) {
      rows.put(t, new AtomicLong());
      idSums.put(t, new AtomicLong());
    }
    List<long[]> rss = new ArrayList<>(); // {elapsed ms, kB}
    try (QuiverServerProcess server =
            QuiverServerProcess.startWithJvmOptions(
                List.of("-Xmx512m"), "--memory.total", "256MB", "--scan.batch-rows", "8192");
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      for (int t = 0; t < TABLES; t++) {
        FlightTables.put(client, allocator, table(t), 0, 1);
        record(t, 0, 1);
      }
      long start = System.nanoTime();
      long end = start + TimeUnit.SECONDS.toNanos(SECONDS);
      ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
      try {
        List<Future<?>> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
          int id = c;
          clients.add(pool.submit(() -> runClient(allocator, server, id, end)));
        }
        while (System.nanoTime() < end) {
          rss.add(new long[] {(System.nanoTime() - start) / 1_000_000, rssKb(server.pid())});
          Thread.sleep(Math.min(2000, SECONDS * 1000L / 30));
        }
        for (Future<?> f : clients) {
          f.get(5, TimeUnit.MINUTES);
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(server.isAlive()).isTrue();
      JsonNode memory = FlightTables.awaitIdle(client, Duration.ofSeconds(30));
      assertThat(memory.get("allocated").asLong())
          .as("Arrow memory after the soak: %s", memory)
          .isZero();
      FlightSqlClient sql = new FlightSqlClient(client);
      for (int t = 0; t < TABLES; t++) {
        List<Long> actual = checksums(sql, "soak.t" + t);
        assertThat(actual)
            .as("rows, distinct ids and sum of ids of soak.t%d", t)
            .containsExactly(rows.get(t).get(), rows.get(t).get(), idSums.get(t).get());
      }
      System.out.printf(
          "SoakIT: %d s, %d clients, seed %d, operations %s, errors %s, rss kB over time %s,"
              + " memory at the end: allocated %d, peak %d; rows per table %s%n",
          SECONDS,
          CLIENTS,
          SEED,
          operations,
          errors,
          rssSeries(rss),
          memory.get("allocated").asLong(),
          memory.get("peak").asLong(),
          rows);
    }
    assertThat(unexpected).as("calls that failed unexpectedly").isEmpty();
    assertLevelsOff(rss);
  }

  private void runClient(BufferAllocator parent, QuiverServerProcess server, int id, long end) {
    Random random = new Random(SEED + id);
    long nextId = (id + 1) * 1_000_000_000L;
    try (BufferAllocator allocator = parent.newChildAllocator("client-" + id, 0, Long.MAX_VALUE);
        FlightClient client = FlightClient.builder(allocator, server.location()).build()) {
      FlightSqlClient sql = new FlightSqlClient(client);
      while (System.nanoTime() < end) {
        int table = random.nextInt(TABLES);
        int op = random.nextInt(10);
        String kind = op < 4 ? "put" : op < 7 ? "get" : "sql";
        try {
          switch (kind) {
            case "put" -> {
              int count = 1000 + random.nextInt(20_000);
              FlightTables.put(client, allocator, table(table), nextId, count);
              record(table, nextId, count);
              nextId += count;
            }
            case "get" -> get(client, table);
            default -> checksums(sql, "soak.t" + table);
          }
          operations.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        } catch (FlightRuntimeException e) {
          FlightStatusCode code = e.status().code();
          errors.computeIfAbsent(kind + " " + code, k -> new AtomicLong()).incrementAndGet();
          if (!EXPECTED.contains(code)) {
            unexpected.add(kind + " " + code + ": " + e.getMessage());
          }
        } catch (RuntimeException | java.lang.Error e) {
          unexpected.add(kind + ": " + e);
        } catch (Exception e) {
          unexpected.add(kind + ": " + e);
        }
      }
    } catch (Exception e) {
      unexpected.add("client " + id + ": " + e);
    }
  }

  private void record(int table, long first, long count) {
    rows.get(table).addAndGet(count);
    idSums.get(table).addAndGet(count * first + count * (count - 1) / 2);
  }

  private static FlightDescriptor table(int t) {
    return FlightDescriptor.path("soak", "t" + t);
  }

  /** Reads every endpoint of a table; ids within the read must be distinct. */
  private static void get(FlightClient client, int table) throws Exception {
    Set<Long> ids = new HashSet<>();
    long rows = 0;
    for (FlightEndpoint endpoint :
        client.getInfo(table(table), CallOptions.timeout(2, TimeUnit.MINUTES)).getEndpoints()) {
      try (FlightStream stream = client.getStream(endpoint.getTicket())) {
        while (stream.next()) {
          VectorSchemaRoot root = stream.getRoot();
          for (int i = 0; i < root.getRowCount(); i++) {
            ids.add((Long) root.getVector("id").getObject(i));
          }
          rows += root.getRowCount();
        }
      }
    }
    assertThat(ids).as("distinct ids of a read of soak.t%d", table).hasSize((int) rows);
  }

  private static List<Long> checksums(FlightSqlClient sql, String table) throws Exception {
    var info = sql.execute("SELECT count(*), count(DISTINCT id), sum(id) FROM " + table);
    try (FlightStream stream = sql.getStream(info.getEndpoints().get(0).getTicket())) {
      assertThat(stream.next()).isTrue();
      VectorSchemaRoot root = stream.getRoot();
      List<Long> values = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        values.add(((Number) root.getVector(i).getObject(0)).longValue());
      }
      return values;
    }
  }

  private static long rssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (java.io.IOException e) {
      return -1; // no /proc (not Linux): RSS is not checked
    }
    return -1;
  }

  private static String rssSeries(List<long[]> rss) {
    StringBuilder out = new StringBuilder("[");
    for (long[] sample : rss) {
      out.append(Duration.ofMillis(sample[0]).toSeconds()).append("s:").append(sample[1] / 1024);
      out.append("MB ");
    }
    return out.append(']').toString();
  }

  /** The last third of the samples peaks at most 20% + 64 MB above the middle third. */
  private static void assertLevelsOff(List<long[]> rss) {
    if (rss.size() < 6 || rss.get(0)[1] < 0) {
      return;
    }
    int third = rss.size() / 3;
    long middle = rss.subList(third, 2 * third).stream().mapToLong(s -> s[1]).max().orElseThrow();
    long last =
        rss.subList(2 * third, rss.size()).stream().mapToLong(s -> s[1]).max().orElseThrow();
    assertThat(last)
        .as("RSS peak of the last third (kB) against the middle third's %d kB", middle)
        .isLessThanOrEqualTo((long) (middle * 1.2) + 64 * 1024);
  }
}
