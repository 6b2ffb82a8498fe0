"""Made-up rules 9001-9003, with the real validator's rule attributes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Rule:
    code: str
    message: str
    affected_fields: list[str]
    table: str
    func: Callable


def _blank(column: str) -> Callable:
    return lambda df, metadata: df.index[df[column].str.strip() == ""].tolist()


registry = {
    "9001": Rule("9001", "Home postcode is blank.", ["HOME_POST"], "Episodes", _blank("HOME_POST")),
    "9002": Rule(
        "9002",
        "Sex is not M or F.",
        ["SEX"],
        "Header",
        lambda df, metadata: df.index[~df["SEX"].isin(["M", "F"])].tolist(),
    ),
    "9003": Rule("9003", "Date ceased is blank.", ["DUC"], "UASC", _blank("DUC")),
}
