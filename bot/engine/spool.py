"""A durable local spool for inbound messages that arrive while Redis is unreachable.

Twilio does not retry a messaging webhook that fails (PROVIDERS T6): an SMS answered 503 is
lost. So when ingest fails with a connection error or a timeout, the verified event is appended
to a local file, one JSON line per event, flushed and fsynced, and only then acknowledged. When
Redis answers again the spool is replayed through the normal `ingest`, whose dedupe makes a
replay of an already ingested event harmless (a spool is therefore never replayed "too often",
only never too little).

Writers and the replayer share files safely without a daemon:

- a writer opens its process's file in append mode, takes an exclusive `flock`, checks that the
  file it holds is still the one at that path (the replayer may have claimed it meanwhile) and
  only then writes and fsyncs;
- the replayer claims a file by renaming it (new writes go to a fresh file), takes the same lock
  (so a write in flight finishes first), ingests every line, and deletes the file only when all
  of them are in Redis. A claimed file left by a failed or crashed replay is replayed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import fnmatch
import json
import logging
import os
import secrets
import socket
from pathlib import Path

import redis.asyncio as aioredis

from bot.engine.pipeline import Event, ingest
from bot.logs import log_fields

log = logging.getLogger(__name__)

SPOOL_GLOB = "inbound-*.jsonl*"  # live files and claimed ones (".replaying-<id>")
RETRY_SECONDS = 1.0  # while Redis is still away; the spool is on disk, nothing is lost meanwhile


class InboundSpool:
    """Append-only files under `directory`; `append` returns once the event is on disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._own = directory / f"inbound-{socket.gethostname()}-{os.getpid()}.jsonl"

    def append(self, event: Event) -> None:
        """Durably record `event` (blocking: a few ms for the fsync). Raises OSError if not."""
        self.directory.mkdir(parents=True, exist_ok=True)
        line = (event.dumps() + "\n").encode()
        while True:
            fd = os.open(self._own, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if not _still_at(fd, self._own):
                    continue  # claimed by a replay between our open and our lock: reopen
                created = os.fstat(fd).st_size == 0
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)  # also releases the lock
            if created:
                _fsync_directory(self.directory)  # the new file's name is durable too
            return

    def files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(SPOOL_GLOB), key=_age)

    def pending(self) -> bool:
        """Whether any spool file is there (asked on every webhook: no sort, no stat)."""
        try:
            with os.scandir(self.directory) as entries:
                return any(fnmatch.fnmatchcase(entry.name, SPOOL_GLOB) for entry in entries)
        except (FileNotFoundError, NotADirectoryError):
            return False

    async def replay(self, redis: aioredis.Redis) -> int:
        """Ingest every spooled event, oldest file first; returns how many were new.

        Raises RedisError when Redis is still unavailable: the files stay for the next try.
        """
        fresh = 0
        for path in self.files():
            claimed = _claim(path)
            if claimed is None:
                continue  # another replayer took it
            for event in _read_events(claimed):
                if await ingest(redis, event):
                    fresh += 1
            claimed.unlink(missing_ok=True)
        if fresh:
            log.info("spooled inbound events replayed", extra=log_fields(events=fresh))
        return fresh


class SpoolReplayer:
    """Replays the spool at start and whenever a webhook spooled something, until it is empty."""

    def __init__(self, spool: InboundSpool, redis: aioredis.Redis) -> None:
        self._spool = spool
        self._redis = redis
        self._wake = asyncio.Event()
        self._wake.set()  # at start: a previous process may have left events behind

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._spool.replay(self._redis)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis still away (or a bug): the events are safe on disk
                log.warning("spool replay deferred", exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)
                self._wake.set()


def _still_at(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _age(path: Path) -> tuple[float, str]:
    try:
        return (path.stat().st_mtime, path.name)
    except FileNotFoundError:
        return (0.0, path.name)


def _claim(path: Path) -> Path | None:
    """Rename `path` out of the writers' way, then wait for a write in flight to finish."""
    stem = path.name.split(".replaying-")[0]
    claimed = path.with_name(f"{stem}.replaying-{secrets.token_hex(4)}")
    try:
        path.rename(claimed)
    except FileNotFoundError:
        return None
    fd = os.open(claimed, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a writer that opened before the rename has written
    finally:
        os.close(fd)
    return claimed


def _read_events(path: Path) -> list[Event]:
    events = []
    with contextlib.suppress(FileNotFoundError), path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                events.append(Event.loads(raw.decode()))
            except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
                # Only a write cut short by a crash can be torn, and that one was never
                # acknowledged (we answer after the fsync): the provider did not count on it.
                log.error("unreadable spool line skipped", extra=log_fields(line=number))
    return events
