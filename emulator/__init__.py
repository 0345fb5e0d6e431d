"""segment-refersion-emulator: a local testing and contract emulator for Segment → Refersion."""

__version__ = "0.1.0"
