"""Sub-commands of the ``placematch`` command line.

Each module listed in :data:`COMMAND_MODULES` exposes ``register(subparsers)``, which adds
its parser(s) and sets ``func`` to a callable taking the parsed arguments and returning an
exit code. Modules are imported only when the command line starts, never on package import.
"""

COMMAND_MODULES: tuple[str, ...] = ()
