"""``placematch rank`` and ``placematch why-not``: one child's options, and why not another.

``rank DIR --child ID [--top K] [--json]`` scores every eligible vacancy for one child, best
first, with the points of each factor, the distances, in or out of area and the sign-offs each
option would trigger; below the list, how many vacancies each hard rule excluded. It never
waits on an optimisation of everyone.

``why-not DIR --child ID --vacancy ID [--json]`` answers with the hard rule that excludes the
vacancy, or with the points it gains and loses against the child's best option.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence

from matcher.casefolder import load_case_folder
from matcher.domain import CaseFolder
from matcher.explain import Option, Ranking, WhyNot
from matcher.factors import DEFAULT_FACTORS, FACTOR_REFERENCES, FACTOR_SHORT, Factor
from matcher.rank import (
    EMERGENCY_WITHIN_DAYS,
    SoonFree,
    UnknownIdError,
    declined,
    rank_child,
    soon_free,
    why_not,
)
from matcher.rules import DeclinedByProvider
from matcher.scoring import Scoring
from placematch.commands._args import add_scoring, whole_number
from placematch.commands._dates import add_on, dated
from placematch.commands._table import fit_lines, render_table, terminal_width

#: Short column headers of the factors in the table (each factor's ``short``).
SHORT: dict[str, str] = FACTOR_SHORT


def render_soon_free(day: dt.date | None, found: Sequence[SoonFree], days: int) -> str:
    """The lines ``placematch rank`` prints below the ranking for ``--within-days``."""
    if day is None:
        return ""
    head = f"Free within {days} days of {day.isoformat()} (not free on that date):"
    if not found:
        return f"{head} none."
    lines = [head]
    width = max(len(s.vacancy_id) for s in found)
    for s in found:
        until = "" if s.available_until is None else f" until {s.available_until.isoformat()}"
        lines.append(
            f"  {s.vacancy_id:<{width}}  {s.placement_type}  from {s.available_from.isoformat()}"
            f"{until}"
        )
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``rank`` and ``why-not`` sub-commands."""
    rank = subparsers.add_parser(
        "rank",
        help="rank every eligible vacancy for one child, with points per factor",
        description=(
            "Score every vacancy for one child: eligible ones best first (connected persons "
            "first, then points), with points per factor, miles from home and school, in or out "
            "of area and the sign-offs each would need; then the vacancies each hard rule "
            "excluded."
        ),
    )
    rank.add_argument("folder", metavar="DIR", help="the case folder")
    rank.add_argument("--child", required=True, metavar="ID", help="the child's child_id")
    rank.add_argument(
        "--top", type=whole_number(1), metavar="K", help="show only the best K options (K >= 1)"
    )
    rank.add_argument(
        "--excluded",
        action="store_true",
        help="also list each excluded vacancy with the rule that excludes it",
    )
    add_on(rank)
    rank.add_argument(
        "--within-days",
        type=whole_number(0),
        default=None,
        metavar="N",
        help="also list vacancies excluded only because they are not yet free but free "
        f"within N days of the child's date (default {EMERGENCY_WITHIN_DAYS} for an "
        "emergency, else 0): a bridging placement now and a planned move then",
    )
    add_scoring(rank)
    rank.add_argument("--json", action="store_true", help="print the ranking as JSON")
    rank.set_defaults(func=run_rank)

    why = subparsers.add_parser(
        "why-not",
        help="why a vacancy is not (or is) a child's best option",
        description=(
            "Name the hard rule (and its source) that excludes a vacancy for a child, or show "
            "the points it gains and loses against the child's best option."
        ),
    )
    why.add_argument("folder", metavar="DIR", help="the case folder")
    why.add_argument("--child", required=True, metavar="ID", help="the child's child_id")
    why.add_argument("--vacancy", required=True, metavar="ID", help="the vacancy_id")
    add_on(why)
    add_scoring(why)
    why.add_argument("--json", action="store_true", help="print the answer as JSON")
    why.set_defaults(func=run_why_not)


def _scoring(args: argparse.Namespace, folder: CaseFolder) -> Scoring | None:
    """``--scoring``'s set for the folder, or ``None`` (the folder's own)."""
    return None if args.scoring is None else args.scoring(folder)


def _where(exc: UnknownIdError, folder: str) -> UnknownIdError:
    return UnknownIdError(str(exc.args[0]).replace("this case folder", f"case folder {folder}"))


def _miles(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render_ranking(
    ranking: Ranking,
    *,
    excluded: bool = False,
    weekly_cost: Mapping[str, int] | None = None,
    width: int | None = None,
    factors: Sequence[Factor] | None = None,
) -> str:
    """The human table printed by ``placematch rank`` (``excluded``: list each exclusion;
    ``weekly_cost``: vacancy id -> weekly cost in pounds, a column when given; ``width``:
    the terminal's columns to fit, or None for the natural width; ``factors``: the factor
    columns, each under its ``short`` header, default
    :data:`~matcher.factors.DEFAULT_FACTORS`)."""
    if factors is None:
        factors = DEFAULT_FACTORS
    short = {**SHORT, **{f.name: f.short for f in factors}}
    references = {**FACTOR_REFERENCES, **{f.name: f.reference for f in factors}}
    # The factors the options were scored on: without residents.csv, not those about residents.
    scored = {f.factor for o in ranking.options[:1] for f in o.factors}
    names = [f.name for f in factors if not scored or f.name in scored]
    every = list(names)
    costs = weekly_cost is not None
    zero: list[str] = []
    if width is not None and ranking.options:
        head, rows = _rows(ranking, names, weekly_cost, short)
        if max(len(line) for line in render_table(head, rows)) > width:
            # Too wide for the terminal: a factor worth 0 to every option shown tells
            # nothing in a column (the legend below still names it).
            zero = [n for n in names if all(o.points_of(n) == 0 for o in ranking.options)]
            names = [n for n in names if n not in zero]
    head, rows = _rows(ranking, names, weekly_cost, short)
    answers = any(o.response is not None for o in ranking.options)
    shown = len(ranking.options)
    lines = [
        f"Child {ranking.child_id}: {ranking.n_eligible} eligible "
        + ("vacancy" if ranking.n_eligible == 1 else "vacancies")
        + (f" (best {shown} shown)" if shown < ranking.n_eligible else "")
    ]
    if rows:
        numeric = set(range(3, 4 + len(names) + 2 + costs))
        table = render_table(head, rows, numeric=numeric)
        if width is not None and max(len(line) for line in table) > width:
            table = _stacked(head, rows, n_points=4 + len(names), width=width)
        lines.extend(table)
        if zero:
            lines.append(
                "0 points for every option shown (no column): "
                + ", ".join(short.get(n, n) for n in zero)
                + "."
            )
        lines.append(
            "* connected-person carer (top tier, s22C(7)(a)). In area: in, adj (an adjoining "
            "authority) or out."
            + (" £/week: the vacancy's weekly cost." if costs else "")
            + (
                " Response: the provider's answer to the referral; among equal points an "
                "offer comes first, then consider."
                if answers
                else ""
            )
        )
        lines.extend(_factor_legend(every, short, references))
        first = ranking.options[0]
        if first.distance_miles is None:
            # No home postcode: the distance columns show '-'; say why, once.
            home = next((f for f in first.factors if f.factor == "near_home"), None)
            if home is not None:
                lines.append(f"Near home: {home.reason}")
    else:
        lines.append("No eligible vacancy.")
    total = sum(ranking.excluded.values())
    noun = "vacancy" if total == 1 else "vacancies"
    lines.append(f"Excluded: {total} {noun}" + (":" if total else "."))
    for rule, n in ranking.excluded.items():
        lines.append(f"  {n:>4} by {rule} ({ranking.sources[rule]})")
    if excluded and ranking.exclusions:
        id_width = max(len(e.vacancy_id) for e in ranking.exclusions)
        lines.append("Excluded vacancies:")
        for e in ranking.exclusions:
            lines.append(f"  {e.vacancy_id:<{id_width}}  {e.rule}: {e.reason}")
    elif DeclinedByProvider.name in ranking.excluded:
        # Declines are listed whatever --excluded says: the officer needs their reasons.
        declined = [e for e in ranking.exclusions if e.rule == DeclinedByProvider.name]
        id_width = max(len(e.vacancy_id) for e in declined)
        lines.append("Declined by the provider:")
        for e in declined:
            lines.append(f"  {e.vacancy_id:<{id_width}}  {e.reason}")
    return "\n".join(fit_lines(lines, width))


#: The words of a detail line of a stacked ranking, by column header.
_DETAIL = {
    "miles": lambda v: f"{v} miles from home",
    "school mi": lambda v: f"school {v} miles",
    "£/week": lambda v: f"£{v} a week",
    "in area": lambda v: {"in": "in area", "adj": "adjoining authority"}.get(v, "out of area"),
    "sign-offs": lambda v: f"sign-offs: {'none' if v == '-' else v}",
    "response": lambda v: f"response: {v}",
}


def _stacked(
    head: Sequence[str], rows: Sequence[Sequence[str]], *, n_points: int, width: int
) -> list[str]:
    """A ranking too wide for the terminal: the points on one line per option, and its
    distances, cost, area and sign-offs on the line below (wrapped to ``width``)."""
    table = render_table(
        head[:n_points], [r[:n_points] for r in rows], numeric=set(range(3, n_points))
    )
    out = [table[0]]
    for line, row in zip(table[1:], rows, strict=True):
        out.append(line)
        detail = ", ".join(
            _DETAIL[h](v) for h, v in zip(head[n_points:], row[n_points:], strict=True)
        )
        out.extend(fit_lines(["     " + detail], width))
    return out


def _rows(
    ranking: Ranking,
    names: Sequence[str],
    weekly_cost: Mapping[str, int] | None,
    short: Mapping[str, str],
) -> tuple[list[str], list[list[str]]]:
    """The ranking table's header and rows with the factor columns ``names``."""
    costs = weekly_cost is not None
    head = ["#", "vacancy", "type", "total", *(short.get(n, n) for n in names)]
    head += ["miles", "school mi", *(["£/week"] if costs else []), "in area", "sign-offs"]
    # The providers' answers get a column only when there are any (the table is unchanged
    # for a folder without responses.csv).
    answers = any(o.response is not None for o in ranking.options)
    if answers:
        head.append("response")
    rows: list[list[str]] = []
    for i, o in enumerate(ranking.options, start=1):
        tier = "*" if o.connected_person else ""
        rows.append(
            [
                f"{i}{tier}",
                o.vacancy_id,
                o.placement_type,
                str(o.score),
                *(str(o.points_of(n)) for n in names),
                _miles(o.distance_miles),
                _miles(o.school_distance_miles),
                *([f"{weekly_cost[o.vacancy_id]:,}"] if weekly_cost is not None else []),
                "in" if o.in_area else ("adj" if o.adjoining else "out"),
                ", ".join(s.code for s in o.signoffs) or "-",
                *([_answer(o)] if answers else []),
            ]
        )
    return head, rows


def _factor_legend(
    names: Sequence[str], short: Mapping[str, str], references: Mapping[str, str]
) -> list[str]:
    """The factor columns, each with the statute (or other basis) its points rest on."""
    width = max(len(short.get(n, n)) for n in names)
    name_width = max(len(n) for n in names)
    return ["Points per factor, each under its statute:"] + [
        f"  {short.get(n, n):<{width}}  {n:<{name_width}}  {references[n]}" for n in names
    ]


def _answer(o: Option) -> str:
    if o.response is None:
        return "-"
    return o.response + ("" if o.response_reason is None else f" ({o.response_reason})")


def _factor_diffs(diffs: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:+d}" for k, v in diffs.items()) or "none"


def _higher_tier(best: Option, option: Option) -> str:
    """Why the best option outranks ``option`` whatever the points: which tier it is in."""
    if best.connected_person and not option.connected_person:
        return (
            "The best option is a connected-person carer of the child: it comes before every "
            "other option whatever the points (s22C(7)(a))."
        )
    return (
        "The best option is in area and the policy makes in area a tier (in_area_tier): it "
        "comes before every out-of-area option whatever the points (s22C(9))."
    )


def render_why_not(answer: WhyNot) -> str:
    """The human answer printed by ``placematch why-not``."""
    head = f"Child {answer.child_id}, vacancy {answer.vacancy_id}:"
    if answer.exclusion is not None:
        e = answer.exclusion
        lines = [f"{head} excluded by {e.rule} ({e.source}).", f"  {e.reason}"]
        if answer.also_broken:
            lines.append(f"  Also breaks: {', '.join(answer.also_broken)}.")
        return "\n".join(lines)
    o: Option | None = answer.option
    assert o is not None
    best = answer.best
    lines = [f"{head} eligible, {o.score} points (tier {o.tier})."]
    if best is not None and best.vacancy_id == o.vacancy_id:
        lines.append("  It is the best option.")
    elif best is not None:
        lines.append(f"  Best option: {best.vacancy_id}, {best.score} points (tier {best.tier}).")
        if best.tier > o.tier:
            lines.append(f"  {_higher_tier(best, o)}")
        lines.append(f"  Gains: {_factor_diffs(answer.gains)}")
        lines.append(f"  Losses: {_factor_diffs(answer.losses)}")
    for f in o.factors:
        cite = f" ({f.reference})" if f.reference else ""
        lines.append(f"  {f.factor:<17} {f.points:>5}  {f.reason}{cite}")
    if o.signoffs:
        lines.append("  Sign-offs: " + ", ".join(s.code for s in o.signoffs))
    return "\n".join(lines)


def run_rank(args: argparse.Namespace) -> int:
    """Run ``placematch rank``."""
    from matcher.pooled import folder_for_child

    folder = dated(load_case_folder(args.folder), args.on)
    # a pooled folder's child is scored under its own authority's policy table
    own = folder_for_child(folder, args.child)
    scoring = _scoring(args, own)
    try:
        ranking = rank_child(own, args.child, args.top, scoring=scoring)
    except UnknownIdError as exc:
        raise _where(exc, args.folder) from None
    child = folder.child(args.child)
    days = args.within_days
    if days is None:
        days = EMERGENCY_WITHIN_DAYS if child.is_emergency else 0
    day, found = soon_free(folder, args.child, days, scoring=scoring)
    cost = {v.vacancy_id: v.weekly_cost for v in folder.vacancies}
    if args.json:
        data = ranking.to_dict()
        for option in data["options"]:
            option["weekly_cost"] = cost[option["vacancy_id"]]
        data["date"] = None if day is None else day.isoformat()
        data["urgency"] = None if child.urgency is None else child.urgency.value
        data["declined"] = declined(folder, args.child)
        if days:
            data["within_days"] = days
            data["free_within_days"] = [s.to_dict() for s in found]
        print(json.dumps(data, indent=2))
    else:
        print(
            render_ranking(
                ranking,
                excluded=args.excluded,
                weekly_cost=cost,
                width=terminal_width(),
                factors=Scoring.of(own, scoring).factors,
            )
        )
        if days:
            print(render_soon_free(day, found, days))
    return 0


def run_why_not(args: argparse.Namespace) -> int:
    """Run ``placematch why-not``."""
    from matcher.pooled import folder_for_child

    folder = dated(load_case_folder(args.folder), args.on)
    own = folder_for_child(folder, args.child)
    scoring = _scoring(args, own)
    try:
        if own is not folder and not any(v.vacancy_id == args.vacancy for v in own.vacancies):
            # Another authority's connected-person carer, left out of the child's authority's
            # folder: excluded by a hard rule under any policy, so asked of the whole folder;
            # the best option is still scored under the child's authority's policy.
            ranked = rank_child(own, args.child, 1, scoring=scoring).options
            answer = dataclasses.replace(
                why_not(folder, args.child, args.vacancy, scoring=scoring),
                best=ranked[0] if ranked else None,
            )
        else:
            answer = why_not(own, args.child, args.vacancy, scoring=scoring)
    except UnknownIdError as exc:
        raise _where(exc, args.folder) from None
    if args.json:
        data = answer.to_dict()
        recorded = folder.response(args.child, args.vacancy)
        data["response"] = None if recorded is None else recorded.response.value
        data["response_reason"] = (
            None if recorded is None or recorded.reason is None else recorded.reason.value
        )
        print(json.dumps(data, indent=2))
    else:
        print(render_why_not(answer))
    return 0
