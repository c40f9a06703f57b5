package dev.quiver.server.flightsql;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.quiver.client.TableId;
import dev.quiver.server.config.Versions;
import dev.quiver.server.memory.MemoryGovernor;
import dev.quiver.server.sql.SqlEngine;
import dev.quiver.server.table.IcebergTableStore;
import dev.quiver.server.table.QuiverTable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.arrow.flight.FlightDescriptor;
import org.apache.arrow.flight.FlightEndpoint;
import org.apache.arrow.flight.FlightInfo;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.flight.Ticket;
import org.apache.arrow.flight.sql.FlightSqlProducer.Schemas;
import org.apache.arrow.flight.sql.SqlInfoBuilder;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetDbSchemas;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetSqlInfo;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetTables;
import org.apache.arrow.flight.sql.impl.FlightSql.CommandGetXdbcTypeInfo;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlNullOrdering;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlOuterJoinsSupportLevel;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlSupportedCaseSensitivity;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlSupportedGroupBy;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlSupportedResultSetType;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlSupportedSubqueries;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlSupportedTransaction;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlSupportedUnions;
import org.apache.arrow.flight.sql.impl.FlightSql.SqlTransactionIsolationLevel;
import org.apache.arrow.flight.sql.impl.FlightSql.SupportedAnsi92SqlGrammarLevel;
import org.apache.arrow.flight.sql.impl.FlightSql.SupportedSqlGrammar;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Flight SQL metadata: GetSqlInfo, GetCatalogs, GetDbSchemas, GetTables, GetTableTypes, the key
 * commands (Quiver tables have no keys, so their results are empty) and GetXdbcTypeInfo.
 *
 * <p>One catalog, {@value SqlEngine#CATALOG}; a schema is a namespace; every table is of type
 * TABLE. GetFlightInfo answers with one endpoint whose ticket is the command itself, and DoGet
 * reads the catalog as of then.
 */
public final class SqlMetadataHandler {
  static final String TABLE_TYPE = "TABLE";

  private final IcebergTableStore store;
  private final MemoryGovernor memory;
  private final SqlInfoBuilder sqlInfo;

  /** {@code transactionTimeout}: how long a transaction may sit idle (sql.transaction-timeout). */
  public SqlMetadataHandler(
      IcebergTableStore store, MemoryGovernor memory, int maxColumns, Duration transactionTimeout) {
    this.store = store;
    this.memory = memory;
    this.sqlInfo = sqlInfo(maxColumns, transactionTimeout);
  }

  private static SqlInfoBuilder sqlInfo(int maxColumns, Duration transactionTimeout) {
    return new SqlInfoBuilder()
        .withFlightSqlServerName("Quiver")
        .withFlightSqlServerVersion(Versions.of(SqlMetadataHandler.class))
        .withFlightSqlServerArrowVersion(Versions.of(org.apache.arrow.flight.FlightServer.class))
        .withFlightSqlServerSql(true)
        .withFlightSqlServerSubstrait(false)
        .withFlightSqlServerTransaction(
            SqlSupportedTransaction.SQL_SUPPORTED_TRANSACTION_TRANSACTION)
        .withFlightSqlServerCancel(true)
        .withFlightSqlServerBulkIngestion(true)
        .withFlightSqlServerBulkIngestionTransaction(true)
        .withFlightSqlServerReadOnly(false)
        .withSqlIdentifierQuoteChar("\"")
        .withSqlSearchStringEscape("\\")
        .withSqlExtraNameCharacters("")
        .withSqlCatalogTerm("catalog")
        .withSqlSchemaTerm("schema")
        .withSqlProcedureTerm("procedure")
        .withSqlDdlCatalog(false)
        .withSqlDdlSchema(false)
        .withSqlDdlTable(true)
        .withSqlIdentifierCase(SqlSupportedCaseSensitivity.SQL_CASE_SENSITIVITY_CASE_INSENSITIVE)
        .withSqlQuotedIdentifierCase(
            SqlSupportedCaseSensitivity.SQL_CASE_SENSITIVITY_CASE_INSENSITIVE)
        .withSqlNullOrdering(SqlNullOrdering.SQL_NULLS_SORTED_AT_END)
        .withSqlSupportsColumnAliasing(true)
        .withSqlNullPlusNullIsNull(true)
        .withSqlSupportsTableCorrelationNames(true)
        .withSqlSupportsDifferentTableCorrelationNames(true)
        .withSqlSupportsExpressionsInOrderBy(true)
        .withSqlSupportsOrderByUnrelated(true)
        .withSqlSupportsLikeEscapeClause(true)
        .withSqlSupportsNonNullableColumns(false)
        .withSqlCorrelatedSubqueriesSupported(true)
        .withSqlTransactionsSupported(true)
        .withSqlBatchUpdatesSupported(false)
        .withSqlSavepointsSupported(false)
        .withSqlNamedParametersSupported(false)
        .withSqlSelectForUpdateSupported(false)
        .withSqlStoredProceduresSupported(false)
        .withSqlAllTablesAreSelectable(true)
        .withSqlCatalogAtStart(true)
        .withSqlMaxTableNameLength(128)
        .withSqlDbSchemaNameLength(128)
        .withSqlMaxColumnNameLength(0)
        .withSqlMaxCatalogNameLength(SqlEngine.CATALOG.length())
        // 0: no limit Quiver knows of (DuckDB's own are far beyond what a client sends).
        .withSqlMaxBinaryLiteralLength(0)
        .withSqlMaxCharLiteralLength(0)
        .withSqlMaxColumnsInGroupBy(0)
        .withSqlMaxColumnsInIndex(0)
        .withSqlMaxColumnsInOrderBy(0)
        .withSqlMaxColumnsInSelect(0)
        .withSqlMaxColumnsInTable(maxColumns)
        .withSqlMaxConnections(0)
        .withSqlMaxCursorNameLength(0)
        .withSqlMaxIndexLength(0)
        .withSqlMaxProcedureNameLength(0)
        .withSqlMaxRowSize(0)
        .withSqlMaxRowSizeIncludesBlobs(false)
        .withSqlMaxStatementLength(0)
        .withSqlMaxStatements(0)
        .withSqlMaxTablesInSelect(0)
        .withSqlMaxUsernameLength(0)
        // Flight SQL transactions: reads see committed snapshots (a read of a table the
        // transaction changed is refused), the commit is validated from the snapshot the
        // transaction first read of each table. CREATE and DROP TABLE are refused inside one.
        .withSqlDefaultTransactionIsolation(
            SqlTransactionIsolationLevel.SQL_TRANSACTION_READ_COMMITTED.getNumber())
        .withSqlSupportedTransactionsIsolationLevels(
            SqlTransactionIsolationLevel.SQL_TRANSACTION_READ_COMMITTED)
        .withSqlDataDefinitionCausesTransactionCommit(false)
        .withSqlDataDefinitionsInTransactionsIgnored(false)
        .withFlightSqlServerStatementTimeout(0)
        // Milliseconds an idle transaction lives.
        .withFlightSqlServerTransactionTimeout(
            (int) Math.min(Integer.MAX_VALUE, transactionTimeout.toMillis()))
        // Substrait plans are not accepted (FlightSqlServerSubstrait is false).
        .withFlightSqlServerSubstraitMinVersion("")
        .withFlightSqlServerSubstraitMaxVersion("")
        .withSqlSupportsIntegrityEnhancementFacility(false)
        .withSqlLocatorsUpdateCopy(false)
        .withSqlStoredFunctionsUsingCallSyntaxSupported(false)
        // What DuckDB's SQL does.
        .withSqlSupportedGroupBy(
            SqlSupportedGroupBy.SQL_GROUP_BY_UNRELATED,
            SqlSupportedGroupBy.SQL_GROUP_BY_BEYOND_SELECT)
        .withSqlSupportedGrammar(
            SupportedSqlGrammar.SQL_MINIMUM_GRAMMAR, SupportedSqlGrammar.SQL_CORE_GRAMMAR)
        .withSqlAnsi92SupportedLevel(
            SupportedAnsi92SqlGrammarLevel.ANSI92_ENTRY_SQL,
            SupportedAnsi92SqlGrammarLevel.ANSI92_INTERMEDIATE_SQL)
        .withSqlOuterJoinSupportLevel(SqlOuterJoinsSupportLevel.SQL_FULL_OUTER_JOINS)
        .withSqlSubQueriesSupported(
            SqlSupportedSubqueries.SQL_SUBQUERIES_IN_COMPARISONS,
            SqlSupportedSubqueries.SQL_SUBQUERIES_IN_EXISTS,
            SqlSupportedSubqueries.SQL_SUBQUERIES_IN_INS,
            SqlSupportedSubqueries.SQL_SUBQUERIES_IN_QUANTIFIEDS)
        .withSqlSupportedUnions(SqlSupportedUnions.SQL_UNION, SqlSupportedUnions.SQL_UNION_ALL)
        .withSqlSupportedResultSetTypes(SqlSupportedResultSetType.SQL_RESULT_SET_TYPE_FORWARD_ONLY)
        // Schema and catalog names qualify tables in queries and DML only.
        .withSqlSchemasSupportedActions()
        .withSqlCatalogsSupportedActions()
        .withSqlSupportedPositionedCommands()
        .withSqlKeywords(SqlFunctions.KEYWORDS)
        .withSqlNumericFunctions(SqlFunctions.NUMERIC)
        .withSqlStringFunctions(SqlFunctions.STRING)
        .withSqlSystemFunctions(SqlFunctions.SYSTEM)
        .withSqlDatetimeFunctions(SqlFunctions.DATETIME)
        .withSqlSupportsConvert(SqlFunctions.conversions());
  }

  /** The FlightInfo of a metadata command: its schema and one endpoint reading the command. */
  public static FlightInfo info(Message command, Schema schema, FlightDescriptor descriptor) {
    Ticket ticket = new Ticket(Any.pack(command).toByteArray());
    return FlightInfo.builder(schema, descriptor, List.of(new FlightEndpoint(ticket))).build();
  }

  public void sqlInfo(CommandGetSqlInfo command, ServerStreamListener listener) {
    sqlInfo.send(command.getInfoList(), listener);
  }

  public void catalogs(ServerStreamListener listener) {
    List<Object[]> rows = new ArrayList<>();
    rows.add(new Object[] {SqlEngine.CATALOG});
    MetadataRows.send(memory, "GetCatalogs", Schemas.GET_CATALOGS_SCHEMA, rows, listener);
  }

  /** Lists the namespaces {@code visible} accepts (those the caller may read). */
  public void schemas(
      CommandGetDbSchemas command,
      java.util.function.Predicate<String> visible,
      ServerStreamListener listener) {
    List<Object[]> rows = new ArrayList<>();
    if (catalogMatches(command.hasCatalog() ? command.getCatalog() : null)) {
      Pattern pattern =
          like(command.hasDbSchemaFilterPattern() ? command.getDbSchemaFilterPattern() : null);
      for (String namespace : store.namespaces()) {
        if (pattern.matcher(namespace).matches() && visible.test(namespace)) {
          rows.add(new Object[] {SqlEngine.CATALOG, namespace});
        }
      }
    }
    MetadataRows.send(memory, "GetDbSchemas", Schemas.GET_SCHEMAS_SCHEMA, rows, listener);
  }

  /** Lists the tables of the namespaces {@code visible} accepts (those the caller may read). */
  public void tables(
      CommandGetTables command,
      java.util.function.Predicate<String> visible,
      ServerStreamListener listener) {
    List<Object[]> rows = new ArrayList<>();
    boolean tablesWanted =
        command.getTableTypesCount() == 0
            || command.getTableTypesList().stream().anyMatch(TABLE_TYPE::equalsIgnoreCase);
    if (tablesWanted && catalogMatches(command.hasCatalog() ? command.getCatalog() : null)) {
      Pattern schemas =
          like(command.hasDbSchemaFilterPattern() ? command.getDbSchemaFilterPattern() : null);
      Pattern names =
          like(command.hasTableNameFilterPattern() ? command.getTableNameFilterPattern() : null);
      for (TableId id : store.list(Optional.empty())) {
        if (!schemas.matcher(id.namespace()).matches()
            || !names.matcher(id.name()).matches()
            || !visible.test(id.namespace())) {
          continue;
        }
        Optional<QuiverTable> table = store.findListed(id);
        if (table.isEmpty()) {
          continue; // dropped while listing, or a table Quiver cannot serve
        }
        Object schema =
            command.getIncludeSchema() ? table.get().arrowSchema().serializeAsMessage() : null;
        rows.add(new Object[] {SqlEngine.CATALOG, id.namespace(), id.name(), TABLE_TYPE, schema});
      }
    }
    Schema schema =
        command.getIncludeSchema()
            ? Schemas.GET_TABLES_SCHEMA
            : Schemas.GET_TABLES_SCHEMA_NO_SCHEMA;
    if (!command.getIncludeSchema()) {
      rows.replaceAll(row -> java.util.Arrays.copyOf(row, 4));
    }
    MetadataRows.send(memory, "GetTables", schema, rows, listener);
  }

  public void tableTypes(ServerStreamListener listener) {
    List<Object[]> rows = new ArrayList<>();
    rows.add(new Object[] {TABLE_TYPE});
    MetadataRows.send(memory, "GetTableTypes", Schemas.GET_TABLE_TYPES_SCHEMA, rows, listener);
  }

  /** Primary, exported, imported keys and cross references: Quiver tables have none. */
  public void noKeys(String call, Schema schema, ServerStreamListener listener) {
    MetadataRows.send(memory, call, schema, List.of(), listener);
  }

  public void typeInfo(CommandGetXdbcTypeInfo command, ServerStreamListener listener) {
    List<Object[]> rows = new ArrayList<>();
    for (Object[] row : XdbcTypes.ROWS) {
      if (!command.hasDataType() || command.getDataType() == (Integer) row[1]) {
        rows.add(row);
      }
    }
    MetadataRows.send(memory, "GetXdbcTypeInfo", Schemas.GET_TYPE_INFO_SCHEMA, rows, listener);
  }

  private static boolean catalogMatches(String catalog) {
    return catalog == null || catalog.isEmpty() || catalog.equalsIgnoreCase(SqlEngine.CATALOG);
  }

  /** A SQL LIKE pattern (% and _, \ escapes) as a regular expression; null matches all. */
  static Pattern like(String pattern) {
    if (pattern == null) {
      return Pattern.compile(".*", Pattern.DOTALL);
    }
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c == '\\' && i + 1 < pattern.length()) {
        regex.append(Pattern.quote(String.valueOf(pattern.charAt(++i))));
      } else if (c == '%') {
        regex.append(".*");
      } else if (c == '_') {
        regex.append('.');
      } else {
        regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL | Pattern.CASE_INSENSITIVE);
  }
}
