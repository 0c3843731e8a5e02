package io.pyml.gateway.frontend.oip;

import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowBuffer;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Schema;

/** Arrow streams written message by message, as a hostile runtime could write them. */
final class ArrowStreams {
  private ArrowStreams() {}

  static byte[] schema(Schema schema) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MessageSerializer.serialize(new WriteChannel(Channels.newChannel(out)), schema);
    return out.toByteArray();
  }

  /** A record batch's framed metadata claiming these nodes, buffers and body length. */
  static byte[] batch(int rows, List<ArrowFieldNode> nodes, List<ArrowBuffer> buffers,
      long bodyLength) {
    return ColumnsEncoder.framed(ColumnsEncoder.recordBatch(rows, nodes, buffers, bodyLength))
        .toByteArray();
  }

  /** An answer as Arrow's own writer makes it: {@code batches} batches of {@code rows}. */
  static byte[] answer(BufferAllocator allocator, Schema schema, int rows, int batches,
      boolean withNull) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
        ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      writer.start();
      for (int b = 0; b < batches; b++) {
        root.allocateNew();
        for (int row = 0; row < rows; row++) {
          for (var vector : root.getFieldVectors()) {
            if (vector instanceof Float8Vector v) {
              v.set(row, row / 7.0 + b);
            } else if (vector instanceof BitVector v) {
              v.set(row, row % 3 == 0 ? 1 : 0);
            } else if (vector instanceof BigIntVector v) {
              v.set(row, row * 1_000_003L);
            } else if (vector instanceof VarCharVector v) {
              v.setSafe(row, ("r" + row).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            } else if (vector instanceof BaseFixedWidthVector v) { // any other number
              v.setIndexDefined(row);
              for (int k = 0; k < v.getTypeWidth(); k++) {
                v.getDataBuffer().setByte((long) row * v.getTypeWidth() + k, 31 * row + k);
              }
            }
          }
        }
        if (withNull) {
          ((Float8Vector) root.getVector(0)).setNull(rows - 1);
        }
        root.setRowCount(rows);
        writer.writeBatch();
      }
      writer.end();
    }
    return out.toByteArray();
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
