import dev.quiver.server.sql.SqlEngine;
import dev.quiver.server.sql.SqlTableScan;
import dev.quiver.server.table.*;
import java.lang.management.*;
import java.nio.file.*;
import java.util.*;
import org.apache.arrow.memory.*;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.*;

/** ScanBench FILE BATCHROWS REPS THREADS: SqlTableScan of a file as DoGet does, without Flight. */
public class ScanBench {
  public static void main(String[] a) throws Exception {
    Path file = Path.of(a[0]); int batch = Integer.parseInt(a[1]); int reps = Integer.parseInt(a[2]); int threads = Integer.parseInt(a[3]);
    Path dir = Files.createTempDirectory("scanbench");
    Path spill = Files.createDirectories(dir.resolve("tmp"));
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    ThreadMXBean tm = ManagementFactory.getThreadMXBean();
    Schema schema = new Schema(List.of(
        new Field("a", FieldType.nullable(new ArrowType.Int(64, true)), null),
        new Field("b", FieldType.nullable(new ArrowType.Int(64, true)), null),
        new Field("c", FieldType.nullable(new ArrowType.Int(64, true)), null),
        new Field("d", FieldType.nullable(new ArrowType.Int(64, true)), null)));
    try (RootAllocator root = new RootAllocator();
         DuckDbParquetWriter writer = new DuckDbParquetWriter(256L << 20, spill);
         IcebergTableStore store = IcebergTableStore.open(dir.resolve("store"), writer, ParquetWriteOptions.DEFAULTS);
         SqlEngine engine = SqlEngine.open(store, new SqlEngine.Settings(512L << 20, threads, spill, file.getParent()), root.newChildAllocator("imports", 0, Long.MAX_VALUE))) {
      for (int r = 0; r < reps; r++) {
        long cpu0 = os.getProcessCpuTime(), th0 = tm.getCurrentThreadCpuTime(), t0 = System.nanoTime(); long rows = 0;
        try (BufferAllocator call = root.newChildAllocator("call", 0, Long.MAX_VALUE);
             SqlTableScan scan = SqlTableScan.open(engine, call, List.of(file), schema, null, -1, batch)) {
          while (scan.next()) { rows += scan.root().getRowCount(); }
        }
        System.out.printf("rows %d wall %.3f cpu %.3f thread %.3f%n", rows, (System.nanoTime()-t0)/1e9, (os.getProcessCpuTime()-cpu0)/1e9, (tm.getCurrentThreadCpuTime()-th0)/1e9);
      }
    }
  }
}
