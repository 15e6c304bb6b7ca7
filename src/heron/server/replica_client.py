"""The tracking server's HTTP/1.1 client for endpoint replicas: keep-alive connections
pooled per address, responses parsed by httptools (uvicorn's parser), bodies read whole or
piece by piece (a stream of server-sent events).

Small and strict on purpose: it only ever talks to Heron's own replicas, a hop every
endpoint request pays for. A failure before the first byte of an answer is `Unreachable`,
so the caller can try another replica; a pooled connection the replica closed while idle
is retried once on a fresh one first, so an idle close never sets a healthy replica aside."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httptools

_IDLE_S = 4.0  # uvicorn closes a connection idle for 5 s: drop ours before that
_READ = 1 << 16


class Unreachable(Exception):
    """The replica could not be reached, or closed the connection before answering."""


class Timeout(Exception):
    """The replica took longer than the timeout."""


class _Connection:
    __slots__ = ("address", "idle_since", "reader", "writer")

    def __init__(
        self, address: tuple[str, int], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.address = address
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def close(self) -> None:
        self.writer.close()


class Response:
    """An answer whose head is read; its body comes from `read()` or `pieces()`, once."""

    def __init__(self, client: ReplicaClient, connection: _Connection, timeout_s: float) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self._client = client
        self._connection: _Connection | None = connection
        self._timeout_s = timeout_s
        self._pieces: collections.deque[bytes] = collections.deque()
        self._head_done = self._done = self._keep_alive = False
        self._parser = httptools.HttpResponseParser(self)

    # httptools' callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self._head_done = True
        self.status = self._parser.get_status_code()
        # Read here: once the message is complete the parser has reset for the next one.
        self._keep_alive = self._parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self._pieces.append(body)

    def on_message_complete(self) -> None:
        self._done = True

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    async def _feed(self) -> bool:
        """Reads and parses more; False at the end of the connection."""
        assert self._connection is not None  # noqa: S101 - only while the answer is open
        try:
            async with asyncio.timeout(self._timeout_s):  # no task made, unlike wait_for
                data = await self._connection.reader.read(_READ)
        except TimeoutError:
            self.close()
            raise Timeout from None
        except OSError as exc:
            self.close()
            raise Unreachable(str(exc)) from None
        if not data:
            return False
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.close()
            raise Unreachable(f"bad answer: {exc}") from None
        return True

    async def head(self) -> None:
        while not self._head_done:
            if not await self._feed():
                self.close()
                raise Unreachable("the replica closed the connection")

    async def pieces(self) -> AsyncIterator[bytes]:
        """The body as it arrives."""
        while True:
            while self._pieces:
                yield self._pieces.popleft()
            if self._done:
                self._release()
                return
            if not await self._feed():
                self.close()
                raise Unreachable("the replica closed the connection midway")

    async def read(self) -> bytes:
        return b"".join([piece async for piece in self.pieces()])

    def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            if self._keep_alive:
                self._client.give_back(connection)
            else:
                connection.close()

    def close(self) -> None:
        """Drops the connection (an answer not read to its end cannot be reused)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class ReplicaClient:
    def __init__(self, *, connect_timeout_s: float = 2.0, max_idle: int = 64) -> None:
        self.connect_timeout_s = connect_timeout_s
        self.max_idle = max_idle
        self._idle: dict[tuple[str, int], list[_Connection]] = {}

    async def post(
        self, url: str, body: bytes, headers: list[tuple[bytes, bytes]], *, timeout_s: float
    ) -> Response:
        """Sends a POST and reads the answer's head.

        Raises:
            Unreachable: no connection, or it closed before the answer began.
            Timeout: no answer within `timeout_s`.
        """
        parts = urlsplit(url)
        address = (parts.hostname or "127.0.0.1", parts.port or 80)
        head = [
            b"POST ", (parts.path or "/").encode(), b" HTTP/1.1\r\nhost: ", parts.netloc.encode(),
            b"\r\ncontent-length: ", str(len(body)).encode(), b"\r\n",
        ]  # fmt: skip
        for name, value in headers:
            head += [name, b": ", value, b"\r\n"]
        request = b"".join([*head, b"\r\n", body])
        pooled = self._take(address)
        if pooled is not None:
            try:
                return await self._exchange(pooled, request, timeout_s)
            except Unreachable:
                pass  # closed while idle: once more on a fresh connection
        return await self._exchange(await self._connect(address), request, timeout_s)

    async def _exchange(
        self, connection: _Connection, request: bytes, timeout_s: float
    ) -> Response:
        response = Response(self, connection, timeout_s)
        try:
            connection.writer.write(request)
            await connection.writer.drain()
        except OSError as exc:
            connection.close()
            raise Unreachable(str(exc)) from None
        await response.head()
        return response

    async def _connect(self, address: tuple[str, int]) -> _Connection:
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                reader, writer = await asyncio.open_connection(*address)
        except (OSError, TimeoutError) as exc:
            raise Unreachable(f"cannot connect to {address[0]}:{address[1]}: {exc}") from None
        return _Connection(address, reader, writer)

    def _take(self, address: tuple[str, int]) -> _Connection | None:
        idle = self._idle.get(address)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if now - connection.idle_since < _IDLE_S and not connection.reader.at_eof():
                return connection
            connection.close()
        return None

    def give_back(self, connection: _Connection) -> None:
        idle = self._idle.setdefault(connection.address, [])
        if len(idle) >= self.max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
