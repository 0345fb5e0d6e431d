"""One module per ``refersion-emulator`` command: ``NAME``, ``HELP``, ``add_arguments``, ``run``."""
