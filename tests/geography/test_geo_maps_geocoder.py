"""SVG maps and the offline geopy geocoder."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from geopy.geocoders.base import Geocoder
from geopy.location import Location as GeopyLocation

from geography import GeographyError, UnknownAuthorityError, locate
from geography.geocoder import OfflineGeocoder
from geography.maps import MapPoint, render_svg
from geography.postcodes import nearest_postcode

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def test_authority_map_has_boundary_neighbours_and_points() -> None:
    points = [
        MapPoint.at("RM17 5RW", label="placement <1>", group="vacancies"),
        MapPoint.at("RM16 2", label="home", group="children"),
    ]
    root = _parse(render_svg("Thurrock", points, width=600))
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert titles[0] == "Thurrock"
    assert {"Essex", "Havering"} <= set(titles)
    circles = [c for c in root.iter(f"{SVG}circle") if c.find(f"{SVG}title") is not None]
    assert [c.find(f"{SVG}title").text for c in circles] == ["placement <1>", "home"]  # type: ignore[union-attr]
    width = float(root.attrib["width"])
    for c in circles:
        assert 0 <= float(c.attrib["cx"]) <= width
    assert "Open Government Licence" in render_svg("Thurrock")


def test_points_keep_their_geography_on_the_page() -> None:
    # Tilbury (RM18) is south-east of Grays (RM17): further right and lower on the page.
    grays = MapPoint.at("RM17 5RW", label="grays")
    tilbury = MapPoint.at("RM18 7", label="tilbury")
    root = _parse(render_svg("Thurrock", [grays, tilbury]))
    circles = {
        c.find(f"{SVG}title").text: c  # type: ignore[union-attr]
        for c in root.iter(f"{SVG}circle")
        if c.find(f"{SVG}title") is not None
    }
    assert float(circles["tilbury"].attrib["cx"]) > float(circles["grays"].attrib["cx"])
    assert float(circles["tilbury"].attrib["cy"]) > float(circles["grays"].attrib["cy"])


@pytest.mark.parametrize("area", ["East of England", "england", "881"])
def test_region_england_and_dfe_number_maps(area: str) -> None:
    root = _parse(render_svg(area))
    assert len(list(root.iter(f"{SVG}path"))) >= 1


def test_unknown_map_area() -> None:
    with pytest.raises(UnknownAuthorityError, match="region"):
        render_svg("Atlantis")


@pytest.mark.parametrize("width", [0, -5, 99, 10_001])
def test_map_width_out_of_range_is_an_error(width: int) -> None:
    with pytest.raises(GeographyError, match="width"):
        render_svg("Thurrock", width=width)


def test_map_point_outside_great_britain() -> None:
    with pytest.raises(ValueError, match="Great Britain"):
        MapPoint.at("BT1 1AA")


def test_offline_geocoder_is_a_geopy_geocoder() -> None:
    geocoder = OfflineGeocoder()
    assert isinstance(geocoder, Geocoder)
    place = geocoder.geocode("cm1 1aa")
    assert isinstance(place, GeopyLocation)
    assert place.address == "CM1 1AA, Chelmsford, Essex, England"
    loc = locate("CM1 1AA")
    assert (place.latitude, place.longitude) == (loc.lat, loc.lon)
    assert place.raw["precision"] == "postcode"


def test_offline_geocoder_approximate_authority_and_misses() -> None:
    geocoder = OfflineGeocoder()
    sector = geocoder.geocode("CM1 1", exactly_one=False)
    assert isinstance(sector, list) and sector[0].raw["precision"] == "sector"
    essex = geocoder.geocode("Essex")
    assert essex is not None and essex.raw["precision"] == "authority"
    assert 51.4 < essex.latitude < 52.1
    assert geocoder.geocode("221B Baker Street") is None
    assert OfflineGeocoder(approximate=False).geocode("CM1 1") is None


def test_reverse_geocode_finds_the_postcode() -> None:
    loc = locate("RM17 5RW")
    found = OfflineGeocoder().reverse((loc.lat, loc.lon))
    assert found is not None
    assert found.raw["metres_away"] < 1.0
    # Several postcodes can share one centroid; all are at distance zero.
    assert locate(found.raw["postcode"]).easting == loc.easting
    postcode, metres = nearest_postcode(54.60244, -5.92229)
    assert locate(postcode).country == "Northern Ireland" and metres < 10
    with pytest.raises(ValueError, match="out of range"):
        nearest_postcode(95.0, 0.0)


def _label_boxes(root: ET.Element) -> list[tuple[float, float, float, float]]:
    """Each point label's box, estimated as the renderer does (11 px sans-serif)."""
    boxes = []
    for t in root.iter(f"{SVG}text"):
        if t.attrib.get("font-size") != "11":
            continue
        x, y, w = float(t.attrib["x"]), float(t.attrib["y"]), 6.2 * len(t.text or "")
        anchor = t.attrib.get("text-anchor", "start")
        left = x if anchor == "start" else (x - w if anchor == "end" else x - w / 2)
        boxes.append((left, y - 10, left + w, y + 2))
    return boxes


def test_labels_of_points_close_together_do_not_collide() -> None:
    # Five points within a few hundred metres: at a county's scale they are one dot, so each
    # label must find its own place (or be left off) rather than print over another.
    base = MapPoint.at("CM1 1QH")
    points = [
        MapPoint(base.easting + 60 * i, base.northing + 40 * i, f"V{i:02d} option", "options")
        for i in range(5)
    ]
    root = _parse(render_svg("Essex", points, width=640))
    boxes = _label_boxes(root)
    assert len(boxes) >= 3  # most still labelled
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    # every point keeps its dot and tooltip, labelled or not
    tips = [c.find(f"{SVG}title") for c in root.iter(f"{SVG}circle")]
    assert [t.text for t in tips if t is not None] == [p.label for p in points]


def test_an_extent_zooms_to_a_locality() -> None:
    home = MapPoint.at("CM1 1QH", label="home")
    far = MapPoint.at("CO1 1PJ", label="far")  # Colchester, about 22 miles away
    whole = _parse(render_svg("Essex", [home, far], width=600))
    e, n = home.easting, home.northing
    zoomed = _parse(
        render_svg("Essex", [home], width=600, extent=(e - 5000, e + 5000, n - 5000, n + 5000))
    )

    # The same 600 px show 10 km instead of the county: the scale bar says fewer miles.
    def bar(root: ET.Element) -> str:
        return next(t.text for t in root.iter(f"{SVG}text") if (t.text or "").endswith("miles"))

    assert float(bar(zoomed).split()[0]) < float(bar(whole).split()[0])
    circle = next(iter(zoomed.iter(f"{SVG}circle")))
    assert abs(float(circle.attrib["cx"]) - 300) < 1  # the home is in the middle
    with pytest.raises(GeographyError, match="extent"):
        render_svg("Essex", extent=(e, e, n, n + 1))
