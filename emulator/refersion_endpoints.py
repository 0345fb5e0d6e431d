"""The Refersion REST API v2 endpoints the emulator's fake answers, by name.

A fact about Refersion's API, shared as a leaf: the fake Refersion serves these, and a fault
rule's ``endpoint`` glob must match one of them. Neither needs the other to know the list.
"""

from __future__ import annotations

__all__ = ["AFFILIATE_ENDPOINTS"]

# Paths under ``/v2/``, in the order Refersion's reference lists them.
AFFILIATE_ENDPOINTS: tuple[str, ...] = (
    "affiliate/new",
    "affiliate/get",
    "affiliate/list",
    "affiliate/search",
    "affiliate/edit",
    "affiliate/status_change",
    "affiliate/delete",
)
