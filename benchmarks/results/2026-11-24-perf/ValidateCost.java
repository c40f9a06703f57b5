import dev.quiver.benchmarks.BenchmarkData;
import java.lang.reflect.Method;
import java.lang.management.*;
import org.apache.arrow.memory.*;
import org.apache.arrow.vector.*;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;

/** ValidateCost SHAPE REPS: the CPU FlightStreamReader's per-batch validation costs per 10 M rows. */
public class ValidateCost {
  public static void main(String[] a) throws Exception {
    Method check = Class.forName("dev.quiver.server.flight.FlightStreamReader").getDeclaredMethod("check", FieldVector.class);
    check.setAccessible(true);
    ThreadMXBean tm = ManagementFactory.getThreadMXBean();
    try (RootAllocator root = new RootAllocator();
         BenchmarkData data = BenchmarkData.build(root, BenchmarkData.Shape.fromName(a[0]), 16, 65536);
         VectorSchemaRoot vsr = VectorSchemaRoot.create(data.schema(), root)) {
      VectorLoader loader = new VectorLoader(vsr);
      int batchesPer10M = (int) Math.ceil(10_000_000 / 65536.0);
      for (int r = 0; r < Integer.parseInt(a[1]); r++) {
        long validate = 0, load = 0; java.util.Map<String, Long> per = new java.util.TreeMap<>();
        for (int b = 0; b < batchesPer10M; b++) {
          ArrowRecordBatch batch = data.batches().get(b % 16);
          long t0 = tm.getCurrentThreadCpuTime();
          loader.load(batch);
          long t1 = tm.getCurrentThreadCpuTime();
          for (FieldVector v : vsr.getFieldVectors()) { long c0 = tm.getCurrentThreadCpuTime(); check.invoke(null, v); per.merge(v.getName() + ":" + v.getClass().getSimpleName(), tm.getCurrentThreadCpuTime() - c0, Long::sum); }
          validate += tm.getCurrentThreadCpuTime() - t1; load += t1 - t0;
        }
        System.out.printf("%s: validate %.1f ms, load %.1f ms CPU per 10M rows (%d batches) %s%n", a[0], validate / 1e6, load / 1e6, batchesPer10M, per.toString().replaceAll("(\\d+)(\\d{6})([,}])", "$1 ms$3"));
      }
    }
  }
}
