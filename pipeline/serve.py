"""Start `dagster` (e.g. `dagster dev`) with SIGINT at its default, so the UI stops cleanly when a script
or `make ui` started in the background is interrupted or terminated."""

import os
import signal
import sys


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    os.execv(dagster, [dagster, *sys.argv[1:]])


if __name__ == "__main__":
    main()
