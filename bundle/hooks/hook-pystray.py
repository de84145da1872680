"""pystray picks its backend when imported; the stock hook imports it to list them, which fails
without a display (the build machine has none). Name this platform's backend instead."""

import sys

hiddenimports = ["pystray._base", "pystray._util"]
if sys.platform == "win32":
    hiddenimports += ["pystray._win32", "pystray._util.win32"]
elif sys.platform == "darwin":
    hiddenimports += ["pystray._darwin"]
else:
    hiddenimports += ["pystray._xorg"]
