"""Reading an HTTP answer's body up to a limit, noticing when it stops short."""

from __future__ import annotations

import aiohttp

__all__ = ["read_limited"]


async def read_limited(response: aiohttp.ClientResponse, *, limit: int) -> bytes:
    """At most ``limit`` bytes of the body.

    Reads until the end of the body (or the limit), so a body cut short of its
    Content-Length raises :class:`aiohttp.ClientPayloadError` instead of passing for a
    complete one.
    """
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await response.content.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
