"""A hostile SMTP server (issue 11): one that never finishes its greeting held `run`, and its
lock, for minutes. The whole conversation has a deadline; the recap waits for the next run."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from uwvcli.domain.models import MailSettings
from uwvcli.recap.mails import deliver_pending


def _mute_server(stop: threading.Event) -> int:
    """Accepts, then sends `220-` continuation lines every half second: the greeting never ends,
    and no single wait for the server ever times out."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener:
            listener.settimeout(0.2)
            while not stop.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                threading.Thread(target=drip, args=(connection,), daemon=True).start()

    def drip(connection: socket.socket) -> None:
        with connection:
            while not stop.wait(0.5):
                try:
                    connection.sendall(b"220-still greeting\r\n")
                except OSError:
                    return

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def test_a_server_that_never_finishes_its_greeting_is_left_at_the_deadline(tmp_path: Path) -> None:
    pending = tmp_path / "pending"
    pending.mkdir()
    recap = pending / "WG001_2026-12-07.eml"
    recap.write_bytes(b"To: salaris@bakkerij.example\r\nSubject: uwvcli\r\n\r\nrecap\r\n")
    stop = threading.Event()
    port = _mute_server(stop)
    try:
        mail = MailSettings(smtp_host="127.0.0.1", smtp_port=port)
        report = deliver_pending(tmp_path, mail, timeout=5, deadline=2)
    finally:
        stop.set()
    assert not report.complete and report.sent == ()
    [waiting] = report.waiting
    assert waiting.path == recap and recap.exists(), "nothing is lost: it goes on the next run"
    assert "did not finish within 2 s" in waiting.reason
