"""Sub-commands of the ``placematch`` command line.

Every module in this package exposes ``register(subparsers)``, which adds its parser(s)
and sets ``func`` to a callable taking the parsed arguments and returning an exit code.
Modules are found and imported only when the command line starts, never on package import.
"""

from __future__ import annotations

import pkgutil


def command_modules() -> tuple[str, ...]:
    """Names of the sub-command modules, sorted so that help output is stable."""
    return tuple(
        sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    )
