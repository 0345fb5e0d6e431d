"""Every exception the package defines sits in the one tree errors.py documents."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import emulator
import emulator.errors

__all__: list[str] = []

# Running __main__ would start the CLI.
_NOT_IMPORTED = {"emulator.__main__"}


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(emulator.__path__, "emulator."):
        if info.name in _NOT_IMPORTED:
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            is_exception = inspect.isclass(value) and issubclass(value, BaseException)
            if is_exception and value.__module__ == info.name:
                found[value.__name__] = value
    return found


def _documented_parents() -> dict[str, str]:
    """Each class in the docstring's tree drawing → the class one level up."""
    parents: dict[str, str] = {}
    open_rows: list[tuple[int, str]] = []  # (column of the name, name), root first
    for line in (emulator.errors.__doc__ or "").splitlines():
        match = re.match(r"^([ │├└─]*)([A-Z]\w+)(\s|$)", line)
        if match is None or (match.group(1) == "" and match.group(2) != "EmulatorError"):
            continue
        column, name = len(match.group(1)), match.group(2)
        while open_rows and open_rows[-1][0] >= column:
            open_rows.pop()
        if open_rows:
            parents[name] = open_rows[-1][1]
        open_rows.append((column, name))
    return parents


CLASSES = _exception_classes()
PARENTS = _documented_parents()


def test_the_tree_documents_every_exception_the_package_defines() -> None:
    assert set(CLASSES) == {*PARENTS, "EmulatorError"}


@pytest.mark.parametrize("name", sorted(PARENTS))
def test_each_exception_subclasses_its_documented_parent(name: str) -> None:
    assert CLASSES[name].__bases__ == (CLASSES[PARENTS[name]],)
