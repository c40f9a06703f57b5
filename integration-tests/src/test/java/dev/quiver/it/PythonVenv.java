package dev.quiver.it;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;

/**
 * The pyarrow suite's Python venv ({@code quiver.venv.dir}), made by {@code src/build/make_venv.py}
 * with a plain {@code pip install -r requirements.txt}, so pip's configuration and PIP_* variables
 * choose the index. The script does nothing when the venv already matches requirements.txt.
 */
final class PythonVenv {
  /** A cold install downloads pyarrow and numpy; give slow networks room. */
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(15);

  private PythonVenv() {}

  /** Creates or updates the venv for {@code requirements}; returns its python executable. */
  static Path ensure(Path requirements) throws IOException, InterruptedException {
    Path venv = Paths.get(QuiverServerProcess.requiredProperty("quiver.venv.dir"));
    ProcessBuilder builder =
        new ProcessBuilder(
            System.getProperty("quiver.python", "python3"),
            QuiverServerProcess.requiredProperty("quiver.venv.script"),
            venv.toString(),
            requirements.toString());
    int exitCode =
        ChildProcesses.run(
            builder, "[venv] ", QuiverServerProcess.logsDir().resolve("venv.log"), INSTALL_TIMEOUT);
    if (exitCode != 0) {
      throw new IllegalStateException(
          "Cannot create the Python venv "
              + venv
              + " (exit code "
              + exitCode
              + "): "
              + String.join(" ", builder.command()));
    }
    return venv.resolve("bin").resolve("python");
  }
}
