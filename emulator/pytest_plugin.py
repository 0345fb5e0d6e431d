"""pytest plugin (entry point ``pytest11``): the ``refersion_emulator`` fixture and marker.

An edge like the CLI: one :class:`~emulator.server.background.BackgroundEmulator` per session,
reset before every test, so sync and async tests alike get a running emulator with fresh
state. The server is imported when a test first asks for it, so having the package installed
costs unrelated test suites next to nothing.

    @pytest.mark.refersion_emulator(status="ACTIVE")
    def test_signup(refersion_emulator):
        analytics.host = refersion_emulator.segment_host
        ...
        refersion_emulator.assert_affiliate(email="peter@example.com", status="ACTIVE")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from emulator.assumptions import AssumptionChoices
from emulator.config import EmulatorConfig
from emulator.errors import EmulatorError

if TYPE_CHECKING:
    from emulator.destination.mapping import Mapping
    from emulator.server.background import BackgroundEmulator

__all__ = [
    "MARKER",
    "pytest_addoption",
    "pytest_configure",
    "refersion_emulator",
    "refersion_emulator_config",
    "refersion_emulator_server",
]

MARKER = "refersion_emulator"
_MARKER_HELP = (
    f"{MARKER}(api_key=, mapping=, status=, send_welcome=, offer=, assume=): the "
    "refersion_emulator fixture for this test: api_key is the destination's one Segment "
    "setting; status, send_welcome and offer are the emulator's choices about new affiliates "
    "(assumptions); assume={id: variant} picks variants of the emulator's assumptions "
    "(refersion-emulator assumptions lists them)"
)
_DESTINATION_SETTINGS = ("offer", "send_welcome", "status")
_SETTINGS = (*_DESTINATION_SETTINGS, "api_key", "mapping", "assume")
_MAPPING_OPTION = "--refersion-emulator-mapping"
_MAPPING_KEY: pytest.StashKey[Mapping | None] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("refersion-emulator")
    group.addoption(
        _MAPPING_OPTION,
        metavar="MODULE:CALLABLE",
        help="run the refersion_emulator fixture with your own mapping instead of the built-in",
    )
    parser.addini(
        "refersion_emulator_mapping",
        help=f"default for {_MAPPING_OPTION} (MODULE:CALLABLE)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)
    spec = config.getoption(_MAPPING_OPTION) or config.getini("refersion_emulator_mapping")
    mapping = None
    if spec:
        from emulator.destination.mapping_loader import load_mapping

        try:
            mapping = load_mapping(str(spec), search_path=str(config.rootpath))
        except EmulatorError as exc:
            raise pytest.UsageError(f"{_MAPPING_OPTION}: {exc}") from None
    config.stash[_MAPPING_KEY] = mapping


@pytest.fixture(scope="session")
def refersion_emulator_config() -> EmulatorConfig:
    """What the session's emulator starts with; override this fixture to change it.

    Retries are quick (a 10 s budget instead of Segment's 4 hours) so a fault in a test ends
    in seconds.
    """
    return EmulatorConfig(
        port=0, retry_initial_backoff=0.05, retry_max_backoff=0.5, retry_budget=10.0
    )


@pytest.fixture(scope="session")
def refersion_emulator_server(
    pytestconfig: pytest.Config, refersion_emulator_config: EmulatorConfig
) -> Iterator[BackgroundEmulator]:
    """The session's one running emulator; tests use :func:`refersion_emulator` instead."""
    from emulator.server.background import BackgroundEmulator

    mapping = pytestconfig.stash[_MAPPING_KEY]
    with BackgroundEmulator(refersion_emulator_config, mapping=mapping) as server:
        yield server


@pytest.fixture
def refersion_emulator(
    request: pytest.FixtureRequest, refersion_emulator_server: BackgroundEmulator
) -> BackgroundEmulator:
    """A running emulator with fresh state and the settings of this test's marker."""
    settings = _marker_settings(request.node)
    base = refersion_emulator_server.config
    try:
        destination = dataclasses.replace(
            base.destination,
            **{name: settings[name] for name in _DESTINATION_SETTINGS if name in settings},
        )
        assume = settings.get("assume") or {}
        if not isinstance(assume, dict):
            raise EmulatorError(f"assume must be a dict of assumption id → variant, got {assume!r}")
        AssumptionChoices.of(assume)
        mapping = settings.get("mapping")
        if isinstance(mapping, str):
            from emulator.destination.mapping_loader import load_mapping

            mapping = load_mapping(mapping, search_path=str(request.config.rootpath))
    except EmulatorError as exc:
        pytest.fail(f"@pytest.mark.{MARKER}: {exc}", pytrace=False)
    refersion_emulator_server.reset(
        destination=destination,
        api_key=settings.get("api_key"),
        mapping=mapping,
        assumptions=assume,
    )
    return refersion_emulator_server


def _marker_settings(node: pytest.Item) -> dict[str, Any]:
    """The markers' keyword arguments, the closest marker winning (function over class)."""
    settings: dict[str, Any] = {}
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            pytest.fail(
                f"@pytest.mark.{MARKER}: takes keyword arguments only, got {mark.args!r}",
                pytrace=False,
            )
        unknown = sorted(set(mark.kwargs) - set(_SETTINGS))
        if unknown:
            pytest.fail(
                f"@pytest.mark.{MARKER}: unknown setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(_SETTINGS))}",
                pytrace=False,
            )
        settings.update(mark.kwargs)
    return settings
