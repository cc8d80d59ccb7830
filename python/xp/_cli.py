"""The ``xp`` command that ``pip install`` puts on the PATH: the command line itself,
run by the package's native module."""

import signal
import sys

from . import _native


def main() -> None:
    """Runs ``xp`` on ``sys.argv`` and exits with its code."""
    # The command handles Ctrl-C and SIGTERM itself (a resume point, then exit), as
    # the `xp` binary does; Python's own handler would raise once it is done.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.exit(_native.main(["xp", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
