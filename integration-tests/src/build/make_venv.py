"""Creates the pyarrow test suite's venv, or leaves it alone when it is already up to date.

Usage: make_venv.py VENV_DIR REQUIREMENTS_FILE

The venv is up to date when it holds a copy of the requirements file it was last installed from
and that copy equals the current file. Otherwise this runs `python -m venv VENV_DIR` (if there is
no interpreter yet) and a plain `pip install -r REQUIREMENTS_FILE` inside it, so pip's own
configuration and PIP_* environment variables decide which index it uses.
"""

import os
import pathlib
import subprocess
import sys


def venv_python(venv: pathlib.Path) -> pathlib.Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def main(venv_dir: str, requirements_file: str) -> int:
    venv = pathlib.Path(venv_dir)
    requirements = pathlib.Path(requirements_file)
    stamp = venv / "installed-requirements.txt"
    wanted = requirements.read_text(encoding="utf-8")
    python = venv_python(venv)

    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        print(f"Python venv {venv} is up to date")
        return 0
    if not python.exists():
        print(f"Creating Python venv {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print(f"Installing {requirements} into {venv}")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-r",
         str(requirements)],
        check=True,
    )
    stamp.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        sys.exit(main(sys.argv[1], sys.argv[2]))
    except subprocess.CalledProcessError as e:
        sys.exit(f"make_venv.py: {' '.join(e.cmd)} failed with exit code {e.returncode}")
