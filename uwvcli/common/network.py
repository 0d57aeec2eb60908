"""Small facts about network addresses and conversations, shared by the mail sender, the Digipoort
client and the simulator."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Callable


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1): traffic that never
    leaves this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Deadline:
    """A total deadline for one network conversation, on top of the per-read socket timeout.

    A socket timeout bounds each wait, not the whole: a peer that sends one byte every few seconds
    never trips it and can hold a run (and its lock) forever. A `Deadline` shuts the conversation's
    socket down once `seconds` have passed, so whatever read or write is blocked fails at once.
    `socket_of` is asked for the socket at that moment (connections replace theirs, e.g. after
    STARTTLS); while it has none yet, it is asked again shortly after. Use it as a context manager;
    `expired` tells afterwards whether the deadline, not the peer, ended the conversation."""

    _RECHECK_SECONDS = 0.2

    def __init__(self, seconds: float, socket_of: Callable[[], socket.socket | None]):
        self.seconds = seconds
        self.expired = False
        self._socket_of = socket_of
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="uwvcli-deadline", daemon=True)

    def __enter__(self) -> Deadline:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()

    def _watch(self) -> None:
        if self._done.wait(self.seconds):
            return
        self.expired = True
        while not self._done.is_set():
            sock = self._socket_of()
            if sock is not None:
                with contextlib.suppress(OSError):
                    # The plain socket's shutdown: an SSLSocket's own would drop its TLS state under
                    # a read in progress in another thread.
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
            self._done.wait(self._RECHECK_SECONDS)
