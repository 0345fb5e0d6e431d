"""The ``refersion-emulator`` command line: ``serve`` and ``send``.

``main(argv)`` parses; each command writes to the streams it is given and returns the exit
code: 0 success, 1 a contract or expectation failed, 2 a usage or input error.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from .config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DestinationSettings,
    EmulatorConfig,
    RefersionCredentials,
)
from .errors import EmulatorError, InputError
from .fixtures import Case, parse_cases
from .secrets_mask import mask_secret
from .trace_format import Style, format_trace

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_MAX_INPUT_BYTES = 50 * 1024 * 1024


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="refersion-emulator", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", help="start the emulator server")
    _add_emulator_options(serve)
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default: loopback)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0 picks a free one)")
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow --host to be an address other than loopback",
    )

    send = commands.add_parser("send", help="push payload files through the whole pipeline")
    _add_emulator_options(send)
    send.add_argument("files", nargs="+", help="payload or fixture files; - reads stdin")
    send.add_argument("--json", action="store_true", help="print machine-readable JSON")
    return parser


def _add_emulator_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-key", help="destination API key, publickey.secretkey")
    parser.add_argument("--public-key", help="the fake Refersion account's public key")
    parser.add_argument("--secret-key", help="the fake Refersion account's secret key")
    parser.add_argument("--write-key", help="accept only this Segment write key")
    parser.add_argument("--destination-url", help="deliver to this receiver instead")
    parser.add_argument("--refersion-url", help="call this Refersion base URL instead")
    parser.add_argument("--status", choices=("PENDING", "ACTIVE"), default="PENDING")
    parser.add_argument("--send-welcome", choices=("TRUE", "FALSE"), default="FALSE")
    parser.add_argument("--offer", help="Refersion offer id for new affiliates")
    parser.add_argument("--seed", type=int, help="seed for affiliate codes and retry jitter")
    parser.add_argument(
        "--retry-budget", type=float, help="seconds Segment keeps retrying (default 4 hours)"
    )


def config_from_args(args: argparse.Namespace, **overrides: Any) -> EmulatorConfig:
    credentials = RefersionCredentials()
    if args.public_key or args.secret_key:
        credentials = RefersionCredentials(
            public_key=args.public_key or credentials.public_key,
            secret_key=args.secret_key or credentials.secret_key,
        )
    extra: dict[str, Any] = {}
    if args.retry_budget is not None:
        extra["retry_budget"] = args.retry_budget
    return EmulatorConfig(
        credentials=credentials,
        api_key=args.api_key,
        write_key=args.write_key,
        destination_url=args.destination_url,
        refersion_url=args.refersion_url,
        destination=DestinationSettings(
            status=args.status, send_welcome=args.send_welcome, offer=args.offer
        ),
        seed=args.seed,
        **{**extra, **overrides},
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv, stdout=sys.stdout, stderr=sys.stderr)


def run(argv: Sequence[str], *, stdout: IO[str], stderr: IO[str]) -> int:
    try:
        args = build_parser().parse_args(list(argv))
        if args.command == "serve":
            return _serve(args, stdout)
        return asyncio.run(_send(args, stdout))
    except InputError as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_USAGE
    except EmulatorError as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_USAGE


# ---- serve ---------------------------------------------------------------------------------


def _serve(args: argparse.Namespace, stdout: IO[str]) -> int:
    if not _is_loopback(args.host) and not args.allow_remote:
        raise InputError(
            f"--host {args.host} is not a loopback address; add --allow-remote to expose the "
            "emulator to other machines"
        )
    config = config_from_args(args, host=args.host, port=args.port)
    return asyncio.run(_serve_async(config, stdout))


async def _serve_async(config: EmulatorConfig, stdout: IO[str]) -> int:
    from .server.emulator import Emulator

    emulator = Emulator(config)
    try:
        await emulator.start()
    except OSError as exc:
        raise InputError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from None
    print(_banner(emulator.url, config), file=stdout, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        print("stopping…", file=stdout, flush=True)
        await emulator.stop()
    print("stopped", file=stdout, flush=True)
    return EXIT_OK


def _banner(url: str, config: EmulatorConfig) -> str:
    api_key = config.effective_api_key
    public, _, secret = api_key.partition(".")
    shown_key = f"{public}.{mask_secret(secret)}"
    return f"""refersion-emulator listening on {url}

  Segment Tracking API   {url}/v1/batch   (host for Segment clients: {url})
  Refersion destination  {url}/destination   (API key {shown_key})
  fake Refersion API v2  {url}/refersion/v2
  journal                {url}/_emulator/events
  affiliates             {url}/_emulator/affiliates

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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---- send ----------------------------------------------------------------------------------


async def _send(args: argparse.Namespace, stdout: IO[str]) -> int:
    from .server.case_runner import run_case

    cases = [case for name in args.files for case in _read_cases(name)]
    overrides: dict[str, Any] = {"port": 0, "retry_initial_backoff": 0.05}
    if args.retry_budget is None:
        # Keep an unreachable destination from holding the command for four hours.
        overrides["retry_budget"] = 5.0
    base = config_from_args(args, **overrides)
    results = [await run_case(case, base=base) for case in cases]
    passed = all(r.passed for r in results)
    if args.json:
        payload = {"passed": passed, "cases": [r.to_dict() for r in results]}
        print(json.dumps(payload, indent=2), file=stdout)
    else:
        style = Style(color=stdout.isatty())
        for result in results:
            _print_case(result.to_dict(), style, stdout)
    return EXIT_OK if passed else EXIT_FAILED


def _read_cases(name: str) -> list[Case]:
    if name == "-":
        data = sys.stdin.buffer.read(_MAX_INPUT_BYTES + 1)
        label = "<stdin>"
    else:
        path = Path(name)
        try:
            if path.is_dir():
                raise InputError(f"{name}: is a directory; expected a file")
            if path.stat().st_size > _MAX_INPUT_BYTES:
                raise InputError(f"{name}: larger than {_MAX_INPUT_BYTES // 2**20} MB")
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{name}: cannot read ({exc.strerror})") from None
        label = name
    if len(data) > _MAX_INPUT_BYTES:
        raise InputError(f"{label}: larger than {_MAX_INPUT_BYTES // 2**20} MB")
    return parse_cases(label, data)


def _print_case(result: dict[str, Any], style: Style, out: IO[str]) -> None:
    title = result["file"] + (f" — {result['description']}" if result["description"] else "")
    print(style.bold(title), file=out)
    for index, event in enumerate(result["events"], start=1):
        for line in format_trace(event, index=index, style=style):
            print(line, file=out)
    if result["affiliates"]:
        print(f"  affiliates in the fake Refersion account: {len(result['affiliates'])}", file=out)
    verdict = style.good("PASS") if result["passed"] else style.bad("FAIL")
    print(f"{verdict} {result['file']}", file=out)
    for failure in result["failures"]:
        print(style.bad(f"  - {failure}"), file=out)
    print(file=out)
