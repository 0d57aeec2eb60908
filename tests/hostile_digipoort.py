"""A small hostile Digipoort on loopback, for the tests of what uwvcli does when the peer misbehaves.

It speaks HTTPS with required client certificates (the test PKI), reads each request itself and
answers it the way the test's `behaviour` says: a redirect after processing, a gzip bomb, an
endless or dripping body, a signed answer with a comment inside a value, a transient fault… The
requests themselves are processed (checked, counted, stored, answered and signed) by a real
`Simulator` behind it, so "did it arrive, and how often" is the simulator's count, and a forged
answer carries Digipoort's real service signature. Only the good behaviour is replaced.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from cryptography import x509
from digipoort_support import seed_test_pki
from lxml import etree

from uwvcli.app.credentials import load_credentials
from uwvcli.digipoort.client import DigipoortClient
from uwvcli.digipoort.soap import SOAP11, WSSE
from uwvcli.digipoort.wss import sign_envelope
from uwvcli.domain.models import Sender
from uwvcli.messages.signing import Credentials
from uwvcli.simulator.server import Simulator, _Answer, _Request


@dataclass(frozen=True)
class Exchange:
    """One request as the hostile server got it, and what the simulator behind it would answer
    (computed only when the behaviour asks: `answer()` processes the request)."""

    path: str
    body: bytes
    process: Callable[[], _Answer]
    number: int  # 1 for the first request the server got, and so on
    backend: Simulator  # for its service key, to sign a forged answer

    def answer(self) -> _Answer:
        return self.process()


@dataclass
class Reply:
    """What goes back on the wire: status line, headers, then the body in pieces, `pause` seconds
    apart (a drip), or nothing at all (`close`: the connection is shut without an answer)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    pieces: Iterable[bytes] = ()
    pause: float = 0.0
    close: bool = False


def honest(answer: _Answer) -> Reply:
    return Reply(
        answer.status,
        {"Content-Type": answer.content_type, "Content-Length": str(len(answer.body))},
        [answer.body],
    )


def gzip_bomb(decompressed: int) -> bytes:
    """`decompressed` zero bytes, gzipped (about a thousandth of the size)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    chunk = bytes(1024 * 1024)
    return (
        b"".join(compressor.compress(chunk) for _ in range(decompressed // len(chunk))) + compressor.flush()
    )


def resigned(backend: Simulator, body: bytes, change: Callable[[etree._Element], None]) -> bytes:
    """A signed answer changed by `change` and signed again with Digipoort's service key: what a
    peer holding the key could send (the signature holds over whatever it put in)."""
    root = etree.fromstring(body)
    header = root.find(f"{{{SOAP11}}}Header")
    assert header is not None
    for security in header.findall(f"{{{WSSE}}}Security"):
        header.remove(security)
    change(root)
    sign_envelope(root, private_key=backend._service_key, certificate=backend._service_cert)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, hostile: HostileDigipoort, context: ssl.SSLContext):
        self.hostile = hostile
        self.context = context
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: socket.socket, client_address: object) -> None:
        request.settimeout(30)
        try:
            connection = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with suppress(OSError):
            _Handler(connection, client_address, self)
        with suppress(OSError):
            connection.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        hostile = self.server.hostile
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        request = _Request(
            path=self.path,
            content_type=self.headers.get("Content-Type", ""),
            soap_action=self.headers.get("SOAPAction", "").strip().strip('"'),
            host_header=self.headers.get("Host", ""),
            body=body,
            peer_certificate=x509.load_der_x509_certificate(self.connection.getpeercert(binary_form=True)),
        )
        with hostile.lock:
            hostile.requests += 1
            number = hostile.requests
        reply = hostile.behaviour(
            Exchange(self.path, body, lambda: hostile.backend.handle(request), number, hostile.backend)
        )
        if reply.close:
            self.close_connection = True
            with suppress(OSError):
                socket.socket.shutdown(self.connection, socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if "Content-Length" not in reply.headers:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        for piece in reply.pieces:
            if hostile.stopping.is_set():
                return
            self.wfile.write(piece)
            self.wfile.flush()
            with hostile.lock:
                hostile.written += len(piece)
            if reply.pause:
                time.sleep(reply.pause)

    def log_message(self, format: str, *args: object) -> None:
        pass


class HostileDigipoort:
    """The hostile server and the simulator behind it; `behaviour` may be replaced between calls."""

    def __init__(self, state: Path, behaviour: Callable[[Exchange], Reply] | None = None):
        seed_test_pki(state)
        # The content check is not what these tests are about: every message passes it.
        self.backend = Simulator(state / "simulator", check_content=lambda content: [])
        self.behaviour = behaviour or (lambda exchange: honest(exchange.answer()))
        self.requests = 0
        self.written = 0  # body bytes the server managed to send before the client hung up
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.credentials: Credentials = load_credentials(
            Sender(name="Test", role="Bedrijf"), environment="simulator", state_dir=state
        )
        self._server: _Server | None = None

    def __enter__(self) -> HostileDigipoort:
        self.backend.start()
        self._server = _Server(self, self.backend._tls_context())
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        self.backend.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def aanlever_url(self) -> str:
        return self.base_url + "/wus/2.0/aanleverservice/1.2"

    @property
    def status_url(self) -> str:
        return self.base_url + "/wus/2.0/statusinformatieservice/1.2"

    def client(self, **options: object) -> DigipoortClient:
        return DigipoortClient(
            self.aanlever_url,
            self.status_url,
            self.credentials,
            ca_bundle=self.backend.ca_bundle,
            service_certificate=self.backend.service_certificate,
            **options,  # type: ignore[arg-type]
        )

    def received(self, aanleverkenmerk: str) -> int:
        return self.backend.received(aanleverkenmerk)


@contextmanager
def hostile_digipoort(
    state: Path, behaviour: Callable[[Exchange], Reply] | None = None
) -> Iterator[HostileDigipoort]:
    with HostileDigipoort(state, behaviour) as server:
        yield server
