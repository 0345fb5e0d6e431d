"""Options and exit codes shared by the commands."""

from __future__ import annotations

import argparse
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from emulator.assumptions import AssumptionChoices, UnknownAssumption, parse_assume
from emulator.config import DestinationSettings, EmulatorConfig, RefersionCredentials
from emulator.errors import InputError
from emulator.faults.specs import parse_fault_spec

if TYPE_CHECKING:
    from emulator.destination.mapping import Mapping

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "account_credentials",
    "add_emulator_options",
    "choices_from_args",
    "config_from_args",
    "hypothesis_storage",
    "in_process_config",
    "mapping_from_args",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_emulator_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-key",
        help="the destination's one Segment setting: its API key, publickey.secretkey",
    )
    parser.add_argument("--public-key", help="the fake Refersion account's public key")
    parser.add_argument("--secret-key", help="the fake Refersion account's secret key")
    parser.add_argument("--write-key", help="accept only this Segment write key")
    parser.add_argument(
        "--cors-allow-header",
        action="append",
        metavar="NAME",
        help="let browser pages also send this request header to the Tracking API, on top of "
        "the libraries' own under the assumption cors-headers=libraries (repeatable)",
    )
    parser.add_argument("--destination-url", help="deliver to this receiver instead")
    parser.add_argument("--refersion-url", help="call this Refersion base URL instead")
    chosen = parser.add_argument_group(
        "choices about new affiliates",
        "Assumptions, not Segment settings: Refersion's affiliate/new needs a status and takes "
        "send_welcome and offer, no trait carries them, and no source says what Refersion's "
        "Segment integration sends. Each flag is one switch with an assumption "
        "(affiliate-status, send-welcome, new-affiliate-offer); an --assume for the same "
        "assumption wins over the flag.",
    )
    chosen.add_argument(
        "--status",
        choices=("PENDING", "ACTIVE"),
        default="PENDING",
        help="status the emulator gives new affiliates (default PENDING; = --assume "
        "affiliate-status=STATUS)",
    )
    chosen.add_argument(
        "--send-welcome",
        choices=("TRUE", "FALSE"),
        default="FALSE",
        help="send_welcome the emulator sends for new affiliates (default FALSE; = --assume "
        "send-welcome=VALUE)",
    )
    chosen.add_argument(
        "--offer",
        help="offer id the emulator puts new affiliates in (default: the account's default; "
        "implies --assume new-affiliate-offer=given)",
    )
    parser.add_argument("--seed", type=int, help="seed for affiliate codes and retry jitter")
    parser.add_argument(
        "--retry-budget",
        type=float,
        metavar="SECONDS",
        help="seconds Segment keeps retrying a failing delivery (default: 4 hours for serve "
        "and check; 5 seconds for send, replay and engage, so an unreachable receiver cannot "
        "hold them)",
    )
    parser.add_argument(
        "--mapping",
        metavar="MODULE:CALLABLE",
        help="run your own mapping (fn(message, *, settings) -> Operation | Rejection)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        metavar="SPEC",
        help="inject a fault, e.g. refersion:affiliate/new=503@0.3 (repeatable; see "
        "docs/faults-and-retries.md)",
    )
    parser.add_argument(
        "--assume",
        action="append",
        type=_assume,
        metavar="ID=VARIANT",
        help=(
            "use this variant of an assumption the sources leave open, e.g. "
            "country-spelling=pass-through (repeatable; list: refersion-emulator assumptions)"
        ),
    )


def _assume(text: str) -> tuple[str, str]:
    try:
        return parse_assume(text)
    except UnknownAssumption as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def choices_from_args(args: argparse.Namespace) -> AssumptionChoices:
    """The ``--assume`` choices; the last one given for an id wins."""
    return AssumptionChoices.of(dict(getattr(args, "assume", None) or ()))


def in_process_config(args: argparse.Namespace) -> EmulatorConfig:
    """The configuration of an in-process run (send, replay, engage): any free port, and a
    short retry budget unless one is given, so an unreachable destination cannot hold the
    command for Segment's four hours."""
    overrides: dict[str, Any] = {"port": 0, "retry_initial_backoff": 0.05}
    if args.retry_budget is None:
        overrides["retry_budget"] = 5.0
    return config_from_args(args, **overrides)


def config_from_args(args: argparse.Namespace, **overrides: Any) -> EmulatorConfig:
    credentials = account_credentials(args.api_key, args.public_key, args.secret_key)
    extra: dict[str, Any] = {}
    if args.retry_budget is not None:
        extra["retry_budget"] = args.retry_budget
    if args.fault:
        extra["faults"] = tuple(parse_fault_spec(spec) for spec in args.fault)
    extra["assumptions"] = choices_from_args(args)
    if args.cors_allow_header:
        extra["cors_extra_headers"] = tuple(args.cors_allow_header)
    return EmulatorConfig(
        credentials=credentials,
        api_key=args.api_key,
        write_key=args.write_key,
        destination_url=_checked_url(
            "--destination-url", args.destination_url, "http://127.0.0.1:9000/destination"
        ),
        refersion_url=_checked_url(
            "--refersion-url", args.refersion_url, "http://127.0.0.1:9000/refersion/v2"
        ),
        destination=DestinationSettings(
            status=args.status, send_welcome=args.send_welcome, offer=args.offer
        ),
        seed=args.seed,
        **{**extra, **overrides},
    )


def _checked_url(option: str, value: str | None, example: str) -> str | None:
    """``value`` when it is a URL a request can go to; else a usage error saying what is
    expected, before anything starts (aiohttp's own complaint is just the string back)."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InputError(
            f"{option} {value!r} is not a URL; expected an absolute http:// or https:// URL "
            f"such as {example}"
        )
    return value


def account_credentials(
    api_key: str | None, public_key: str | None, secret_key: str | None
) -> RefersionCredentials:
    """The fake account's keys. Given explicitly, they are used as given (a mismatch with
    ``--api-key`` is then what the user asked for); otherwise a well-formed ``--api-key``
    makes the account the user's own, so their key setting works without repeating it."""
    default = RefersionCredentials()
    if public_key or secret_key:
        return RefersionCredentials(
            public_key=public_key or default.public_key,
            secret_key=secret_key or default.secret_key,
        )
    public, _, secret = (api_key or "").partition(".")
    if public and secret:
        return RefersionCredentials(public_key=public, secret_key=secret)
    return default


def mapping_from_args(args: argparse.Namespace) -> Mapping | None:
    """The ``--mapping`` callable (imported relative to the current directory), else ``None``."""
    if args.mapping is None:
        return None
    from emulator.destination.mapping_loader import load_mapping

    return load_mapping(args.mapping, search_path=os.getcwd())


def hypothesis_home(cwd: str | None = None) -> Path:
    """Where Hypothesis keeps the example database (failures replayed first next time) and its
    caches for commands run in ``cwd``: the user's cache directory, one folder per project
    directory, never the directory itself (``$XDG_CACHE_HOME``, else ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    project = hashlib.sha256((cwd or os.getcwd()).encode()).hexdigest()[:16]
    return Path(base) / "refersion-emulator" / "hypothesis" / project


@contextmanager
def hypothesis_storage() -> Iterator[Path]:
    """Hypothesis' home set to :func:`hypothesis_home` while a command runs, then restored:
    by default Hypothesis writes ``.hypothesis/`` into the user's working directory."""
    from hypothesis import configuration

    previous = configuration.storage_directory(intent_to_write=False).home_directory
    home = hypothesis_home()
    configuration.set_hypothesis_home_dir(home)
    try:
        yield home
    finally:
        configuration.set_hypothesis_home_dir(previous)
