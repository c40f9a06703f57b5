package dev.quiver.server.config;

/**
 * The {@code sql.*} part of {@link ServerConfig}: the SQL engine's embedded DuckDB, which runs
 * Flight SQL queries and DoGet scans.
 *
 * @param memoryLimit part of memory.total the SQL engine's DuckDB may use before spilling
 * @param threads the SQL engine's DuckDB worker threads
 * @param maxConcurrentQueries the most SQL queries and DoGet scans DuckDB runs at once
 */
public record SqlSettings(long memoryLimit, int threads, int maxConcurrentQueries) {}
