"""The destination's HTTP client for the Refersion REST API v2 (seam 2)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from emulator.assumptions import NOTES_HEADER
from emulator.contract_checks.contract_set import ContractSet, Violation
from emulator.destination.mapping import ApiKey, Operation
from emulator.json_limits import strict_dumps, strict_loads
from emulator.secrets_mask import mask_secret
from emulator.web.reading import read_limited

__all__ = ["REFERSION_SESSION", "RefersionCall", "call_refersion", "refersion_session"]

# The destination's own HTTP client for Refersion: it borrows nothing from the Segment side,
# whose delivery pipeline has its own (they are two services that happen to share a process).
REFERSION_SESSION = web.AppKey("refersion_session", aiohttp.ClientSession)

_MAX_RESPONSE_BYTES = 1024 * 1024
_RESPONSE_CONTRACTS = {
    "affiliate/new": "refersion/affiliate-new.response",
    "affiliate/delete": "refersion/affiliate-delete.response",
}


@dataclass(slots=True)
class RefersionCall:
    """One request to Refersion and what came back; ``error`` is set when nothing usable did."""

    url: str
    status: int | None = None
    body: Any = None
    error: str | None = None
    # Refersion's Retry-After, passed on to Segment with a 429 or 503.
    retry_after: str | None = None
    latency_ms: float = 0.0
    violations: list[Violation] = field(default_factory=list)
    # What the emulator's fake Refersion says its answer assumed (never from a real one).
    assumptions: list[dict[str, Any]] = field(default_factory=list)

    def journal_detail(self, body: dict[str, Any], key: ApiKey) -> dict[str, Any]:
        """The hop detail; ``body`` is the request body as journaled (password redacted)."""
        detail: dict[str, Any] = {
            "request": {
                "url": self.url,
                "headers": {
                    "Refersion-Public-Key": key.public_key,
                    "Refersion-Secret-Key": mask_secret(key.secret_key),
                },
                "body": body,
            },
            "response": {"status": self.status, "body": self.body, "error": self.error},
            "latencyMs": self.latency_ms,
        }
        if self.assumptions:
            detail["assumptions"] = self.assumptions
        return detail


async def refersion_session(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: :data:`REFERSION_SESSION` is open while the application runs."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
        app[REFERSION_SESSION] = session
        yield


async def call_refersion(
    session: aiohttp.ClientSession,
    *,
    base_url: str,
    operation: Operation,
    key: ApiKey,
    timeout: float,
    contracts: ContractSet,
) -> RefersionCall:
    """POST the operation's body and validate both directions against the contracts."""
    call = RefersionCall(url=f"{base_url}/{operation.endpoint}")
    request_contract = f"refersion/{operation.endpoint.replace('/', '-')}.request"
    call.violations.extend(contracts.validate(request_contract, operation.body))
    headers = {
        "Refersion-Public-Key": key.public_key,
        "Refersion-Secret-Key": key.secret_key,
        "Content-Type": "application/json",
    }
    started = time.perf_counter()
    try:
        async with session.post(
            call.url,
            data=strict_dumps(operation.body).encode(),
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            call.status = resp.status
            call.retry_after = resp.headers.get("Retry-After")
            call.assumptions = _notes(resp.headers.get(NOTES_HEADER))
            raw = await read_limited(resp, limit=_MAX_RESPONSE_BYTES)
    except TimeoutError:
        call.error = "timeout"
    except aiohttp.ClientConnectorError:
        call.error = "connection refused"
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
        call.error = "connection reset"
    except aiohttp.ClientPayloadError:
        call.error = "truncated body"
    except aiohttp.ClientError as exc:
        call.error = f"client error ({type(exc).__name__})"
    call.latency_ms = round((time.perf_counter() - started) * 1000, 2)
    if call.error is not None or call.status is None:
        return call
    try:
        call.body = strict_loads(raw) if raw else None
    except (ValueError, RecursionError):
        call.body = raw[:500].decode("utf-8", "replace")
        call.error = "malformed body"
        return call
    if 200 <= call.status < 300 and operation.endpoint in _RESPONSE_CONTRACTS:
        call.violations.extend(
            contracts.validate(_RESPONSE_CONTRACTS[operation.endpoint], call.body)
        )
    elif call.status >= 400:
        call.violations.extend(contracts.validate("refersion/error", call.body))
    return call


def _notes(header: str | None) -> list[dict[str, Any]]:
    """The fake's assumption notes; anything that is not a list of objects is ignored."""
    if not header:
        return []
    try:
        # Strict: a header may carry anything (aiohttp keeps undecodable bytes as surrogates).
        notes = strict_loads(header)
    except (ValueError, RecursionError):
        return []
    if not isinstance(notes, list):
        return []
    return [note for note in notes if isinstance(note, dict)]
