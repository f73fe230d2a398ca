"""The `onedrive-emulator` console script: runs the bundled binary in its place."""

from __future__ import annotations

import os
import subprocess
import sys

from . import binary_path


def main() -> None:
    exe = str(binary_path())
    argv = [exe, *sys.argv[1:]]
    if os.name == "posix":
        # The process becomes the emulator: signals (Ctrl-C, SIGTERM) reach it
        # directly and its exit status is the script's.
        os.execv(exe, argv)
    sys.exit(subprocess.call(argv))


if __name__ == "__main__":
    main()
