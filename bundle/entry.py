"""Entry point of the PyInstaller builds: the same command line as `relais` from source.

Started with no command (a double-click), the frozen program runs `relais tray` (see webapp.cli).
"""

import multiprocessing

from webapp.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    main()
