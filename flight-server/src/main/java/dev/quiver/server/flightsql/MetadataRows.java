package dev.quiver.server.flightsql;

import dev.quiver.server.memory.MemoryGovernor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.Text;

/**
 * Sends a Flight SQL metadata result: a few rows, as one batch of the command's schema.
 *
 * <p>Values are given per row in schema order: String for utf8, Integer for int32, Boolean for
 * bool, byte[] for binary, List&lt;String&gt; for list&lt;utf8&gt;, null for null. The batch lives
 * in a call allocator, closed before this returns.
 */
final class MetadataRows {
  private MetadataRows() {}

  static void send(
      MemoryGovernor memory,
      String call,
      Schema schema,
      List<Object[]> rows,
      ServerStreamListener listener) {
    try (BufferAllocator allocator = memory.newCallAllocator(call);
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator)) {
      root.allocateNew();
      for (int r = 0; r < rows.size(); r++) {
        for (int c = 0; c < schema.getFields().size(); c++) {
          set(root.getVector(c), r, rows.get(r)[c]);
        }
      }
      root.setRowCount(rows.size());
      listener.start(root);
      listener.putNext();
      listener.completed();
    }
  }

  @SuppressWarnings("unchecked")
  private static void set(FieldVector vector, int row, Object value) {
    if (value == null) {
      vector.setNull(row);
    } else if (vector instanceof VarCharVector text) {
      text.setSafe(row, new Text((String) value));
    } else if (vector instanceof IntVector ints) {
      ints.setSafe(row, (Integer) value);
    } else if (vector instanceof BitVector bits) {
      bits.setSafe(row, ((Boolean) value) ? 1 : 0);
    } else if (vector instanceof VarBinaryVector binary) {
      binary.setSafe(row, (byte[]) value);
    } else if (vector instanceof ListVector list) {
      UnionListWriter writer = list.getWriter();
      writer.setPosition(row);
      writer.startList();
      for (String item : (List<String>) value) {
        byte[] bytes = item.getBytes(StandardCharsets.UTF_8);
        try (var buffer = list.getAllocator().buffer(bytes.length)) {
          buffer.writeBytes(bytes);
          writer.varChar().writeVarChar(0, bytes.length, buffer);
        }
      }
      writer.endList();
    } else {
      throw new IllegalArgumentException("No metadata value for vector " + vector.getClass());
    }
  }
}
