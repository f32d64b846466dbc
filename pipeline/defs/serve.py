"""`make ui`: the Dagster UI and daemon (`dg dev`) for this project, on the instance of the marts folder.

Checks first that DAGSTER_HOME belongs to PIPELINE_MARTS_DIR (pipeline.defs.history), then starts `dg dev` with
SIGINT at its default, so the UI stops cleanly when a script or `make ui` started in the background is interrupted or
terminated. VIRTUAL_ENV names the project's environment (dg warns when the active one differs)."""

import os
import signal
import sys
from pathlib import Path


def main() -> None:
    from pipeline.defs.history import HistoryMismatch, claim
    from pipeline.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
        claim(Path(os.environ["DAGSTER_HOME"]), settings.marts_dir)
    except (HistoryMismatch, SettingsError, KeyError) as exc:
        sys.exit(f"samskabelse: not started: {exc if not isinstance(exc, KeyError) else 'DAGSTER_HOME is not set'}")
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    bin_dir = os.path.dirname(sys.executable)
    os.environ["VIRTUAL_ENV"] = os.path.dirname(bin_dir)
    dg = os.path.join(bin_dir, "dg")
    os.execv(dg, [dg, *sys.argv[1:]])


if __name__ == "__main__":
    main()
