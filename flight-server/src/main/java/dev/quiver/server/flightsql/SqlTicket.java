package dev.quiver.server.flightsql;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.sql.TableShare;
import java.io.IOException;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.flight.sql.impl.FlightSql.TicketStatementQuery;

/**
 * What a SQL DoGet runs, carried in a Flight SQL TicketStatementQuery's handle as JSON: a run id
 * (what CancelFlightInfo names), and either the SQL and its namespace or a prepared statement's
 * handle, whose SQL and parameters the server holds; a query split into several endpoints also
 * names the share of its table each endpoint reads.
 *
 * @param id this run's id, new for each GetFlightInfo
 * @param sql the SQL text, or "" for a prepared statement
 * @param schema the namespace unqualified names resolve in ("" for none)
 * @param prepared the prepared statement's handle, if it is one
 * @param share the share of its one table the query reads, if it was split
 */
public record SqlTicket(
    String id,
    String sql,
    String schema,
    Optional<ByteString> prepared,
    Optional<TableShare> share) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public SqlTicket {
    requireNonNull(id, "id is null");
    requireNonNull(sql, "sql is null");
    requireNonNull(schema, "schema is null");
    requireNonNull(prepared, "prepared is null");
    requireNonNull(share, "share is null");
  }

  static SqlTicket ofStatement(String sql, String schema) {
    return new SqlTicket(
        UUID.randomUUID().toString(), sql, schema, Optional.empty(), Optional.empty());
  }

  /** This statement's ticket for {@code share}, with a run id of its own. */
  SqlTicket withShare(TableShare share) {
    return new SqlTicket(id + "/" + share.index(), sql, schema, prepared, Optional.of(share));
  }

  static SqlTicket ofPrepared(ByteString handle) {
    return new SqlTicket(
        UUID.randomUUID().toString(), "", "", Optional.of(handle), Optional.empty());
  }

  Ticket toTicket() {
    ObjectNode json = JSON.createObjectNode().put("id", id);
    if (prepared.isPresent()) {
      json.put("prepared", Base64.getEncoder().encodeToString(prepared.get().toByteArray()));
    } else {
      json.put("sql", sql).put("schema", schema);
    }
    share.ifPresent(
        s ->
            json.putObject("share")
                .put("namespace", s.table().namespace())
                .put("table", s.table().name())
                .put("snapshot", s.snapshotId())
                .put("index", s.index())
                .put("count", s.count()));
    TicketStatementQuery ticket =
        TicketStatementQuery.newBuilder()
            .setStatementHandle(ByteString.copyFromUtf8(json.toString()))
            .build();
    return new Ticket(Any.pack(ticket).toByteArray());
  }

  public static SqlTicket parse(TicketStatementQuery ticket) {
    try {
      JsonNode json = JSON.readTree(ticket.getStatementHandle().toStringUtf8());
      String id = json.path("id").asText("");
      if (id.isEmpty()) {
        throw new IOException("no id");
      }
      if (json.has("prepared")) {
        return new SqlTicket(
            id,
            "",
            "",
            Optional.of(
                ByteString.copyFrom(Base64.getDecoder().decode(json.get("prepared").asText()))),
            Optional.empty());
      }
      return new SqlTicket(
          id,
          json.path("sql").asText(""),
          json.path("schema").asText(""),
          Optional.empty(),
          share(json.get("share")));
    } catch (IOException | IllegalArgumentException e) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_TICKET, "The ticket is not a Quiver SQL ticket");
    }
  }

  private static Optional<TableShare> share(JsonNode share) throws IOException {
    if (share == null) {
      return Optional.empty();
    }
    if (!share.path("snapshot").canConvertToLong()
        || !share.path("index").canConvertToInt()
        || !share.path("count").canConvertToInt()) {
      throw new IOException("bad share");
    }
    return Optional.of(
        new TableShare(
            TableId.of(share.path("namespace").asText(""), share.path("table").asText("")),
            share.path("snapshot").asLong(),
            share.path("index").asInt(),
            share.path("count").asInt()));
  }

  /** The run id of a ticket this server issued, if it is one. */
  static Optional<String> idOf(Ticket ticket) {
    try {
      Any any = Any.parseFrom(ticket.getBytes());
      if (!any.is(TicketStatementQuery.class)) {
        return Optional.empty();
      }
      return Optional.of(parse(any.unpack(TicketStatementQuery.class)).id());
    } catch (IOException | QuiverException e) {
      return Optional.empty();
    }
  }
}
