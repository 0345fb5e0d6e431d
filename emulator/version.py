"""The package's version, in a leaf of its own so the server can report it without importing
the package's face (which loads the server lazily)."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
