"""``placematch scenario``: commissioners' what-ifs.

Sub-commands (a nested parser, so that ``scenario run`` and ``scenario plan`` can join
them here):

* ``scenario forecast CONFIG.toml [--json] [--out DIR]``: a demand forecast, statement
  (deterministic) or stochastic (stock and flow) as the file's ``forecast.mode`` says.
* ``scenario backtest CONFIG.toml [--at DATE | --rolling] [--json] [--out DIR]``: fit a
  stochastic configuration on the data up to a date and score its forecast of the rest;
  ``--rolling`` does so at origins every 6 months and scores 12 and 24 months ahead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from placematch.commands._args import cutoff_date, probability
from placematch.commands._progress import RunProgress

#: Stochastic work (runs x steps) above which progress is shown on stderr.
_PROGRESS_WORK = 20_000


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``scenario`` and its sub-commands."""
    parser = subparsers.add_parser(
        "scenario",
        help="commissioners' what-ifs: demand forecasts, back-tests, supply scenarios",
        description="Commissioners' what-ifs: demand forecasts, back-tests, supply scenarios.",
    )
    parser.set_defaults(func=lambda args: _usage(parser))
    inner = parser.add_subparsers(dest="scenario_command", metavar="SUBCOMMAND")

    forecast = inner.add_parser(
        "forecast",
        help="forecast children in care by placement group (statement or stochastic)",
        description=(
            "Forecast children in care by placement group. forecast.mode in the file chooses "
            "statement (a total shared out by share rules, deterministic) or stochastic (a "
            "stock-and-flow simulation from SSDA903 episodes)."
        ),
    )
    _common(forecast)
    forecast.add_argument("--runs", type=int, help="stochastic runs (overrides forecast.runs)")
    forecast.add_argument("--seed", type=int, help="random seed (overrides forecast.seed)")
    forecast.add_argument(
        "--service-level",
        type=probability,
        metavar="P",
        help="probability that the places needed cover demand, e.g. 0.9 "
        "(overrides forecast.service_level)",
    )
    forecast.set_defaults(func=_forecast)

    back = inner.add_parser(
        "backtest",
        help="fit a stochastic forecast up to a date and score it against what happened",
        description=(
            "Fit the stochastic model on the data known at a date, forecast the months after "
            "it, and report the errors against what happened and against a naive trend."
        ),
    )
    _common(back)
    back.add_argument(
        "--at", type=cutoff_date, help="cut-off date yyyy-mm-dd (overrides backtest.at)"
    )
    back.add_argument(
        "--rolling",
        action="store_true",
        help="back-test at origins every 6 months: 12- and 24-month errors, P10-P90 cover",
    )
    back.add_argument("--runs", type=int, help="runs (overrides forecast.runs)")
    back.add_argument("--seed", type=int, help="random seed (overrides forecast.seed)")
    back.set_defaults(func=_backtest)

    from placematch.commands._scenario_whatif import add_parsers

    add_parsers(inner)  # scenario run, scenario plan (supply what-ifs)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", type=Path, metavar="CONFIG.toml", help="the forecast configuration")
    p.add_argument("--json", action="store_true", help="print JSON on stdout instead of a table")
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="also write forecast.json, .csv and .html here"
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _progress(args: argparse.Namespace, runs: int, months: int, label: str) -> RunProgress | None:
    """A progress bar on stderr for long work, after a line saying what will run."""
    if args.quiet or runs * months < _PROGRESS_WORK:
        return None
    progress = RunProgress(label)
    # The runs are simulated together, vectorised, in this process: one worker.
    progress.announce(f"{runs} runs on 1 worker (this process, vectorised)")
    return progress


def _region(config: Any, source: str, data: dict[str, Any], table: str) -> str:
    """A region forecast's authorities in its JSON (``region``, ``authorities``) and the
    table's first line; a single authority's output is left as it was."""
    from scenarios.forecast.config import forecast_region

    names, region = forecast_region(config, source=source)
    if not names:
        return table
    data["region"] = region
    data["authorities"] = list(names)
    how = (
        "pooled histories of"
        if config.forecast.mode == "stochastic"
        else "counts and total given for"
    )
    return f"Region{' ' + region if region else ''}: {how} {', '.join(names)}\n" + table


def _emit(
    args: argparse.Namespace, data: dict[str, Any], table: str, csv_text: str, page: str
) -> None:
    from scenarios.forecast.report import write_outputs

    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        from placematch.commands._table import fit_report, terminal_width

        # a table wider than the terminal is laid out again at its width (pipes unchanged)
        sys.stdout.write(fit_report(table, terminal_width()))
    if args.out is not None:
        written = write_outputs(args.out, data=data, csv_text=csv_text, html_text=page)
        if not args.json:
            sys.stdout.write("Wrote " + ", ".join(str(p) for p in written) + "\n")


def _forecast(args: argparse.Namespace) -> int:
    from scenarios.forecast import report
    from scenarios.forecast.config import load_config
    from scenarios.forecast.runner import (
        load_history,
        recorded_counts,
        run_statement,
        run_stochastic,
    )

    source = str(args.config)
    config = load_config(args.config)
    if args.service_level is not None:
        section = config.forecast.model_copy(update={"service_level": args.service_level})
        config = config.model_copy(update={"forecast": section})
    if config.forecast.mode == "statement":
        result = run_statement(config, source=source)
        data = report.statement_json(result)
        _emit(
            args,
            data,
            _region(config, source, data, report.statement_table(result)),
            report.statement_csv(result),
            report.statement_html(result),
        )
        return 0
    runs = args.runs if args.runs is not None else config.forecast.runs
    if runs < 1:
        raise ValueError("--runs must be at least 1")
    months = config.forecast.horizon_months or 24
    progress = _progress(args, runs, months, "forecast")
    history = load_history(config, args.config.parent, source=source)
    forecast = run_stochastic(
        config,
        args.config.parent,
        source=source,
        runs=runs,
        seed=args.seed,
        progress=progress,
        history=history,
    )
    data = report.stochastic_json(forecast)
    data["name"] = config.forecast.name
    _emit(
        args,
        data,
        _region(config, source, data, report.stochastic_table(forecast, name=config.forecast.name)),
        report.stochastic_csv(forecast),
        report.stochastic_html(
            forecast,
            name=config.forecast.name,
            history=recorded_counts(history, forecast.dates[0]),
        ),
    )
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from scenarios.forecast import report
    from scenarios.forecast.config import load_config
    from scenarios.forecast.runner import load_history, recorded_counts, run_backtest

    config = load_config(args.config)
    runs = args.runs if args.runs is not None else config.forecast.runs
    if runs < 1:
        raise ValueError("--runs must be at least 1")
    name = config.forecast.name
    if args.rolling:
        if args.at is not None:
            raise ValueError("--rolling chooses its own cut-offs: leave out --at")
        from scenarios.forecast.runner import run_rolling_backtest

        rolling = run_rolling_backtest(
            config,
            args.config.parent,
            source=str(args.config),
            runs=runs,
            seed=args.seed,
            progress=_progress(args, runs, 24, "backtest"),
        )
        data = report.rolling_json(rolling)
        data["name"] = name
        _emit(
            args,
            data,
            report.rolling_table(rolling, name=name),
            report.rolling_csv(rolling),
            report.rolling_html(rolling, name=name),
        )
        return 0
    progress = _progress(args, runs, config.forecast.horizon_months or 24, "backtest")
    history = (
        load_history(config, args.config.parent, source=str(args.config))
        if config.data is not None
        else None  # run_backtest says what is missing
    )
    result = run_backtest(
        config,
        args.config.parent,
        at=args.at,
        source=str(args.config),
        runs=runs,
        seed=args.seed,
        progress=progress,
        history=history,
    )
    data = report.backtest_json(result)
    data["name"] = name
    _emit(
        args,
        data,
        report.backtest_table(result, name=name),
        report.backtest_csv(result),
        report.backtest_html(
            result,
            name=name,
            history=None
            if history is None
            else recorded_counts(history.truncated(result.at), result.dates[0]),
        ),
    )
    return 0
