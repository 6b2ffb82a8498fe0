"""The sane range of every number a case folder or policy may hold, declared once.

Checked at the edge (:mod:`matcher.casefolder`, :mod:`matcher.policy`), printed by
``placematch schema`` and ``docs/case-folder.md``. Each bound is far above anything real, so
that it refuses only a typing slip, a wrong column or a corrupt file, and low enough that
no sum the engine forms from these numbers can overflow 64-bit integers: with every weight
at its bound a pair scores at most about 1.2 million points, and the folded objective
(:class:`matcher.candidates.Folding`) is checked against 2**62 before anything is solved.
"""

from __future__ import annotations

#: Most beds one vacancy row may offer. A row is one household, home or unit's free places
#: now, so 100 is never a real vacancy: it is a slip (a cost in the beds column, a stray digit).
MAX_BEDS = 100

#: Most children ``fostered_now`` may record in one household, home or unit (the same cap as
#: beds: a home cannot hold more children than it could ever have beds for).
MAX_FOSTERED_NOW = 100

#: Most weekly cost, in whole pounds (£100,000 a week, several times the costliest bespoke
#: placements reported); above it a figure is more likely annual, or in pence.
MAX_WEEKLY_COST = 100_000

#: Most characters of a vacancy's ``name`` (the provider's or carer's name): longer than any
#: real name of a home or household, short enough to fit the officer's table.
MAX_VACANCY_NAME = 120

#: Most points any one ``[weights]`` key may give or take (default weights are 20-1,000).
MAX_WEIGHT = 10_000

#: Most miles for ``distance_step_miles`` and ``distance_zero_miles`` (England is about 400
#: miles from end to end, so 1,000 already means "never").
MAX_MILES = 1_000.0

#: Largest ``key_stage_4_multiplier`` (default 2): ten times the education weight already
#: outweighs every other factor.
MAX_KEY_STAGE_4_MULTIPLIER = 10.0

#: Largest ``sibling_split_cost`` in points (default 500).
MAX_SIBLING_SPLIT_COST = 100_000

#: Most decimal digits read from a whole-number cell before it is refused as out of range:
#: Python would otherwise convert a cell of thousands of digits first (slow) and refuse later.
MAX_NUMBER_DIGITS = 12
