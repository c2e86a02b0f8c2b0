"""Command line: ``relubench solvers | datasets | solve | attack | sweep | report | recover | asv-offline``.

Bad input is reported as one line on stderr (``relubench: error: ...``) with exit code 2, and nothing is
written. Solver outcomes (including failures and unavailable backends) are results, reported with status.
Modules: ``parser`` (arguments), ``commands`` (one function per subcommand), ``output`` (progress and tables).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from relubench.cli.commands import (
    cmd_asv_offline,
    cmd_attack,
    cmd_datasets,
    cmd_path,
    cmd_publish,
    cmd_recover,
    cmd_report,
    cmd_solve,
    cmd_solvers,
    cmd_sweep,
)
from relubench.cli.parser import build_parser
from relubench.errors import ReluBenchError

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        "solve": cmd_solve,
        "solvers": cmd_solvers,
        "datasets": cmd_datasets,
        "sweep": cmd_sweep,
        "report": cmd_report,
        "asv-offline": cmd_asv_offline,
        "publish": cmd_publish,
        "recover": cmd_recover,
        "attack": cmd_attack,
        "path": cmd_path,
    }
    handler = handlers[args.command]
    try:
        return handler(args)
    except ReluBenchError as exc:
        sys.stderr.write(f"relubench: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("relubench: interrupted\n")
        return 130
    except BrokenPipeError:  # the reader went away (`relubench solvers | head`): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
