"""``placematch referral DIR --child ID --top K --out DIR``: referrals to a shortlist.

Takes the child's best K eligible vacancies (``rank``: terms of approval, registration and
the capabilities the child needs all fit; no provider that declined the child; a pooled
folder's child under its authority's policy table, and under ``--scoring``'s set when given)
and writes one referral per provider among them, never one to every provider:

* ``referral_<child>_<provider>.md`` and ``.json``: the provider's copy, a non-identifying
  summary (age, sex, needs, placing authority and home district, dates, sibling group) and
  how to answer (:mod:`matcher.referral`); no name, postcode, school or date of birth;
* ``shortlist_<child>.md``: the officer's copy, the shortlisted vacancies with their points
  and reasons;
* ``referrals.csv``: what was sent to whom and when (``child_id, vacancy_id, provider_id,
  sent, rank, file``), appended to when the folder already holds one, so that the answers
  (``responses.csv`` in the case folder) can be matched to the referrals.

Nothing already written is overwritten: a referral file of the same child and provider is a
one-line error before anything is written.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from matcher.casefolder import load_case_folder
from matcher.contract import RESPONSES_FILE
from matcher.rank import UnknownIdError
from matcher.referral import Referral, build_referrals, need_meaning
from matcher.vocabulary import RESPONSE_REASON_MEANING, ResponseReason
from placematch.commands import _dates
from placematch.commands._args import add_scoring, whole_number
from placematch.commands._dates import add_on, dated
from placematch.commands._paths import output_folder

#: The index of what was sent (in ``--out``).
INDEX_FILE = "referrals.csv"
#: Its columns, in order (a public contract).
INDEX_COLUMNS: tuple[str, ...] = ("child_id", "vacancy_id", "provider_id", "sent", "rank", "file")
#: Vacancies shortlisted when ``--top`` is not given.
DEFAULT_TOP = 5


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``referral`` sub-command."""
    p = subparsers.add_parser(
        "referral",
        help="write referrals for one child to the providers of its best K eligible vacancies",
        description=(
            "Shortlist the child's best K eligible vacancies as placematch rank ranks them "
            "(hard rules passed: the provider's terms and capabilities fit; no provider that "
            "declined; with --scoring, under your own set) and write one "
            "referral per provider among them: a non-identifying summary (no name, postcode "
            "or school), the officer's shortlist with points, and referrals.csv, the record "
            "of what was sent to whom."
        ),
    )
    p.add_argument("folder", metavar="DIR", help="the case folder")
    p.add_argument("--child", required=True, metavar="ID", help="the child's child_id")
    p.add_argument(
        "--top",
        type=whole_number(1),
        default=DEFAULT_TOP,
        metavar="K",
        help=f"shortlist the best K eligible vacancies (default {DEFAULT_TOP}); one referral "
        "per provider among them",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the referrals")
    add_on(p)
    add_scoring(p, "shortlist the best K under your own factors and rules, as rank --scoring does")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=run)


def file_stem(child_id: str, provider_id: str) -> str:
    """``referral_<child>_<provider>``, ids made safe for a file name (``/`` and ``:``
    are percent-encoded, so different ids never share a file)."""
    return f"referral_{quote(child_id, safe='')}_{quote(provider_id, safe='')}"


def _lines(items: list[str]) -> list[str]:
    return [f"- {i}" for i in items] or ["- none"]


def render_referral(r: Referral, sent: str) -> str:
    """The provider's copy as Markdown (no name, postcode, school or points)."""
    c = r.child
    needs = [f"`{n}`: {need_meaning(n)}" for n in c.needs]
    required = [f"`{n}`" for n in r.required_capabilities]
    sex = {"M": "male", "F": "female"}.get(c.sex, c.sex)
    lines = [
        f"# Referral: child {r.child_id} to provider {r.provider_id}",
        "",
        f"Sent {sent} by {r.authority} ({r.authority_code}). Answer with the reference "
        f"**{r.child_id}**.",
        "",
        "A non-identifying summary: no name, date of birth, address or school. The full "
        "referral papers follow if you can consider the child.",
        "",
        "## The child",
        "",
        f"- Age: {c.age}",
        f"- Sex: {sex}",
        f"- Placing authority: {r.authority} ({r.authority_code})",
        f"- Home area: {r.home_area or _no_home(c.needs)}",
        f"- Placement needed from: {r.needed_from.isoformat() if r.needed_from else 'not set'}"
        + (f" (urgency: {r.urgency})" if r.urgency else ""),
        f"- Placement types the care plan accepts: {', '.join(r.placement_types)}",
        "",
        "Needs:",
        *_lines(needs),
        "",
        "Capabilities the placement must have:",
        *_lines(required),
    ]
    if r.siblings:
        lines += [
            "",
            f"To be placed together with {len(r.siblings)} "
            f"sibling{'s' if len(r.siblings) != 1 else ''} (a group of {len(r.siblings) + 1}):",
            *[
                f"- age {s.age}, {'male' if s.sex == 'M' else 'female'}"
                + (f"; needs {', '.join(s.needs)}" if s.needs else "")
                for s in r.siblings
            ],
        ]
    lines += [
        "",
        "## Your vacancies referred",
        "",
        "Each fits the placement types the plan accepts, your terms of approval or "
        "registration (ages, sex, beds) and the capabilities the child needs, as recorded.",
        "",
        "| vacancy | type | beds | ages | takes | free from | free until |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in r.vacancies:
        lines.append(
            f"| {v.vacancy_id} | {v.placement_type} | {v.beds} | {v.age_min}-{v.age_max} | "
            f"{v.sex} | {v.available_from or 'now'} | {v.available_until or '-'} |"
        )
    codes = [f"`{x.value}`: {RESPONSE_REASON_MEANING[x]}" for x in ResponseReason]
    lines += [
        "",
        "## How to answer",
        "",
        f"One row per vacancy, as in the case folder's `{RESPONSES_FILE}`:",
        "",
        "```",
        "vacancy_id,child_id,response,reason",
        *[f"{v.vacancy_id},{r.child_id},offer|consider|decline,REASON" for v in r.vacancies],
        "```",
        "",
        "`response`: `offer`, `consider` (or more information needed) or `decline`. "
        "`reason`: required for a decline, one of:",
        "",
        *_lines(codes),
        "",
    ]
    return "\n".join(lines)


def render_shortlist(child_id: str, referrals: list[Referral], sent: str) -> str:
    """The officer's copy: each shortlisted vacancy, its provider, points and reasons."""
    lines = [
        f"# Shortlist for child {child_id} (officer's copy)",
        "",
        f"Referred {sent}: {_count(sum(len(r.vacancies) for r in referrals), 'vacancy')} at "
        f"{_count(len(referrals), 'provider')}. Points and their "
        "reasons stay here; the providers get the summary only.",
        "",
        "| rank | vacancy | provider | type | points | miles | sign-offs | answer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = sorted(
        (rank, o, r.provider_id)
        for r in referrals
        for rank, o in zip(r.ranks, r.options, strict=True)
    )
    for rank, o, provider in rows:
        miles = "-" if o.distance_miles is None else f"{o.distance_miles:.1f}"
        signoffs = ", ".join(s.code for s in o.signoffs) or "-"
        lines.append(
            f"| {rank} | {o.vacancy_id} | {provider} | {o.placement_type} | {o.score} | "
            f"{miles} | {signoffs} | {o.response or '-'} |"
        )
    for rank, o, _ in rows:
        lines += ["", f"## {rank}. {o.vacancy_id}: {o.score} points", ""]
        lines += [f"- {f.factor}: {f.points} ({f.reason})" for f in o.factors]
    lines.append("")
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n} {noun if n == 1 else plural}"


def _index_rows(out: Path) -> list[dict[str, str]]:
    """The rows already in ``referrals.csv`` (its header checked), or none."""
    path = out / INDEX_FILE
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != INDEX_COLUMNS:
            raise ValueError(
                f"{path}:1: header is not {','.join(INDEX_COLUMNS)}; expected the index "
                "placematch referral writes (choose another --out)"
            )
        return list(reader)


def run(args: argparse.Namespace) -> int:
    """Run ``placematch referral``."""
    out = output_folder(args.out, "--out")
    from matcher.pooled import folder_for_child

    folder = dated(load_case_folder(args.folder), args.on)
    # the child is ranked as placematch rank ranks it: a pooled folder's child under its own
    # authority's policy table, and under --scoring's set when given
    own = folder_for_child(folder, args.child)
    scoring = None if args.scoring is None else args.scoring(own)
    try:
        referrals = list(build_referrals(own, args.child, args.top, scoring=scoring))
    except UnknownIdError as exc:
        message = str(exc.args[0]).replace("this case folder", f"case folder {args.folder}")
        raise UnknownIdError(message) from None
    # The date the referral is sent as: the --on date when given (an officer writing the
    # referrals of a planned date, or recording ones sent earlier), else today.
    sent = (args.on if args.on is not None else _dates.clock()).isoformat()
    stems = [file_stem(r.child_id, r.provider_id) for r in referrals]
    shortlist = out / f"shortlist_{quote(args.child, safe='')}.md"
    targets = [out / f"{s}{ext}" for s in stems for ext in (".md", ".json")]
    if referrals:
        targets.append(shortlist)
    for path in targets:
        if path.exists():
            raise ValueError(
                f"--out {args.out!r} already holds {path.name}: referrals already written are "
                "never overwritten; choose another --out"
            )
    previous = _index_rows(out)
    written: list[dict[str, Any]] = []
    if referrals:
        out.mkdir(parents=True, exist_ok=True)
        rows = list(previous)
        for r, stem in zip(referrals, stems, strict=True):
            (out / f"{stem}.md").write_text(render_referral(r, sent), encoding="utf-8")
            data = {"sent": sent, **r.to_dict()}
            (out / f"{stem}.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            for rank, v in zip(r.ranks, r.vacancies, strict=True):
                rows.append(
                    {
                        "child_id": r.child_id,
                        "vacancy_id": v.vacancy_id,
                        "provider_id": r.provider_id,
                        "sent": sent,
                        "rank": str(rank),
                        "file": f"{stem}.md",
                    }
                )
            written.append(
                {
                    "provider_id": r.provider_id,
                    "vacancy_ids": [v.vacancy_id for v in r.vacancies],
                    "files": [f"{stem}.md", f"{stem}.json"],
                }
            )
        shortlist.write_text(render_shortlist(args.child, referrals, sent), encoding="utf-8")
        with (out / INDEX_FILE).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(INDEX_COLUMNS), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    if args.json:
        summary = {
            "child_id": args.child,
            "out": str(out),
            "sent": sent,
            "top": args.top,
            "referrals": written,
            "index": str(out / INDEX_FILE) if referrals else None,
        }
        print(json.dumps(summary, indent=2))
        return 0
    if not referrals:
        print(
            f"No referral written for child {args.child}: no eligible vacancy "
            f"(see placematch rank {args.folder} --child {args.child})."
        )
        return 0
    n = sum(len(w["vacancy_ids"]) for w in written)
    print(
        f"Wrote {_count(len(written), 'referral')} for child {args.child} "
        f"({_count(n, 'vacancy')} of the best {args.top} eligible) to {out}:"
    )
    for w in written:
        print(f"  {w['provider_id']:<12} {', '.join(w['vacancy_ids']):<24} {w['files'][0]}")
    print(f"  shortlist with points: {shortlist.name}; record of what was sent: {INDEX_FILE}")
    return 0


def _no_home(needs: tuple[str, ...]) -> str:
    """The home area line of a child without a home postcode: why there is none."""
    if "uasc" in needs:
        return "none recorded (separated migrant child)"
    return "not known (the home postcode is recorded as unknown)"
