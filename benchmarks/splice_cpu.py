"""CPU time of one splice of a county's whole list (``placematch.service.answers.spliced``),
in process, without the server: after a vacancy's change (one vacancy assessed again) and
after a placement decision (the same, and every option's objective points written again).

Fixed, seeded work: the county tier's store (``benchmarks.service.TIERS["county"]``), its
first 60 children with two options or more, ten splices of each list per round, four rounds;
the best round is reported (CPU time, ``time.process_time``). With ``--against FILE`` an
older ``answers.py`` is timed too, in alternate rounds, and the bodies compared byte for byte.

    python -m benchmarks.splice_cpu [--against /tmp/answers_old.py]

Not part of ``python -m benchmarks``: a tool for comparing two versions of the splice.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import orjson


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    from benchmarks.service import TIERS
    from matcher.casefolder import load_case_folder
    from matcher.rank import option_order, ranking_data, refolded
    from matcher.scoring import Scoring
    from placematch.service import answers
    from scenarios.cohorts import generate, write_case_folder

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, help="an older answers.py, timed too")
    args = parser.parse_args()
    versions: list[tuple[str, ModuleType]] = [("this", answers)]
    if args.against:
        versions.append(("against", _module("answers_against", args.against)))
    tier = TIERS["county"]
    case = generate(tier.la, tier.seed, children=tier.children)
    where = Path(tempfile.mkdtemp())
    write_case_folder(case, where)
    folder = load_case_folder(where)
    rules = Scoring.for_folder(folder).rules
    ids = [v.vacancy_id for v in folder.vacancies]
    bases = (10**12 + 7, 3 * 10**6 + 1, 987_654)
    lists = []
    for child in folder.children[:60]:
        data = ranking_data(folder, child.child_id)
        if len(data["options"]) < 2:
            continue
        rest = dict(declined=[], date=None, urgency=None, within_days=0)
        rest.update(free_within_days=[], decision=None)
        data.update(rest)
        lists.append((child.child_id, data, rest, data["options"][1]))
    size = np.mean([len(orjson.dumps(x[1])) for x in lists]) / 1024
    print(f"{len(lists)} lists of {size:.0f} KB on average")
    best: dict[tuple[str, str], list[float]] = {}
    bodies: dict[str, dict[tuple[str, str], bytes]] = {}
    for name, module in versions * 4:
        ready = []
        for child_id, data, rest, option in lists:
            body, cuts = module.dumps_with_options(data)
            layout = module.layout_of(body, cuts, data, folder)
            again = {**option, "objective_points": refolded(option, bases)}
            flags = (int(again["connected_person"]), int(again["in_area"]))
            vid = option["vacancy_id"]
            changed = np.asarray([i == vid for i in ids])
            at = np.arange(len(ids), dtype=np.int64)
            ready.append(
                (
                    module.Stale(body, layout),
                    child_id,
                    rest,
                    {
                        "decision": (
                            module.Renumbering(changed, at, bases),
                            module.Part(
                                [(vid, option_order(again), orjson.dumps(again), flags)], []
                            ),
                        ),
                        "cost": (
                            module.Renumbering(changed, at, None),
                            module.Part(
                                [(vid, option_order(option), orjson.dumps(option), flags)], []
                            ),
                        ),
                    },
                )
            )
        for write in ("cost", "decision"):
            made: dict[tuple[str, str], bytes] = bodies.setdefault(name, {})
            start, n = time.process_time(), 0
            for _ in range(10):
                for stale, child_id, rest, how in ready:
                    moved, part = how[write]
                    out: Any = module.spliced(stale, folder, child_id, moved, part, rules, rest)
                    made[child_id, write] = out[0]
                    n += 1
            best.setdefault((name, write), []).append((time.process_time() - start) / n * 1e3)
    for (name, write), times in sorted(best.items()):
        shown = ", ".join(f"{t:.3f}" for t in times)
        print(f"{name:8s} {write:9s} best {min(times):.3f} ms CPU per splice (rounds: {shown})")
    if args.against:
        print("byte for byte the same:", bodies["this"] == bodies["against"])


if __name__ == "__main__":
    main()
