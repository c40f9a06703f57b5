package dev.quiver.server.flightsql;

import com.google.protobuf.ByteString;
import dev.quiver.client.PutReceipt;
import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.call.FlightErrors;
import dev.quiver.server.call.QuiverCall;
import dev.quiver.server.flight.stream.PutWriter;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.sql.BoundInsert;
import dev.quiver.server.sql.SqlEngine;
import dev.quiver.server.sql.SqlUpdates;
import dev.quiver.server.sql.StatementKind;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.QuiverTable;
import dev.quiver.server.table.TableTransaction;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.flight.FlightProducer.StreamListener;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.PutResult;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandPreparedStatementUpdate;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest.TableDefinitionOptions;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest.TableDefinitionOptions.TableExistsOption;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementIngest.TableDefinitionOptions.TableNotExistOption;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandStatementUpdate;
import org.apache.arrow.flight.sql.impl.FlightSql.DoPutUpdateResult;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ipc.ArrowReader;

/**
 * Flight SQL updates: statements (CommandStatementUpdate), prepared updates (what JDBC's
 * executeUpdate sends) and bulk ingest (CommandStatementIngest), all answered with the row count.
 *
 * <p>Runs on Flight's executor. Bulk ingest goes through DoPut's own write path ({@link
 * PutWriter#write}), and so do the parameter rows of a prepared {@code INSERT ... VALUES (?, ...)}
 * ({@link BoundInsert}); statements through {@link SqlUpdates}. Each call commits once, atomically,
 * or not at all.
 */
public final class SqlUpdateHandler {
  /**
   * The most parameter rows a prepared INSERT other than {@code INSERT ... VALUES (?, ...)} takes
   * in one call: it runs its query once per row, and the rows are held as Java values until they
   * run.
   */
  static final int MAX_ROWS_RUN_EACH = 10_000;

  private final IcebergTableStore store;
  private final SqlUpdates updates;
  private final PreparedStatements prepared;
  private final PutWriter puts;
  private final MemoryGovernor memory;
  private final SqlTransactions transactions;

  public SqlUpdateHandler(
      IcebergTableStore store,
      SqlUpdates updates,
      PreparedStatements prepared,
      PutWriter puts,
      MemoryGovernor memory,
      SqlTransactions transactions) {
    this.transactions = transactions;
    this.store = store;
    this.updates = updates;
    this.prepared = prepared;
    this.puts = puts;
    this.memory = memory;
  }

  public Runnable statement(
      CommandStatementUpdate command, QuiverCall call, StreamListener<PutResult> ack) {
    String schema = SqlSessions.schema(call.context());
    return respond(
        ack,
        SqlQueryHandler.callName(command.getQuery()),
        call,
        name ->
            inTransaction(
                command.hasTransactionId() ? command.getTransactionId() : ByteString.EMPTY,
                call,
                command.getQuery(),
                schema,
                u -> run(name, call, u, command.getQuery(), schema, List.of())));
  }

  /**
   * A prepared update run with the parameter rows of {@code stream}. A bound insert ({@link
   * BoundInsert}) takes any number of rows, in any number of batches, and writes them all in one
   * commit, through DoPut's write path. Another INSERT (say {@code INSERT ... SELECT} with
   * parameters) runs once per row, up to {@link #MAX_ROWS_RUN_EACH} rows, and commits the rows of
   * all runs at once. CREATE TABLE and DROP TABLE take one row: several are refused
   * (INVALID_ARGUMENT).
   */
  public Runnable prepared(
      CommandPreparedStatementUpdate command,
      QuiverCall call,
      FlightStream stream,
      StreamListener<PutResult> ack) {
    PreparedStatements.Prepared statement = prepared.get(command.getPreparedStatementHandle());
    return respond(
        ack,
        SqlQueryHandler.callName(statement.sql()),
        call,
        name ->
            inTransaction(
                statement.transaction(),
                call,
                statement.sql(),
                statement.schema(),
                u -> runPrepared(name, call, u, statement, stream)));
  }

  private long runPrepared(
      String name,
      QuiverCall call,
      SqlUpdates updates,
      PreparedStatements.Prepared statement,
      FlightStream stream)
      throws Exception {
    Optional<BoundInsert> bound =
        statement.shape().parameters().getFields().isEmpty()
            ? Optional.empty()
            : updates.boundInsert(statement.sql(), statement.schema());
    if (bound.isPresent()) {
      call.trace().table(bound.get().table());
      QuiverTable target = updates.target(bound.get().table());
      PutReceipt receipt =
          puts.write(
              name,
              call,
              stream,
              (reader, allocator, beforeCommit) -> {
                try (ArrowReader rows = bound.get().rows(reader, allocator)) {
                  return store.append(target, rows, allocator, beforeCommit);
                }
              });
      call.trace().committed(receipt);
      return receipt.rows();
    }
    List<List<Object>> rows = parameterRows(statement, stream);
    if (rows.isEmpty()) {
      rows = statement.parameters().isEmpty() ? List.of(List.of()) : statement.parameters();
    }
    Runnable notCancelled = PutWriter.notCancelled(name, call);
    if (rows.size() == 1) {
      notCancelled.run();
      return run(name, call, updates, statement.sql(), statement.schema(), rows.get(0));
    }
    return runEach(name, call, updates, statement, rows, notCancelled);
  }

  /**
   * Runs {@code update} with the plain updates when {@code transaction} is empty, else inside that
   * transaction of the caller (TRANSACTION_NOT_FOUND when it is not the caller's open one), after
   * refusing a statement that reads a table the transaction changed.
   */
  private long inTransaction(
      ByteString transaction, QuiverCall call, String sql, String schema, Update.In update)
      throws Exception {
    if (transaction.isEmpty()) {
      return update.run(updates);
    }
    return transactions.run(
        transaction,
        call.user(),
        t -> {
          SqlTransactions.refuseReadsOfChanged(t, updates.otherReads(sql, schema));
          return update.run(updates.within(t));
        });
  }

  /**
   * The parameter rows of {@code stream}, for a statement that runs once per row: at most {@link
   * #MAX_ROWS_RUN_EACH}, and several only for an INSERT (which {@link #runEach} commits at once).
   */
  private static List<List<Object>> parameterRows(
      PreparedStatements.Prepared statement, FlightStream stream) {
    boolean insert = StatementKind.of(statement.sql()) == StatementKind.INSERT;
    int most = insert ? MAX_ROWS_RUN_EACH : 1;
    List<List<Object>> rows = new ArrayList<>();
    while (stream.next()) {
      rows.addAll(SqlParameters.rows(stream.getRoot()));
      if (rows.size() > most) {
        String call = SqlQueryHandler.callName(statement.sql());
        throw insert
            ? new QuiverException(
                QuiverErrorCode.LIMIT_EXCEEDED,
                "%s is bound with more than %d rows of parameters; it runs its query once per"
                    + " row, so bulk rows go through INSERT INTO t [(columns)] VALUES (?, ...),"
                    + " which takes any number",
                call,
                MAX_ROWS_RUN_EACH)
            : new QuiverException(
                QuiverErrorCode.INVALID_ARGUMENT,
                "%s is bound with more than one row of parameters; a CREATE TABLE or DROP TABLE"
                    + " runs once, and only INSERT takes several rows (committed at once)",
                call);
      }
    }
    return rows;
  }

  /** Runs an INSERT once per parameter row, all rows committed at once or none. */
  private long runEach(
      String name,
      QuiverCall call,
      SqlUpdates updates,
      PreparedStatements.Prepared statement,
      List<List<Object>> rows,
      Runnable notCancelled)
      throws Exception {
    try (BufferAllocator allocator =
        call.admit(name, EnumSet.of(QuiverCall.Need.NATIVE_MEMORY)).allocator()) {
      return updates.insertEach(
          statement.sql(),
          statement.schema(),
          rows,
          allocator,
          () -> {
            notCancelled.run();
            memory.checkQueryLimit(name, allocator);
          },
          notCancelled);
    }
  }

  public Runnable ingest(
      CommandStatementIngest command,
      QuiverCall call,
      FlightStream stream,
      StreamListener<PutResult> ack) {
    TableId table = ingestTable(command, SqlSessions.schema(call.context()));
    call.trace().table(table);
    return respond(
        ack,
        "DoPut ingest " + table,
        call,
        name -> {
          if (command.hasTransactionId()) {
            return transactions.run(
                command.getTransactionId(),
                call.user(),
                t -> ingest(name, call, command, table, stream, Optional.of(t)));
          }
          return ingest(name, call, command, table, stream, Optional.empty());
        });
  }

  private long ingest(
      String name,
      QuiverCall call,
      CommandStatementIngest command,
      TableId table,
      FlightStream stream,
      Optional<TableTransaction> transaction)
      throws Exception {
    TableDefinitionOptions options = command.getTableDefinitionOptions();
    PutWriter.Write<PutReceipt> write;
    if (store.find(table).isPresent()) {
      TableExistsOption ifExists = options.getIfExists();
      if (ifExists == TableExistsOption.TABLE_EXISTS_OPTION_APPEND) {
        write =
            (reader, a, beforeCommit) ->
                store.append(target(table, transaction), reader, a, beforeCommit);
      } else if (ifExists == TableExistsOption.TABLE_EXISTS_OPTION_REPLACE) {
        write =
            (reader, a, beforeCommit) ->
                store.replace(target(table, transaction), reader, a, beforeCommit);
      } else {
        throw new QuiverException(
            QuiverErrorCode.TABLE_ALREADY_EXISTS,
            "Table %s already exists (bulk ingest if_exists is %s)",
            table,
            ifExists);
      }
    } else if (transaction.isPresent()) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION,
          "Bulk ingest cannot create table %s inside transaction %s: creating a table"
              + " commits on its own; create it outside the transaction",
          table,
          transaction.get().name());
    } else if (options.getIfNotExist() == TableNotExistOption.TABLE_NOT_EXIST_OPTION_CREATE) {
      write = (reader, a, beforeCommit) -> store.append(table, reader, a, beforeCommit);
    } else {
      throw new QuiverException(
          QuiverErrorCode.TABLE_NOT_FOUND,
          "Table %s does not exist (bulk ingest if_not_exist is %s)",
          table,
          options.getIfNotExist());
    }
    PutReceipt receipt = puts.write(name, call, stream, write);
    call.trace().committed(receipt);
    return receipt.rows();
  }

  private QuiverTable target(TableId table, Optional<TableTransaction> transaction) {
    return transaction.isPresent() ? transaction.get().stage(table) : store.load(table);
  }

  public static TableId ingestTable(CommandStatementIngest command, String sessionSchema) {
    if (command.getTemporary()) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION, "Quiver has no temporary tables");
    }
    if (command.hasCatalog() && !command.getCatalog().equalsIgnoreCase(SqlEngine.CATALOG)) {
      throw new QuiverException(
          QuiverErrorCode.NAMESPACE_NOT_FOUND,
          "Catalog %s does not exist; the one catalog is %s",
          command.getCatalog(),
          SqlEngine.CATALOG);
    }
    String schema = command.hasSchema() ? command.getSchema() : sessionSchema;
    if (schema.isEmpty()) {
      throw new QuiverException(
          QuiverErrorCode.INVALID_NAME,
          "Bulk ingest into %s needs a schema (the namespace)",
          command.getTable());
    }
    return TableId.of(schema, command.getTable());
  }

  private long run(
      String name,
      QuiverCall call,
      SqlUpdates updates,
      String sql,
      String schema,
      List<Object> parameters)
      throws Exception {
    try (BufferAllocator allocator =
        call.admit(name, EnumSet.of(QuiverCall.Need.NATIVE_MEMORY)).allocator()) {
      return updates.execute(
          sql, schema, parameters, allocator, () -> memory.checkQueryLimit(name, allocator));
    }
  }

  private interface Update {
    long run(String name) throws Exception;

    /** An update run with given updates: plain, or within a transaction. */
    interface In {
      long run(SqlUpdates updates) throws Exception;
    }
  }

  private Runnable respond(
      StreamListener<PutResult> ack, String name, QuiverCall call, Update update) {
    return () -> {
      try {
        long count = update.run(name);
        byte[] result = DoPutUpdateResult.newBuilder().setRecordCount(count).build().toByteArray();
        puts.reply(ack, result);
        ack.onCompleted();
      } catch (Throwable t) {
        ack.onError(call.trace().failed(FlightErrors.toFlight(name, t, memory)));
      }
    };
  }
}
