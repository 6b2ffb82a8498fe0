"""The ``placematch`` command line.

Errors a user can act on (bad input, unknown postcode, missing file) are printed as one
line on stderr with exit status 2, never as a traceback. ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from placematch import __version__
from placematch.commands import command_modules

#: Exit status for input a user can correct.
EXIT_USAGE = 2
#: Exit status for a fault in placematch itself.
EXIT_INTERNAL = 1


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="placematch",
        description="Placement matching for English children's services.",
    )
    parser.add_argument("--version", action="version", version=f"placematch {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show a full traceback when something fails"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        module = importlib.import_module(f"placematch.commands.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    parser = build_parser()
    # A command that hands its arguments to another runner (``bench``) sets ``pass_through``
    # and receives what argparse does not know as ``args.arguments``; any other command
    # rejects unknown arguments as before.
    args, unknown = parser.parse_known_args(argv)
    if getattr(args, "pass_through", False):
        args.arguments = [*getattr(args, "arguments", []), *unknown]
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        status = args.func(args)
    except KeyboardInterrupt:
        print("placematch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``placematch ... | head``): not an error. Point stdout at
        # devnull so that the interpreter's final flush does not complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, LookupError, OSError) as exc:
        # Input a user can correct. Messages are written to name files, rows and fields,
        # never the personal data in them.
        if args.debug:
            raise
        print(f"placematch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug in placematch: say so in one line
        if args.debug:
            raise
        print(
            f"placematch: internal error ({type(exc).__name__}); rerun with --debug for details",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
