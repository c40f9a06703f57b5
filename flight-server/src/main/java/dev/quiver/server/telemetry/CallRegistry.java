package dev.quiver.server.telemetry;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The calls the status page lists: those running now and the last {@link #RECENT} that ended, the
 * way Trino's web UI lists queries. Thread-safe; a call is added and removed once.
 */
final class CallRegistry {
  /** How many ended calls are kept. */
  static final int RECENT = 50;

  private final Set<CallTrace> active = ConcurrentHashMap.newKeySet();
  private final ArrayDeque<CallTrace> recent = new ArrayDeque<>();

  void started(CallTrace call) {
    active.add(call);
  }

  void ended(CallTrace call) {
    active.remove(call);
    synchronized (recent) {
      if (recent.size() == RECENT) {
        recent.removeFirst();
      }
      recent.addLast(call);
    }
  }

  /** Running calls, oldest first. */
  List<CallTrace.CallView> active() {
    List<CallTrace.CallView> views = new ArrayList<>();
    for (CallTrace call : active) {
      views.add(call.view());
    }
    views.sort(Comparator.comparingLong(CallTrace.CallView::startedAtMillis));
    return views;
  }

  /** Ended calls, newest first. */
  List<CallTrace.CallView> recent() {
    List<CallTrace> copy;
    synchronized (recent) {
      copy = new ArrayList<>(recent);
    }
    List<CallTrace.CallView> views = new ArrayList<>(copy.size());
    for (int i = copy.size() - 1; i >= 0; i--) {
      views.add(copy.get(i).view());
    }
    return views;
  }
}
