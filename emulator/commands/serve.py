"""``refersion-emulator serve``: run the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from emulator.access import MIN_TOKEN_LENGTH, is_loopback_host, new_control_token
from emulator.commands import event_loop
from emulator.commands.options import (
    EXIT_OK,
    add_emulator_options,
    config_from_args,
    mapping_from_args,
)
from emulator.config import DEFAULT_HOST, DEFAULT_PORT, EmulatorConfig
from emulator.errors import InputError
from emulator.secrets_mask import mask_secret
from emulator.server.gc_tuning import tune_for_serving

if TYPE_CHECKING:
    from emulator.destination.mapping import Mapping

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "serve"
HELP = "start the emulator server"
TOKEN_ENV = "REFERSION_EMULATOR_TOKEN"  # noqa: S105 (a variable name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        f"Start the emulator on http://{DEFAULT_HOST}:{DEFAULT_PORT} (loopback only, unless "
        "--host with --allow-remote): the Segment Tracking API, the Refersion destination, the "
        "fake Refersion API v2, the control API and the inspector page, until Ctrl-C."
    )
    add_emulator_options(parser)
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --host to be an address other than loopback (then /_emulator/* needs a token)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="with --allow-remote: a host name clients reach the emulator under (repeatable; "
        "loopback names and IP addresses are always allowed)",
    )
    parser.add_argument(
        "--control-token",
        help=f"token /_emulator/* requires (default: ${TOKEN_ENV}; generated when --host is "
        "not loopback)",
    )
    parser.add_argument(
        "--journal",
        metavar="FILE",
        help="keep the journal and the fake Refersion account in this SQLite file, across "
        "restarts (default: in memory)",
    )
    parser.add_argument(
        "--journal-cap",
        type=int,
        metavar="N",
        help="traces kept in memory; older finished ones are dropped (default 10000)",
    )


def run(args: argparse.Namespace, *, stdout: IO[str], stderr: IO[str]) -> int:
    remote = not is_loopback_host(args.host)
    if remote and not args.allow_remote:
        raise InputError(
            f"--host {args.host} is not a loopback address; add --allow-remote to expose the "
            "emulator to other machines"
        )
    token, generated = control_token(
        args.control_token or os.environ.get(TOKEN_ENV), required=remote
    )
    durability: dict[str, Any] = {"journal_path": args.journal}
    if args.journal_cap is not None:
        durability["journal_cap"] = args.journal_cap
    config = config_from_args(
        args,
        host=args.host,
        port=args.port,
        control_token=token,
        allowed_hosts=tuple(args.allow_host),
        **durability,
    )
    return event_loop.run(
        _serve_async(config, mapping_from_args(args), stdout, stderr, token_generated=generated)
    )


def control_token(given: str | None, *, required: bool) -> tuple[str | None, bool]:
    """The control token to use, and whether it was generated here."""
    if given:
        if len(given) < MIN_TOKEN_LENGTH:
            raise InputError(
                f"--control-token (or ${TOKEN_ENV}) must be at least {MIN_TOKEN_LENGTH} "
                f"characters; it has {len(given)}"
            )
        return given, False
    if required:
        return new_control_token(), True
    return None, False


async def _serve_async(
    config: EmulatorConfig,
    mapping: Mapping | None,
    stdout: IO[str],
    stderr: IO[str],
    *,
    token_generated: bool,
) -> int:
    from emulator.server.emulator import Emulator

    emulator = Emulator(config, mapping=mapping)
    try:
        await emulator.start()
    except OSError as exc:
        raise InputError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from None
    # Ctrl-C is handled from the moment the banner says the server is listening.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    token_file = _save_token(config.control_token) if token_generated else None
    tune_for_serving()
    print(_banner(emulator.url, config), file=stdout, flush=True)
    mismatch = key_mismatch(config)
    if mismatch is not None:
        print(f"warning: {mismatch}", file=stderr, flush=True)
    if config.control_token is not None:
        print(exposure_note(config, token_file), file=stdout, flush=True)
    try:
        await stop.wait()
    finally:
        print("stopping…", file=stdout, flush=True)
        await emulator.stop()
        if token_file is not None:
            token_file.unlink(missing_ok=True)
    print("stopped", file=stdout, flush=True)
    return EXIT_OK


def _banner(url: str, config: EmulatorConfig) -> str:
    shown_key = _masked_key(config.effective_api_key)
    durable = ""
    if config.journal_path is not None:
        durable = f"\n  journal file           {config.journal_path}   (kept across restarts)"
    return f"""refersion-emulator listening on {url}

  Segment Tracking API   {url}/v1/batch   (host for Segment clients: {url})
  Refersion destination  {url}/destination   (API key {shown_key})
  fake Refersion API v2  {url}/refersion/v2
  journal                {url}/_emulator/events
  affiliates             {url}/_emulator/affiliates
  inspector (browser)    {url}/_emulator/ui
  faults, report         {url}/_emulator/faults, {url}/_emulator/report{durable}

Try it:

  curl -s {url}/v1/identify -H 'Content-Type: application/json' -d '{{"writeKey": "test", \\
    "userId": "user-1", "traits": {{"name": "Peter Gibbons", "email": "peter@example.com"}}}}'
  curl -s {url}/_emulator/affiliates

From Python (pip install segment-analytics-python):

  import segment.analytics as analytics
  analytics.write_key = "test"
  analytics.host = "{url}"
  analytics.identify("user-1", {{"name": "Peter Gibbons", "email": "peter@example.com"}})
  analytics.flush()

Ctrl-C stops the emulator."""


def key_mismatch(config: EmulatorConfig) -> str | None:
    """Why every event would end ``unauthorized``, when the destination's key is not the fake
    account's: said at start, since otherwise only the journal shows it, event by event."""
    if config.refersion_url is not None:
        return None  # another Refersion judges the key; this emulator's account is not used
    destination = config.effective_api_key
    account = config.credentials.api_key
    if destination == account:
        return None
    return (
        f"the destination's API key {_masked_key(destination)} is not the fake Refersion "
        f"account's {_masked_key(account)}, so Refersion will answer 401 and events end "
        "'unauthorized'. Pass only --api-key to make the account accept it, or matching "
        "--public-key/--secret-key."
    )


def _masked_key(api_key: str) -> str:
    public, dot, secret = api_key.partition(".")
    return f"{public}{dot}{mask_secret(secret)}" if dot else mask_secret(api_key)


def exposure_note(config: EmulatorConfig, token_file: Path | None) -> str:
    """What protects the control API, with the token masked: it is a credential."""
    token = config.control_token or ""
    where = (
        f"the full token is in {token_file} (readable by you only; removed on stop)"
        if token_file is not None
        else "as you gave it"
    )
    lines = [
        f"control API token {mask_secret(token)} — {where}.",
        "  /_emulator/* needs 'Authorization: Bearer <token>' or 'X-Emulator-Token: <token>';",
        "  a browser can open /_emulator/…?token=<token> once (it then sets a cookie).",
    ]
    if not is_loopback_host(config.host):
        names = ", ".join(config.allowed_hosts) or "none given (add --allow-host NAME)"
        lines += [
            f"  WARNING: listening on {config.host}, reachable from the network. Requests must",
            "  address it by a loopback name, an IP address, or a name given with --allow-host:",
            f"  {names}.",
        ]
        if config.default_keys:
            lines.append(
                "  The fake Refersion account uses its default keys, which are public: "
                "/refersion/v2 and /destination refuse other machines until you start it "
                "with --public-key, --secret-key and --api-key of your own."
            )
        else:
            lines.append(
                "  The Tracking API, /destination and the fake Refersion API take requests "
                "from the network with the keys you set."
            )
    return "\n".join(lines)


def _save_token(token: str | None) -> Path:
    descriptor, name = tempfile.mkstemp(prefix="refersion-emulator-token-", suffix=".txt")
    with os.fdopen(descriptor, "w") as file:
        file.write(f"{token}\n")
    return Path(name)
