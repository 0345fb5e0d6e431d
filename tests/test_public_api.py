"""``emulator``'s public API is exactly what its ``__all__`` names, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import emulator
from emulator.server.background import BackgroundEmulator
from emulator.server.emulator import Emulator

PUBLIC = [
    "AssumptionChoices",
    "BackgroundEmulator",
    "DestinationSettings",
    "Emulator",
    "EmulatorConfig",
    "EmulatorError",
    "Mapping",
    "MappingSettings",
    "Operation",
    "RefersionCredentials",
    "Rejection",
    "load_mapping",
    "map_message",
]


def test_all_is_the_sorted_public_api() -> None:
    assert emulator.__all__ == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(emulator, name) is not None


def test_the_server_classes_are_the_real_ones() -> None:
    assert emulator.Emulator is Emulator
    assert emulator.BackgroundEmulator is BackgroundEmulator


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Emulatr'"):
        _ = emulator.Emulatr


def test_importing_the_package_or_its_pytest_plugin_loads_next_to_nothing() -> None:
    """Every pytest run in an environment with this package loads the plugin: keep it cheap."""
    code = (
        "import sys, emulator, emulator.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('emulator', 'aiohttp', 'pycountry', 'jsonschema', 'email_validator')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = done.stdout.strip()
    # emulator.access is stdlib-only: config needs it to refuse exposing the emulator untokened;
    # the assumption registry is plain data: config carries the variants in force.
    expected = ["emulator", "emulator.access", "emulator.assumptions"]
    expected += ["emulator.assumptions.choices", "emulator.assumptions.notes"]
    expected += ["emulator.assumptions.registry", "emulator.config", "emulator.errors"]
    assert loaded == str([*expected, "emulator.pytest_plugin", "emulator.version"])


def test_dir_lists_the_public_names() -> None:
    assert set(PUBLIC) <= set(dir(emulator))
