"""The officer's page shows who and where (issue 15 part 4), without a browser, on SQLite and
PostgreSQL: the children list searched and filtered, names instead of codes, siblings linked,
the provider's name from the ``name`` column, a map of the child's locality.
"""

from __future__ import annotations

import re

from servicekit import DEMO, PASSWORD, Service


def _sign_in(fresh: Service, user: str = "officer") -> None:
    c = fresh.client
    c.cookies.clear()
    r = c.post("/login", data={"username": user, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303


def _listed(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/children/([^"]+)">', html)


def test_the_children_list_is_searched_and_filtered(fresh: Service) -> None:
    _sign_in(fresh)
    c = fresh.client
    every = _listed(c.get("/children").text)
    # Essex's children: not C10 (Thurrock's) nor C12 (Southend-on-Sea's)
    assert every == [f"C{i:02d}" for i in range(1, 12) if i != 10]
    assert _listed(c.get("/children?q=sg1").text) == ["C01", "C02", "C03"]
    assert _listed(c.get("/children?q=C1").text) == ["C11"]
    assert _listed(c.get("/children?age=16-17").text) == ["C04", "C08", "C09"]
    assert _listed(c.get("/children?q=sg1&age=0-9").text) == ["C01", "C02"]
    page = c.get("/children?q=nobody").text
    assert _listed(page) == [] and 'id="no-match"' in page and "Show all 10" in page
    # Names, not codes: the authority by name.
    assert "<td>Essex</td>" in c.get("/children").text
    c.cookies.clear()


def test_a_childs_page_names_the_school_the_authority_and_links_the_siblings(
    fresh: Service,
) -> None:
    _sign_in(fresh)
    page = fresh.client.get("/children/C02").text
    assert "Trinity Road Primary School" in page and "(URN 114805)" in page
    assert "Essex <span" in page
    siblings = page[page.index('id="siblings"') :].split("</dd>")[0]
    assert re.findall(r'href="/children/(C\d+)"', siblings) == ["C01", "C03"]
    assert "C02" not in re.findall(r'href="/children/(C\d+)"', siblings)
    # No sibling group, no links.
    assert 'id="siblings">none<' in fresh.client.get("/children/C06").text
    fresh.client.cookies.clear()


def test_the_providers_name_is_stored_and_shown(fresh: Service) -> None:
    lines = (DEMO / "vacancies.csv").read_text(encoding="utf-8").splitlines()
    named = [lines[0] + ",name"] + [
        line + ("," + "The Okafor household" if line.startswith("V02,") else ",")
        for line in lines[1:]
    ]
    r = fresh.client.post(
        "/api/v1/vacancies/upload",
        files={"file": ("vacancies.csv", "\n".join(named) + "\n")},
        headers=fresh.h("officer"),
    )
    assert r.status_code == 201, r.text
    record = fresh.client.get("/api/v1/vacancies/V02", headers=fresh.h("officer")).json()
    assert record["record"]["name"] == "The Okafor household"
    _sign_in(fresh)
    page = fresh.client.get("/children/C06").text
    row = page[page.index('id="option-V02"') :].split("</tr>")[0]
    assert "The Okafor household" in row and "Chelmsford" in row and "Essex" in row
    assert "E10000012" not in row
    fresh.client.cookies.clear()


def test_the_map_is_zoomed_to_the_childs_locality(fresh: Service) -> None:
    svg = fresh.client.get("/api/v1/children/C06/map.svg", headers=fresh.h("officer")).text
    # Essex is about 60 miles across: its whole map has a 10-mile scale bar; the locality's
    # is a few miles.
    miles = float(re.findall(r">([0-9.]+) miles<", svg)[0])
    assert miles <= 5
    # The home sits in the middle of the 640 px window.
    home = re.search(r'<circle cx="([0-9.]+)"[^>]*><title>home</title>', svg)
    assert home is not None and abs(float(home.group(1)) - 320) < 1
