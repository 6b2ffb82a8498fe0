"""The page in a real browser: Playwright driving Debian's Chromium (headless).

An officer signs in, opens a child, reads the ranked options and an explanation, asks
why-not, records a decision and finds it in the audit log; a commissioner runs a forecast and
sees its table and charts. Keyboard and phone-width checks on the way. On SQLite (the API
and storage tests cover PostgreSQL). Screenshots go to ``tests/service/artifacts/`` (or
``$PLACEMATCH_TEST_ARTIFACTS``).

Needs ``playwright`` (the Python package only: no browser download) and Chromium
(``.ci/chromium.sh``; ``$PLACEMATCH_CHROMIUM`` or ``/usr/bin/chromium``). Without them the
tests skip with the reason, except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servicekit import DEMO, PASSWORD, Service, live, need

REGIONAL = Path(__file__).resolve().parents[1] / "data" / "ssda903" / "regional"
STOCHASTIC = """
[forecast]
name = "Synthetic fan chart"
mode = "stochastic"
start = 2019-04-01
horizon_months = 12
runs = 100
seed = 3
[data]
episodes = ["episodes.csv"]
header = ["header.csv"]
la = "Hillingdon"
fit_months = 24
"""
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def artifacts() -> Path:
    """Where screenshots go."""
    default = Path(__file__).parent / "artifacts"
    out = Path(os.environ.get("PLACEMATCH_TEST_ARTIFACTS", default))
    out.mkdir(parents=True, exist_ok=True)
    return out


def chromium_path() -> str:
    """Debian's Chromium, or fail (CI) / skip."""
    path = os.environ.get("PLACEMATCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        need("Chromium", "run .ci/chromium.sh (apt-get install chromium)")
    return path


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("the playwright package", "pip install playwright")
    path = chromium_path()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/")
    assert "/login" in page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def every_field_is_labelled(page: Any) -> None:
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
              .map(e => e.name)"""
    )
    assert unlabelled == []


def fits_a_phone(page: Any) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 376, f"the page is {width}px wide at a phone's 375px"


def test_officer_ranks_explains_decides_and_sees_the_audit(
    browser: Any, fresh_sqlite: Service
) -> None:
    fresh = fresh_sqlite
    out = artifacts()
    with live(fresh.app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, base, "officer")
        page.wait_for_url(base + "/children")
        assert page.get_by_role("heading", level=1).inner_text() == "Children waiting"
        # The skip link is the first thing the keyboard reaches.
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.textContent")
        assert focused == "Skip to main content"
        page.screenshot(path=str(out / "officer-1-children.png"), full_page=True)

        page.get_by_role("link", name="C06", exact=True).click()
        page.wait_for_url(base + "/children/C06")
        table = page.locator("table#options")
        rows = table.locator("tbody tr")
        assert rows.count() >= 3
        first = rows.first.inner_text()
        assert "V01" in first and "kin" in first  # the connected-person carer first
        headers = table.locator("thead th").all_inner_texts()
        for h in (
            "Option",
            "Where",
            "Points",
            "Area",
            "Miles from home",
            "Miles to school",
            "Ofsted",
            "Weekly cost",
            "Sign-offs",
        ):
            assert h in headers
        # Where: the district and the authority by name, not its code.
        assert "Basildon" in first and "Essex" in first
        assert "E10000012" not in table.inner_text()
        # The points per factor are behind the explanation's disclosure, not in the table.
        factors = page.locator("#explain-V01 table.factors")
        assert not factors.is_visible()
        page.get_by_text("Explanation for V01").click()
        assert page.get_by_text("connected person:").first.is_visible()
        assert factors.is_visible() and "Kin" in factors.inner_text()
        # The school by name, the authority by name.
        facts = page.locator("dl.facts").first.inner_text()
        assert "Ghyllgrove Primary School" in facts and "(URN 114914)" in facts
        # The map is an offline SVG of the authority.
        svg = page.request.get(base + "/children/C06/map.svg")
        assert svg.ok and svg.text().startswith("<svg")
        every_field_is_labelled(page)
        page.screenshot(path=str(out / "officer-2-options.png"), full_page=True)

        page.get_by_label("Vacancy", exact=True).select_option("V09")
        page.get_by_role("button", name="Explain").click()
        answer = page.locator("#why-not-answer")
        answer.wait_for()
        assert "V09 is excluded by" in answer.inner_text()
        page.screenshot(path=str(out / "officer-3-why-not.png"), full_page=True)

        page.get_by_label("Chosen vacancy").select_option("V01")
        page.get_by_label("Reason for the decision").fill("kinship carer, near school")
        page.get_by_role("button", name="Record decision").click()
        # A confirmation first: the bed is taken only when the officer confirms.
        page.get_by_role("button", name="Confirm: take the bed").wait_for()
        assert "kinship carer, near school" in page.locator("#confirm-facts").inner_text()
        page.screenshot(path=str(out / "officer-4a-confirm.png"), full_page=True)
        page.get_by_role("button", name="Confirm: take the bed").click()
        message = page.locator("#message")
        message.wait_for()
        assert "Decision recorded: child C06, vacancy V01" in message.inner_text()
        assert "kinship carer, near school" in page.locator("#decision").inner_text()
        page.screenshot(path=str(out / "officer-4-decided.png"), full_page=True)

        page.get_by_role("link", name="Audit log").click()
        page.wait_for_url(base + "/audit")
        audit = page.locator("table#audit tbody").inner_text()
        assert "decision" in audit and "child C06/V01" in audit
        assert "kinship carer, near school" in audit
        assert "rank" in audit and "why_not" in audit and "read" in audit
        page.screenshot(path=str(out / "officer-5-audit.png"), full_page=True)

        page.goto(base + "/children/C06")
        fits_a_phone(page)
        page.screenshot(path=str(out / "officer-6-phone.png"), full_page=True)
        # Another authority's officer gets a 404 page, not the record.
        other = browser.new_page()
        sign_in(other, base, "officer_thurrock")
        response = other.goto(base + "/children/C06")
        assert response is not None and response.status == 404
        assert "SS14 1DL" not in other.content()


#: Made-up names for the demo's vacancies (the optional ``name`` column), by vacancy id.
NAMES = {"V01": "The Hartley household", "V02": "The Okafor household", "V09": "Rowan Lodge"}


def upload_names(fresh: Service) -> None:
    """Upload the demo's vacancies.csv with a name column, as an officer would."""
    lines = (DEMO / "vacancies.csv").read_text(encoding="utf-8").splitlines()
    rows = [lines[0] + ",name"] + [
        line + "," + NAMES.get(line.split(",")[0], "") for line in lines[1:]
    ]
    r = fresh.client.post(
        "/api/v1/vacancies/upload",
        files={"file": ("vacancies.csv", "\n".join(rows) + "\n")},
        headers=fresh.h("officer"),
    )
    assert r.status_code == 201, r.text
    stored = fresh.client.get("/api/v1/vacancies/V02", headers=fresh.h("officer")).json()
    assert stored["record"]["name"] == "The Okafor household"


def test_the_officers_screen_shows_who_and_where(browser: Any, fresh_sqlite: Service) -> None:
    fresh = fresh_sqlite
    out = artifacts()
    upload_names(fresh)
    with live(fresh.app) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        sign_in(page, base, "officer")
        page.wait_for_url(base + "/children")
        # Search and filter the children list (on the server: works without a script).
        page.get_by_label("Child or sibling group").fill("sg1")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(lambda url: "q=sg1" in url)
        ids = page.locator("table#children tbody th").all_inner_texts()
        assert ids == ["C01", "C02", "C03"]
        page.get_by_label("Age").select_option("10-15")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(lambda url: "age=10-15" in url)
        assert page.locator("table#children tbody th").all_inner_texts() == ["C03"]
        assert "1 child of" in page.locator("table#children caption").inner_text()
        every_field_is_labelled(page)
        page.screenshot(path=str(out / "officer-9-search.png"), full_page=True)

        # A child of a sibling group: its siblings listed and linked.
        page.get_by_role("link", name="C03", exact=True).click()
        page.wait_for_url(base + "/children/C03")
        siblings = page.locator("#siblings")
        assert siblings.get_by_role("link", name="C01").count() == 1
        assert siblings.get_by_role("link", name="C02").count() == 1
        # Who: the carer's name first in the option's cell, then its id and type.
        first = page.locator("table#options tbody tr").first.inner_text()
        assert "The Okafor household" in first and "V02" in first and "Chelmsford" in first
        assert "Moulsham High School (URN 136863)" in page.locator("#school").inner_text()
        # The ranked table fits 1,400 px, with cost and sign-offs on screen without scrolling.
        table = page.locator("table#options")
        wrap = page.locator("#options").locator("xpath=..")
        assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth"), "the table scrolls at 1400"
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1400
        for name in ("Weekly cost", "Sign-offs"):
            box = table.get_by_role("columnheader", name=name).bounding_box()
            assert box is not None and box["x"] + box["width"] <= 1400, name
        page.screenshot(path=str(out / "officer-10-who-and-where.png"), full_page=True)

        # The map is zoomed to the child's locality: its scale bar is in a few miles, not the
        # county's tens, and its labels do not overlap.
        svg = page.request.get(base + "/children/C03/map.svg").text()
        assert "<svg" in svg
        miles = float(re.findall(r">([0-9.]+) miles<", svg)[0])
        assert miles <= 5, miles
        root = ET.fromstring(svg)
        ns = "{http://www.w3.org/2000/svg}"
        boxes = []
        for t in root.iter(f"{ns}text"):
            if t.attrib.get("font-size") == "11":
                x, y, w = float(t.attrib["x"]), float(t.attrib["y"]), 6.2 * len(t.text or "")
                anchor = t.attrib.get("text-anchor", "start")
                left = x if anchor == "start" else (x - w if anchor == "end" else x - w / 2)
                boxes.append((left, y - 10, left + w, y + 2))
        assert len(boxes) >= 2
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def test_officer_withdraws_a_decision_and_accepts_a_proposal(
    browser: Any, fresh_sqlite: Service
) -> None:
    fresh = fresh_sqlite
    out = artifacts()
    with live(fresh.app) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        sign_in(page, base, "officer")
        page.wait_for_url(base + "/children")
        page.get_by_role("button", name="Match all waiting children").click()
        page.wait_for_url(lambda url: "/jobs/" in url)
        page.locator("table#proposals").wait_for(timeout=60_000)
        row = page.locator("#proposal-C06")
        vacancy = row.locator(".vid").inner_text()
        assert "Basildon" in row.inner_text()  # where the proposed placement is
        row.get_by_label("Reason for accepting C06").fill("panel agreed")
        row.get_by_role("button", name="Accept C06").click()
        page.get_by_role("button", name="Confirm: take the bed").click()
        page.locator("#message").wait_for()
        assert (
            f"Decision recorded: child C06, vacancy {vacancy}"
            in page.locator("#message").inner_text()
        )
        assert f"decided: vacancy {vacancy}" in page.locator("#proposal-C06").inner_text()
        assert page.get_by_role("button", name="Accept C07").count() == 1  # one by one
        every_field_is_labelled(page)
        page.screenshot(path=str(out / "officer-7-proposals.png"), full_page=True)

        page.get_by_role("link", name="C06", exact=True).click()
        page.wait_for_url(base + "/children/C06")
        assert f"Placed: vacancy {vacancy}" in page.locator("#decision").inner_text()
        assert page.locator("table#options").count() == 0  # the placement, not the ranking
        page.screenshot(path=str(out / "officer-8-placed.png"), full_page=True)
        page.get_by_label("Reason for withdrawing").fill("carer withdrew")
        page.get_by_role("button", name="Withdraw decision and free the bed").click()
        page.locator("#message").wait_for()
        assert "Decision withdrawn" in page.locator("#message").inner_text()
        assert page.locator("table#options").count() == 1  # waiting again, ranked again
        page.get_by_role("link", name="Audit log").click()
        audit = page.locator("table#audit tbody").inner_text()
        assert "withdraw" in audit and "carer withdrew" in audit


def test_commissioner_runs_a_forecast(browser: Any, fresh_sqlite: Service) -> None:
    fresh = fresh_sqlite
    out = artifacts()
    with live(fresh.app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, base, "commissioner")
        page.wait_for_url(base + "/forecasts")
        every_field_is_labelled(page)
        response = page.goto(base + "/children")
        assert response is not None and response.status == 403
        page.goto(base + "/forecasts")
        page.get_by_role("button", name="Run forecast").click()
        page.wait_for_url(lambda url: "/forecasts/" in url)
        table = page.locator("table#forecast-table").inner_text()
        assert "1131" in table and "1170" in table
        assert "+59" in table and "+19" in table and "+43" in table
        assert page.locator(".charts svg").count() == 4
        page.screenshot(path=str(out / "commissioner-1-forecast.png"), full_page=True)
        fits_a_phone(page)
        page.screenshot(path=str(out / "commissioner-2-phone.png"), full_page=True)
        # A stochastic forecast from the authority's 903 files: fan charts with bands.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(base + "/forecasts")
        page.get_by_label("Forecast configuration").fill(STOCHASTIC)
        page.get_by_label("SSDA903 files").set_input_files(
            [str(REGIONAL / "episodes.csv"), str(REGIONAL / "header.csv")]
        )
        page.get_by_role("button", name="Run forecast").click()
        page.wait_for_url(lambda url: "/forecasts/" in url)
        assert page.get_by_role("heading", level=1).inner_text() == "Synthetic fan chart"
        charts = page.locator(".charts svg")
        assert charts.count() == 5  # four groups and the total
        assert "P10-P95" in page.locator(".charts").inner_html()
        table = page.locator("table#forecast-table").inner_text()
        assert "fostering" in table
        page.screenshot(path=str(out / "commissioner-3-fan-charts.png"), full_page=True)


def test_officer_records_a_providers_answer(browser: Any, fresh_sqlite: Service) -> None:
    fresh = fresh_sqlite
    out = artifacts()
    with live(fresh.app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, base, "officer")
        page.wait_for_url(base + "/children")
        page.goto(base + "/children/C05")
        options = page.locator("table#options tbody")
        assert "V05" in options.locator("tr").first.inner_text()
        assert "Provider's answer" in page.locator("table#options thead").inner_text()
        assert page.get_by_text("No answer recorded yet.").is_visible()
        every_field_is_labelled(page)

        page.get_by_label("Vacancy referred").select_option("V05")
        page.get_by_label("Provider's answer").select_option("decline")
        page.get_by_label("Reason (required for a decline)").select_option("impact_on_residents")
        page.get_by_role("button", name="Record answer").click()
        message = page.locator("#message")
        message.wait_for()
        assert "Response recorded: vacancy V05, decline (impact_on_residents)." in (
            message.inner_text()
        )
        answers = page.locator("table#responses tbody").inner_text()
        assert "V05" in answers and "decline" in answers and "impact on residents" in answers
        ids = page.locator("table#options tbody th").all_inner_texts()
        assert "V05" not in ids and ids  # declined: out of the options, the rest remain
        assert "declined by provider" in page.locator("#options-h ~ ul").inner_text()
        page.screenshot(path=str(out / "officer-7-provider-answer.png"), full_page=True)

        page.goto(base + "/children/C05?why_not=V05")
        answer = page.locator("#why-not-answer")
        answer.wait_for()
        assert "excluded by declined by provider" in answer.inner_text()
        assert "impact_on_residents" in answer.inner_text()

        page.get_by_role("link", name="Audit log").click()
        page.wait_for_url(base + "/audit")
        audit = page.locator("table#audit tbody").inner_text()
        assert "response" in audit and "child C05/V05" in audit
        assert "decline: impact_on_residents" in audit
        page.goto(base + "/children/C05")
        fits_a_phone(page)


def test_an_emergency_s_page_shows_what_frees_soon(
    browser: Any, fresh_sqlite: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list ``placematch rank`` prints below an emergency's ranking, on the child's page."""
    import datetime as dt

    from test_service_dates import BODY, make_emergency

    from placematch.service import actions

    fresh = fresh_sqlite
    monkeypatch.setattr(actions, "clock", lambda: dt.date(2026, 3, 5))
    h = fresh.h("officer")
    assert fresh.client.post("/api/v1/vacancies", json=BODY, headers=h).status_code == 201
    make_emergency(fresh, "C11")
    with live(fresh.app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, base, "officer")
        page.wait_for_url(base + "/children")
        page.goto(base + "/children/C11")
        heading = page.get_by_role("heading", name="Free within 7 days of 2026-03-05")
        assert heading.is_visible()
        rows = page.locator("table#soon-free tbody tr")
        assert rows.count() == 1
        assert rows.first.inner_text().split("\t") == [
            "V50",
            "inhouse foster",
            "2026-03-10",
            "2026-04-30",
        ]
        ids = page.locator("table#options tbody th").all_inner_texts()
        assert "V50" not in ids  # not free on the child's date: not an option
        page.screenshot(path=str(artifacts() / "officer-8-emergency-free-soon.png"), full_page=True)
        fits_a_phone(page)
