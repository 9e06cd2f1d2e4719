"""The ``newsflow`` command's entry point: Prefect's temporary server launched before anything else.

``newsflow run`` spends most of its start-up waiting for Prefect's temporary API server, which
takes some 3-4 s of CPU to import Prefect's server and answer. :mod:`flows.cli` launches it as
soon as ``run`` has its options, but by then the command has imported typer and rich and typer
has parsed the command line (about 0.25 s, typer importing pydantic for its coercions). This
module reads only whether the arguments ask for a run that needs that server (``run``, without
``--help`` or ``--dask-address``) and whether they ask for ``--verbose`` (the log level the
server runs with), launches the server if so, and only then imports the command line.
``run`` adopts the server when its parsed options agree (:func:`flows.ephemeral.take_early`);
whatever else happens (``--help``, a usage error, a missing raw directory, the guess about
``--verbose`` wrong), the server is stopped before the command ends.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def early_run(args: Sequence[str]) -> bool | None:
    """For ``newsflow <args>``: None when they ask for no run that would start Prefect's
    temporary server (another command, ``--help``, ``--dask-address``); else whether they ask
    for ``--verbose`` (``-v``). A guess from the words alone: ``run`` parses them again."""
    if not args or args[0] != "run":
        return None
    rest = list(args[1:])
    if "--" in rest:
        rest = rest[: rest.index("--")]
    if any(a == "--help" or a == "--dask-address" or a.startswith("--dask-address=") for a in rest):
        return None
    return "--verbose" in rest or "-v" in rest


def main(argv: Sequence[str] | None = None) -> None:
    """``newsflow``: launch Prefect's temporary server when a run will need it, then the command."""
    args = sys.argv[1:] if argv is None else list(argv)
    verbose = early_run(args)
    from flows import ephemeral  # (the flows package first: newsflow's Prefect settings)

    if verbose is not None:
        ephemeral.launch_early(verbose)
    try:
        from flows.cli import app

        app(args=args)
    finally:
        ephemeral.discard_early()


if __name__ == "__main__":  # pragma: no cover
    main()
