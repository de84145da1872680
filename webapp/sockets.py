"""Listening sockets: bound by us before the server starts (no port race), shown as URLs.

The UI server, the POS listener and the webhook listener all bind through here, so one rule holds
for the port fallback, Windows' exclusive-address option and the TCP_NODELAY detail."""

from __future__ import annotations

import errno
import socket

from webapp import windows

PORT_ATTEMPTS = 20


class PortUnavailable(OSError):
    pass


def bind_socket(host: str, port: int, *, fallback: bool) -> socket.socket:
    """Bind ``port``, or (with fallback) the next free one; port 0 lets the system choose."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    last_error: OSError | None = None
    for candidate in range(port, port + (PORT_ATTEMPTS if fallback and port else 1)):
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only then, and
        # without it Nagle meets delayed ACKs and adds ~40 ms to every kept-alive response.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        if windows.is_windows():
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_EXCLUSIVEADDRUSE", 0), 1)
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            last_error = exc
            if exc.errno not in (
                errno.EADDRINUSE,
                errno.EACCES,
                getattr(errno, "WSAEADDRINUSE", -1),
            ):
                raise
            continue
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise PortUnavailable(str(last_error))


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"
