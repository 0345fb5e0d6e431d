"""segment-refersion-emulator: a local testing and contract emulator for Segment → Refersion."""
