"""The case-folder contract: files, columns and vocabularies, declared once.

The loader (:mod:`matcher.casefolder`), the writer, ``placematch schema`` and the docs all
read these declarations, so they cannot disagree. Column names and their order are a public
contract: tests pin them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from matcher.bounds import MAX_BEDS, MAX_FOSTERED_NOW, MAX_VACANCY_NAME, MAX_WEEKLY_COST
from matcher.files import MAX_CSV_BYTES, MAX_POLICY_BYTES
from matcher.placement_types import SSDA903, SUFFICIENCY_GROUP, PlacementType
from matcher.policy import AUTHORITY_KEYS, MAX_TOML_DEPTH, policy_keys
from matcher.vocabulary import (
    LIST_SEPARATOR,
    NEED_MEANING,
    OFSTED_MEANING,
    REQUIRED_CAPABILITY,
    RESPONSE_MEANING,
    RESPONSE_REASON_MEANING,
    RISK_MEANING,
    URGENCY_MEANING,
    Need,
    Ofsted,
    Response,
    ResponseReason,
    RiskFlag,
    Sex,
    Urgency,
    VacancySex,
    ethnicity_codes,
)

CHILDREN_FILE = "children.csv"
VACANCIES_FILE = "vacancies.csv"
RESIDENTS_FILE = "residents.csv"
POLICY_FILE = "policy.toml"
#: Optional: providers' answers to referrals (``placematch referral`` writes the referrals).
RESPONSES_FILE = "responses.csv"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a case-folder CSV file.

    Attributes
    ----------
    name : str
        The header, lower case (headers are matched case-insensitively).
    required : bool
        The header must be present. Optional columns may be left out of the file entirely.
    blank : bool
        A cell may be blank.
    type : str
        What a value looks like, in words.
    description : str
        What it means.
    vocabulary : str or None
        The vocabulary its values come from (a key of :func:`vocabularies`), if any.
    """

    name: str
    required: bool
    blank: bool
    type: str
    description: str
    vocabulary: str | None = None


_LIST = f"'{LIST_SEPARATOR}'-separated"

CHILDREN_COLUMNS: tuple[Column, ...] = (
    Column("child_id", True, False, "id", "unique id of the child (never a name)"),
    Column("age", True, False, "whole number 0-17", "age in whole years"),
    Column("sex", True, False, "M or F", "sex as SSDA903 SEX records it", "child_sex"),
    Column(
        "home_postcode",
        True,
        True,
        "UK postcode",
        "where the child lived; blank only for a separated migrant child (needs has uasc) "
        "or when home_postcode_unknown is true",
    ),
    Column("la", True, False, "authority", "responsible authority: ONS code, DfE number or name"),
    Column("school_urn", False, True, "school URN", "current school (DfE unique reference)"),
    Column(
        "sibling_group",
        False,
        True,
        "id",
        "children sharing a value are siblings to be placed together (same la)",
    ),
    Column("needs", False, True, f"{_LIST} needs", "what the child needs or must avoid", "needs"),
    Column(
        "placement_types",
        False,
        True,
        f"{_LIST} placement types",
        "acceptable placement types; blank: the default by age",
        "placement_type",
    ),
    Column("ethnicity", False, True, "SSDA903 ETHNIC code", "e.g. WBRI, BAFR", "ethnicity"),
    Column("religion", False, True, "free text", "the child's religion, for matching culture"),
    Column("language", False, True, "free text", "the child's first language, for matching"),
    Column(
        "avoid_areas",
        False,
        True,
        f"{_LIST} authorities or postcode districts",
        "areas the child must not be placed in (e.g. exploitation risk): la names or codes, "
        "or postcode districts such as CM1",
    ),
    Column(
        "needed_by",
        False,
        True,
        "date YYYY-MM-DD",
        "the date the placement must start: only vacancies free on it are offered; "
        "blank: today for an emergency, else the date asked about (rank/match --on)",
    ),
    Column(
        "urgency",
        False,
        True,
        "urgency",
        "how soon: emergency (today; rank also lists what frees within --within-days), "
        "urgent or planned; blank: not recorded (treated as planned)",
        "urgency",
    ),
    Column(
        "risk_flags",
        False,
        True,
        f"{_LIST} risk flags",
        "risks the child poses or faces; the vacancy's capabilities must list each one "
        "(hard: risk_not_manageable); blank: none recorded",
        "risk_flags",
    ),
    Column(
        "home_postcode_unknown",
        False,
        True,
        "true, false or blank",
        "true: the home postcode is not known (home_postcode blank; e.g. a 903 HOME_POST "
        "that is blank or not in the ONS directory, kept by import-903 "
        "--keep-unknown-postcodes); near home is then not scored, in area still is "
        "(from la), and candidates are searched from the school, else the authority; "
        "blank: false",
    ),
)

VACANCIES_COLUMNS: tuple[Column, ...] = (
    Column("vacancy_id", True, False, "id", "unique id of the vacancy"),
    Column(
        "provider_id",
        True,
        False,
        "id",
        "the household, home or unit; its vacancies share a postcode and fostered_now",
    ),
    Column("placement_type", True, False, "placement type", "kind of placement", "placement_type"),
    Column("postcode", True, False, "UK postcode", "where the placement is"),
    Column("beds", True, False, f"whole number 1-{MAX_BEDS}", "children it can take now"),
    Column("age_min", True, False, "whole number 0-25", "youngest age approved"),
    Column("age_max", True, False, "whole number 0-25", "oldest age approved (>= age_min)"),
    Column("sex", True, False, "any, M or F", "whom it takes", "vacancy_sex"),
    Column(
        "capabilities",
        True,
        True,
        f"{_LIST} capabilities and risk flags",
        "what it can meet (for a children's home, its Statement of Purpose): the needs it "
        "can offer for, and the risk flags it can manage",
        "capabilities",
    ),
    Column(
        "ofsted",
        True,
        False,
        "Ofsted grade or supported accommodation outcome",
        "Ofsted judgement of the home or service: supported_accommodation takes "
        "consistently_strong, inconsistent, serious_weaknesses or not_inspected; every other "
        "type outstanding, good, requires_improvement, inadequate or not_inspected",
        "ofsted",
    ),
    Column(
        "weekly_cost",
        True,
        False,
        f"whole pounds 0-{MAX_WEEKLY_COST}",
        "cost a week in whole pounds",
    ),
    Column(
        "connected_to",
        False,
        True,
        f"{_LIST} child_ids",
        "connected_person_foster only (and required there): the children it is approved for",
    ),
    Column(
        "fostered_now",
        False,
        True,
        f"whole number 0-{MAX_FOSTERED_NOW}",
        "children already living there (for the limit of three); blank: 0",
    ),
    Column(
        "ethnicity",
        False,
        True,
        f"{_LIST} SSDA903 ETHNIC codes",
        "the household's ethnicity",
        "ethnicity",
    ),
    Column("religion", False, True, "free text", "the household's religion"),
    Column("languages", False, True, f"{_LIST} free text", "languages spoken in the household"),
    Column(
        "urn",
        False,
        True,
        "Ofsted URN: SC and 6 digits, or 7 digits",
        "the setting's Ofsted unique reference number, written to the 903 URN "
        "(children's homes, secure homes, supported accommodation, parent-and-child "
        "centres need one: DfE rule 218); blank: none (fostering is written XXXXXXX)",
    ),
    Column(
        "available_from",
        False,
        True,
        "date YYYY-MM-DD",
        "first day the beds are free; blank: free now",
    ),
    Column(
        "available_until",
        False,
        True,
        "date YYYY-MM-DD (>= available_from)",
        "last day the beds are free (inclusive); blank: no last day",
    ),
    Column(
        "owner_la",
        False,
        True,
        "authority",
        "the authority that owns or commissions the vacancy (a pooled, regional folder): ONS "
        "code, DfE number or name, as la on children. Filled on one row, it is needed on "
        "every row, and every child's la must be one of the owners (the folder's region); "
        "blank everywhere: a single authority's folder",
    ),
    Column(
        "offered_to_pool",
        False,
        True,
        "true or false",
        "whether the owner offers the vacancy to the other authorities of the pool (true) or "
        "keeps it for its own children (false); blank: not recorded, treated as offered",
    ),
    Column(
        "name",
        False,
        True,
        f"free text, up to {MAX_VACANCY_NAME} characters",
        "the provider's or carer's name as officers know it (a children's home, a fostering "
        "household, a supported-accommodation scheme); shown to officers beside the vacancy, "
        "never used in matching or written to a referral; blank: not recorded",
    ),
)

RESPONSES_COLUMNS: tuple[Column, ...] = (
    Column(
        "vacancy_id", True, False, "id", "the vacancy referred to (a vacancy_id of vacancies.csv)"
    ),
    Column("child_id", True, False, "id", "the child referred (a child_id of children.csv)"),
    Column(
        "response",
        True,
        False,
        "offer, consider or decline",
        "the provider's answer: a decline excludes the vacancy for the child "
        "(declined_by_provider); an offer comes first among equal options",
        "response",
    ),
    Column(
        "reason",
        True,
        True,
        "response reason code",
        "why: required for a decline, optional otherwise (a code, never free text)",
        "response_reason",
    ),
)

RESIDENTS_COLUMNS: tuple[Column, ...] = (
    Column(
        "provider_id",
        True,
        False,
        "id",
        "the home or household they live in: a provider_id of vacancies.csv",
    ),
    Column(
        "resident_ref",
        True,
        False,
        "id",
        "a non-identifying reference, unique within the provider (never a name)",
    ),
    Column("age", True, False, "whole number 0-25", "age in whole years"),
    Column("sex", True, False, "M or F", "sex as SSDA903 SEX records it", "child_sex"),
    Column(
        "needs",
        False,
        True,
        f"{_LIST} needs",
        "the resident's needs; no_younger_children: no younger child may join them",
        "needs",
    ),
    Column(
        "risk_flags",
        False,
        True,
        f"{_LIST} risk flags",
        "risks the resident poses or faces (for the impact-risk summary)",
        "risk_flags",
    ),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    CHILDREN_FILE: CHILDREN_COLUMNS,
    VACANCIES_FILE: VACANCIES_COLUMNS,
    RESIDENTS_FILE: RESIDENTS_COLUMNS,
    RESPONSES_FILE: RESPONSES_COLUMNS,
}


#: Columns that ``placematch synth`` and ``placematch import-903`` write after the contract's,
#: for their own reports and the supply what-ifs. The matcher does not use them, and the
#: loader reads past them without a warning (any other unknown column gets one), so that a
#: folder placematch wrote validates clean.
EXTRA_COLUMNS: dict[str, dict[str, str]] = {
    CHILDREN_FILE: {
        "current_group": "sufficiency group of the child's current placement: fostering, "
        "residential, supported_accommodation or other",
        "current_vacancy": "vacancy_id of the child's current placement (import-903)",
    },
    VACANCIES_FILE: {
        "organisation": "the fostering service, agency or operator",
        "supply_area": "in_county, adjoining or further, from the placing authority",
    },
}


def column_names(file: str) -> tuple[str, ...]:
    """The contract's column names of ``children.csv``, ``vacancies.csv``,
    ``residents.csv`` or ``responses.csv``, in order."""
    return tuple(c.name for c in COLUMNS[file])


_PLACEMENT_MEANING: dict[PlacementType, str] = {
    PlacementType.CONNECTED_PERSON_FOSTER: "foster care with a relative, friend or other "
    "connected person (s22C(6)(a))",
    PlacementType.INHOUSE_FOSTER: "foster care with the authority's own foster carers",
    PlacementType.AGENCY_FOSTER: "foster care through an independent fostering agency",
    PlacementType.CHILDRENS_HOME: "a registered children's home",
    PlacementType.SUPPORTED_ACCOMMODATION: "supported accommodation, ages 16-17 only",
    PlacementType.PARENT_AND_CHILD: "a parent-and-child (family assessment) placement",
    PlacementType.SECURE_HOME: "a secure children's home (secure accommodation order, s25)",
}


def _placement_meaning(t: PlacementType) -> str:
    m = SSDA903[t]
    group = SUFFICIENCY_GROUP[t].value.replace("_", " ")
    return (
        f"{_PLACEMENT_MEANING[t]}; 903 PLACE {m.place}, PLACE_PROVIDER {m.place_provider}; {group}"
    )


def vocabularies() -> dict[str, dict[str, str]]:
    """Every vocabulary of the contract: value -> meaning."""
    return {
        "placement_type": {t.value: _placement_meaning(t) for t in PlacementType},
        "needs": {n.value: NEED_MEANING[n] for n in Need},
        "risk_flags": {r.value: RISK_MEANING[r] for r in RiskFlag},
        "capabilities": {
            **{n.value: NEED_MEANING[n] for n in Need},
            **{r.value: RISK_MEANING[r] for r in RiskFlag},
        },
        "ofsted": {o.value: OFSTED_MEANING[o] for o in Ofsted},
        "child_sex": {s.value: {"M": "male", "F": "female"}[s.value] for s in Sex},
        "vacancy_sex": {
            s.value: {"any": "any", "M": "male only", "F": "female only"}[s.value]
            for s in VacancySex
        },
        "ethnicity": dict(ethnicity_codes()),
        "urgency": {u.value: URGENCY_MEANING[u] for u in Urgency},
        "response": {r.value: RESPONSE_MEANING[r] for r in Response},
        "response_reason": {r.value: RESPONSE_REASON_MEANING[r] for r in ResponseReason},
    }


def limits() -> dict[str, Any]:
    """How files are read: what ``placematch validate`` refuses before reading a cell."""
    return {
        "encoding": "UTF-8; a byte-order mark is accepted (a spreadsheet's CSV UTF-8)",
        "file_kind": "regular files only: a folder, FIFO, device or socket is refused at once",
        "max_csv_bytes": MAX_CSV_BYTES,
        "max_policy_bytes": MAX_POLICY_BYTES,
        "max_policy_nesting": MAX_TOML_DEPTH,
        "digits": "whole numbers in ASCII digits 0-9 only",
    }


def contract() -> dict[str, Any]:
    """The whole contract as plain data (what ``placematch schema --json`` prints)."""
    return {
        "files": {
            CHILDREN_FILE: [asdict(c) for c in CHILDREN_COLUMNS],
            VACANCIES_FILE: [asdict(c) for c in VACANCIES_COLUMNS],
            RESIDENTS_FILE: [asdict(c) for c in RESIDENTS_COLUMNS],
            RESPONSES_FILE: [asdict(c) for c in RESPONSES_COLUMNS],
            POLICY_FILE: [asdict(k) for k in policy_keys()],
        },
        "extra_columns": EXTRA_COLUMNS,
        "limits": limits(),
        "list_separator": LIST_SEPARATOR,
        "vocabularies": vocabularies(),
        "required_capability": {n.value: c.value for n, c in REQUIRED_CAPABILITY.items()},
        "notes": [
            "The header is line 1; headers and vocabulary values are case-insensitive.",
            "Optional columns may be left out; unknown columns are reported as warnings, "
            "except the extra columns placematch synth and import-903 write (not used by the "
            "matcher).",
            "policy.toml is optional; every key has a default and a range (policy numbers are "
            "finite: inf and nan are refused).",
            "A pooled folder's policy.toml may change keys for one authority in a table "
            f'[authority."NAME"] (and [authority."NAME".weights]): {", ".join(AUTHORITY_KEYS)} '
            "and weights.*; the other keys stay region-wide.",
            f"Files are UTF-8 (a byte-order mark is fine) and regular files; a CSV file may "
            f"hold at most {MAX_CSV_BYTES:,} bytes, policy.toml {MAX_POLICY_BYTES:,} bytes "
            f"nested at most {MAX_TOML_DEPTH} levels.",
            "A postcode must be in the ONS postcode directory: one that is not is an error, "
            "never placed at its sector or district.",
            "Errors name file, line and column; they never repeat a cell's value (it may be "
            "personal data typed in the wrong place), only its length.",
            "responses.csv is optional (providers' answers to referrals); a header with no "
            "rows means no answers yet. At most one row per vacancy_id and child_id.",
            "residents.csv is optional: the children already living with a provider, one row "
            "each, no names. Without it nothing is known of who lives there and no rule or "
            "factor about residents applies.",
        ],
    }
