"""Where the explorer listens, and uvicorn serving it.

The socket is bound (and listening) before the vectors are loaded: a port already taken
fails at once, not after a minute of loading, and once the URL is printed a browser's first
request waits in the socket's queue until uvicorn takes it, so the URL is never dead.
starlette and uvicorn come with the ``serve`` extra; ``require_extra`` says how to install
them in one line.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from ..errors import W2VError, option

__all__ = [
    "Background",
    "allowed_hosts",
    "bind",
    "is_loopback",
    "one_blas_thread",
    "require_extra",
    "run",
    "url",
]

INSTALL_HINT = "pip install -e \".[serve]\" in a checkout, or pip install 'w2v[serve]'"
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_WILDCARDS = ("", "0.0.0.0", "::")
_BACKLOG = 128


def require_extra() -> None:
    """A ``W2VError`` naming the install command when starlette or uvicorn is missing."""
    missing = []
    for module in ("starlette", "uvicorn"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise W2VError(f"w2v serve needs {' and '.join(missing)}: {INSTALL_HINT}")


def one_blas_thread() -> None:
    """Ask numpy's BLAS for one thread per call (unless the environment already says how
    many); effective only before numpy is first imported.

    Why: the server answers one small question at a time, and OpenBLAS's threads wait for
    each other by spinning. On a machine whose cores are busy (the browser drawing the page
    on the same laptop) the page's first map, a 30 ms PCA, took 600 ms with two threads and
    40 ms with one; a neighbour query on 100k x 300 costs the same either way
    (bench/serve.py).
    """
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str) -> list[str] | None:
    """The Host names a server on ``host`` answers to: on loopback, only loopback names
    (see app.create_app); elsewhere any, since the name people use is not known here."""
    return sorted({*_LOOPBACK_NAMES, host.strip("[]").lower()}) if is_loopback(host) else None


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0: any free port)."""
    if not 0 <= port <= 65535:
        raise W2VError(f"{option('port', port)}: a port is a number from 0 to 65535")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise W2VError(f"{option('host', host)}: unknown host ({exc})") from None
    sock = socket.socket(family, kind, proto)
    try:
        # A restarted server takes its port back at once rather than after TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(_BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise W2VError(
                f"port {port} on {host} is in use; pick another with {option('port', 'N')} "
                f"({option('port', 0)}: any free port)"
            ) from None
        raise W2VError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def url(sock: socket.socket, host: str) -> str:
    """The address to open for a server on ``sock`` (bound to ``host``)."""
    port = sock.getsockname()[1]
    name = "127.0.0.1" if host in _WILDCARDS else host.strip("[]")
    if ":" in name:  # an IPv6 address
        name = f"[{name}]"
    return f"http://{name}:{port}/"


def run(app: Any, sockets: Sequence[socket.socket]) -> None:
    """Serve ``app`` on ``sockets`` until Ctrl-C (uvicorn logs through ``logging``)."""
    import uvicorn

    uvicorn.Server(_config(app)).run(sockets=list(sockets))


class Background:
    """uvicorn serving ``app`` on a thread of this process, on 127.0.0.1 and a free port,
    for as long as the ``with`` block lasts (tests, benchmarks, the screenshot script)."""

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        import uvicorn

        self.socket = bind(host, 0)
        self.url = url(self.socket, host)
        self._server = uvicorn.Server(_config(app))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> Background:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.socket.close()


def _config(app: Any) -> Any:
    import uvicorn

    return uvicorn.Config(
        app, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=2
    )
