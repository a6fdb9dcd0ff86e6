"""Subcommands of the ``durasim`` command, one module each.

Every module here defines ``register(subparsers)``, which adds its parser and sets
``run=<function(args) -> int>`` as a default. :func:`durasim.cli.build_parser` finds them
all, so a new command is a new file.
"""
