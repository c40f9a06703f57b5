package dev.quiver.server.flight;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.proto.v1.PutCommand;
import dev.quiver.proto.v1.ScanCommand;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * What a command descriptor carries: a {@code google.protobuf.Any} (Quiver's ScanCommand, a Flight
 * SQL command), the same Any in its JSON form (what plain pyarrow can send without protoc: {@code
 * {"@type": "type.googleapis.com/quiver.v1.ScanCommand", "table": {...}, ...}}), or SQL text
 * (pyarrow's {@code for_command(b"SELECT ...")}). Anything else is refused naming what was
 * expected, rather than handed to the SQL parser.
 */
final class DescriptorCommands {
  static final String TYPE_PREFIX = "type.googleapis.com/";

  private static final JsonFormat.Parser JSON =
      JsonFormat.parser()
          .usingTypeRegistry(
              JsonFormat.TypeRegistry.newBuilder()
                  .add(ScanCommand.getDescriptor())
                  .add(PutCommand.getDescriptor())
                  .build());

  private DescriptorCommands() {}

  /**
   * The command's Any, or null when the command is SQL text.
   *
   * @throws QuiverException INVALID_COMMAND for bytes that are none of the three forms
   */
  static Any parse(byte[] command) {
    Any binary = binaryAny(command);
    if (binary != null) {
      return binary;
    }
    String text = utf8(command);
    if (text != null && text.stripLeading().startsWith("{")) {
      return jsonAny(text);
    }
    if (text == null || hasControlCharacters(text)) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_COMMAND,
          "The command (%d bytes) is neither SQL text nor a google.protobuf.Any: send a"
              + " quiver.v1.ScanCommand packed in an Any, or as JSON ({\"@type\":"
              + " \"type.googleapis.com/quiver.v1.ScanCommand\", \"table\": {\"namespace\":"
              + " ..., \"name\": ...}}), or SQL text",
          command.length);
    }
    return null;
  }

  /** A binary Any with a type URL, or null. */
  static Any binaryAny(byte[] bytes) {
    try {
      Any any = Any.parseFrom(bytes);
      return any.getTypeUrl().startsWith(TYPE_PREFIX) ? any : null;
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private static Any jsonAny(String json) {
    Any.Builder any = Any.newBuilder();
    try {
      JSON.merge(json, any);
    } catch (InvalidProtocolBufferException e) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_COMMAND,
          "The JSON command is not a quiver.v1.ScanCommand or PutCommand in the JSON form of an"
              + " Any (with \"@type\": \"type.googleapis.com/quiver.v1.ScanCommand\"): %s",
          e.getMessage());
    }
    return any.build();
  }

  private static String utf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** SQL has no control characters but tab, line feed and carriage return; protobuf does. */
  private static boolean hasControlCharacters(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return true;
      }
    }
    return false;
  }
}
