"""Culture and language: a household sharing the child's background.

Statutory basis: Children Act 1989 s22(5)(c) -- due consideration to the child's religious
persuasion, racial origin and cultural and linguistic background; UNCRC Article 20(3)
(continuity in upbringing and the child's ethnic, religious, cultural and linguistic
background). For a separated migrant child, experience of separated migrant children
(the ``uasc`` capability) counts as a cultural match too (UNCRC Article 22).

Scale: ``weights.culture_language`` (default 30) shared in three parts -- shared ethnicity
(SSDA903 code among the household's), shared religion, and the child's language spoken in the
household -- each ``weight // 3``, the language part taking the remainder; for a separated
migrant child a ``uasc``-experienced placement adds one more ``weight // 3`` part; the total is
capped at the weight. Nothing recorded on the child scores 0 for that part.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from matcher.factors.base import IntArray, Pairs
from matcher.policy import Policy
from matcher.vocabulary import Need


def _parts(weight: int) -> tuple[int, int, int]:
    third = weight // 3
    return third, third, weight - 2 * third


class CultureLanguage:
    """Points for shared ethnicity, religion and language (and separated-migrant experience)."""

    name: ClassVar[str] = "culture_language"
    reference: ClassVar[str] = "Children Act 1989 s22(5)(c); UNCRC Art. 20(3) and 22"
    kind: ClassVar[Literal["soft"]] = "soft"
    label: ClassVar[str] = "Culture"
    short: ClassVar[str] = "cult"
    weight_key: ClassVar[str | None] = "culture_language"

    def weight(self, policy: Policy) -> int:
        """``weights.culture_language``."""
        return policy.weights.culture_language

    def bounds(self, policy: Policy) -> tuple[int, int]:
        """0 to the weight."""
        return 0, self.weight(policy)

    def _components(self, pairs: Pairs) -> list[tuple[str, IntArray]]:
        w = self.weight(pairs.policy)
        eth, rel, lang = _parts(w)
        uasc = pairs.child_has(Need.UASC) & pairs.vacancy_has(Need.UASC)
        return [
            ("ethnicity", np.where(pairs.ethnicity_match, eth, 0)),
            ("religion", np.where(pairs.religion_match, rel, 0)),
            ("language", np.where(pairs.language_match, lang, 0)),
            ("experience of separated migrant children", np.where(uasc, w // 3, 0)),
        ]

    def assess(self, pairs: Pairs) -> IntArray:
        """Sum of the matched parts, capped at the weight."""
        total = sum(part for _, part in self._components(pairs))
        capped = np.minimum(np.asarray(total, dtype=np.int64), self.weight(pairs.policy))
        return np.asarray(capped, dtype=np.int64).reshape(len(pairs))

    def reason(self, pairs: Pairs, k: int, points: int) -> str:
        """Why (names what matched, never the child's values)."""
        # The parts of pair k alone, as _components gives them for every pair: working them
        # out for every pair on each call made a ranking's sentences quadratic.
        w = self.weight(pairs.policy)
        eth, rel, lang = _parts(w)
        parts = (
            ("ethnicity", eth if pairs.ethnicity_match[k] else 0),
            ("religion", rel if pairs.religion_match[k] else 0),
            ("language", lang if pairs.language_match[k] else 0),
            (
                "experience of separated migrant children",
                w // 3 if pairs.child_has(Need.UASC)[k] and pairs.vacancy_has(Need.UASC)[k] else 0,
            ),
        )
        matched = [name for name, part in parts if part > 0]
        if not matched:
            return "No shared ethnicity, religion or language recorded: 0 points."
        cap = " (capped)" if points == self.weight(pairs.policy) and len(matched) > 3 else ""
        return f"Shared {', '.join(matched)}: {points} points{cap}."
