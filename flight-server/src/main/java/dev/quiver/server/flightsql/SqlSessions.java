package dev.quiver.server.flightsql;

import dev.quiver.client.QuiverErrorCode;
import dev.quiver.client.QuiverException;
import dev.quiver.client.TableId;
import dev.quiver.server.sql.SqlEngine;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.arrow.flight.CloseSessionResult;
import org.apache.arrow.flight.FlightProducer.CallContext;
import org.apache.arrow.flight.FlightProducer.StreamListener;
import org.apache.arrow.flight.FlightServerMiddleware;
import org.apache.arrow.flight.GetSessionOptionsResult;
import org.apache.arrow.flight.NoOpSessionOptionValueVisitor;
import org.apache.arrow.flight.ServerSessionMiddleware;
import org.apache.arrow.flight.SessionOptionValue;
import org.apache.arrow.flight.SetSessionOptionsRequest;
import org.apache.arrow.flight.SetSessionOptionsResult;

/**
 * Flight SQL session options: {@value #CATALOG} (only {@value SqlEngine#CATALOG}) and {@value
 * #SCHEMA} (the namespace unqualified table names resolve in). Sessions are Arrow's
 * ServerSessionMiddleware (a cookie per client); the JDBC driver sends SetSessionOptions when its
 * URL has {@code catalog=} or {@code schema=}.
 */
public final class SqlSessions {
  /** The middleware key QuiverServer registers the session middleware under. */
  public static final FlightServerMiddleware.Key<ServerSessionMiddleware> KEY =
      FlightServerMiddleware.Key.of("quiver-sql-session");

  static final String CATALOG = "catalog";
  static final String SCHEMA = "schema";

  private SqlSessions() {}

  /** The middleware factory to register under {@link #KEY}. */
  public static ServerSessionMiddleware.Factory factory() {
    return new ServerSessionMiddleware.Factory(() -> UUID.randomUUID().toString());
  }

  /** The namespace unqualified names resolve in for this call's session; "" for none. */
  public static String schema(CallContext context) {
    ServerSessionMiddleware middleware = middleware(context);
    if (middleware == null || !middleware.hasSession()) {
      return "";
    }
    SessionOptionValue value = middleware.getSession().getSessionOption(SCHEMA);
    return value == null ? "" : text(value);
  }

  public static void set(
      SetSessionOptionsRequest request,
      CallContext context,
      StreamListener<SetSessionOptionsResult> listener) {
    ServerSessionMiddleware.Session session = session(context);
    Map<String, SetSessionOptionsResult.Error> errors = new HashMap<>();
    request
        .getSessionOptions()
        .forEach(
            (name, value) -> {
              SetSessionOptionsResult.ErrorValue error = check(name, value);
              if (error != null) {
                errors.put(name, new SetSessionOptionsResult.Error(error));
              } else if (value.isEmpty()) {
                session.eraseSessionOption(name.toLowerCase(Locale.ROOT));
              } else {
                session.setSessionOption(name.toLowerCase(Locale.ROOT), value);
              }
            });
    listener.onNext(new SetSessionOptionsResult(errors));
    listener.onCompleted();
  }

  private static SetSessionOptionsResult.ErrorValue check(String name, SessionOptionValue value) {
    String key = name.toLowerCase(Locale.ROOT);
    if (!key.equals(CATALOG) && !key.equals(SCHEMA)) {
      return SetSessionOptionsResult.ErrorValue.INVALID_NAME;
    }
    if (value.isEmpty()) {
      return null;
    }
    String text = text(value);
    boolean valid =
        key.equals(CATALOG) ? SqlEngine.CATALOG.equalsIgnoreCase(text) : TableId.isValidName(text);
    return valid ? null : SetSessionOptionsResult.ErrorValue.INVALID_VALUE;
  }

  public static void get(CallContext context, StreamListener<GetSessionOptionsResult> listener) {
    ServerSessionMiddleware middleware = middleware(context);
    Map<String, SessionOptionValue> options =
        middleware == null || !middleware.hasSession()
            ? Map.of()
            : middleware.getSession().getSessionOptions();
    listener.onNext(new GetSessionOptionsResult(options));
    listener.onCompleted();
  }

  public static void close(CallContext context, StreamListener<CloseSessionResult> listener) {
    ServerSessionMiddleware middleware = middleware(context);
    if (middleware != null && middleware.hasSession()) {
      middleware.closeSession();
    }
    listener.onNext(new CloseSessionResult(CloseSessionResult.Status.CLOSED));
    listener.onCompleted();
  }

  private static ServerSessionMiddleware.Session session(CallContext context) {
    ServerSessionMiddleware middleware = middleware(context);
    if (middleware == null) {
      throw new QuiverException(
          QuiverErrorCode.UNSUPPORTED_OPERATION, "This server was started without SQL sessions");
    }
    return middleware.getSession();
  }

  private static ServerSessionMiddleware middleware(CallContext context) {
    return context == null ? null : context.getMiddleware(KEY);
  }

  private static String text(SessionOptionValue value) {
    String text =
        value.acceptVisitor(
            new NoOpSessionOptionValueVisitor<String>() {
              @Override
              public String visit(String s) {
                return s;
              }

              @Override
              public String visit(String[] strings) {
                return String.join(",", strings);
              }

              @Override
              public String visit(Void ignored) {
                return "";
              }
            });
    return text == null ? "" : text;
  }
}
