"""Storms read from the service graph (etl.noise.dependency_storms, find_groups with
dependencies) on hand-made frames: a root and its dependents in one burst, unrelated services
in the same minutes, chains too long, chance bursts on busy services, an outage recovering at
once among them, a shared dependent."""

from __future__ import annotations

import random

import pandas as pd

from etl.noise import GroupingSettings, find_groups
from etl.noise.dependency_storms import dependency_bursts, neighbourhoods
from tests.etl.noise_support import T0, _incident_frame, _storm_frame

EDGES = pd.DataFrame(
    {
        "supporting_service_id": ["db", "db", "db", "queue", "queue"],
        "dependent_service_id": ["api", "checkout", "search", "mail", "batch"],
    }
)


def _prepared(rows: list[dict]) -> pd.DataFrame:
    frame = _incident_frame(rows)
    frame["epoch"] = (frame["created_at"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    frame["template"] = frame["service_id"] + " alert"
    frame["template_id"] = frame["template"]
    if "r" in frame:  # resolution, seconds after T0 like t
        frame["resolved_epoch"] = (T0 - pd.Timestamp(0, tz="UTC")).total_seconds() + frame.pop("r")
    return frame


def _row(incident_id: str, t: int, service: str) -> dict:
    return {"incident_id": incident_id, "t": t, "service_id": service}


def _busy(services: tuple[str, ...], incidents: int, seed: int, outage: dict) -> list[dict]:
    """``services`` busy (``incidents`` each at random in 14 days, open 10-90 minutes), and one
    outage: per service, in paging order, (seconds after its start the service pages, seconds
    after its start the incident resolves)."""
    rng = random.Random(seed)
    rows = []
    for service in services:
        for n in range(incidents):
            t = rng.randint(0, 86400 * 14)
            rows.append({**_row(f"{service}{n}", t, service), "r": t + rng.randint(600, 5400)})
    start = 86400 * 7 + 1234
    for service, (paged, resolved) in outage.items():
        rows.append({**_row(f"OUT-{service}", start + paged, service), "r": start + resolved})
    return rows


def test_neighbourhoods_are_a_supporting_service_and_its_dependents() -> None:
    edges = pd.concat(
        [
            EDGES,
            pd.DataFrame(
                {"supporting_service_id": ["db", "x"], "dependent_service_id": ["db", None]}
            ),
        ]
    )
    assert neighbourhoods(edges) == {
        "db": ["api", "checkout", "db", "search"],
        "queue": ["batch", "mail", "queue"],
    }


def test_a_root_and_its_dependents_in_one_burst_are_one_occurrence() -> None:
    rows = [
        _row("DB", 1000, "db"),
        _row("API", 1100, "api"),
        _row("CO1", 1200, "checkout"),
        _row("CO2", 1350, "checkout"),
        # The same minutes on a service outside db's neighbourhood: not part of it.
        _row("MAIL", 1150, "mail"),
        # Alone on db's services, days later: no burst.
        _row("API-LATER", 86_400 * 9, "api"),
        _row("SE-LATER", 86_400 * 20, "search"),
    ]
    assigned, calibration = dependency_bursts(_prepared(rows), EDGES)
    assert sorted(assigned["incident_id"]) == ["API", "CO1", "CO2", "DB"]
    assert assigned["occurrence_id"].nunique() == 1
    assert set(assigned["root_service_id"]) == {"db"}
    # Forty decoys of the 21-day history: none bursts, so one burst is unlikely by chance.
    # No resolution times: one level, the services covered (3 of db's 4).
    assert calibration["db"] | {"chance": None} == {
        "bursts": 1,
        "levels": [3],
        "led": [False],
        "decoy_bursts": [0],
        "decoys": 40,
        "chance": None,
        "kept": True,
        "level": 3,
    }
    assert calibration["db"]["chance"] < GroupingSettings().dependency_alpha


def test_services_with_no_shared_supporting_service_form_no_burst() -> None:
    # api, mail and batch fire together but no service supports all of them.
    rows = [_row("A", 1000, "api"), _row("M", 1060, "mail"), _row("B", 1120, "batch")]
    assigned, _ = dependency_bursts(_prepared(rows), EDGES)
    assert assigned.empty


def test_two_services_are_not_a_burst_and_a_long_chain_is_cut() -> None:
    settings = GroupingSettings()
    two = [_row("DB", 1000, "db"), _row("API", 1100, "api")]
    assert dependency_bursts(_prepared(two), EDGES, settings)[0].empty
    # Each within the link of the previous, but the third is past dependency_max_seconds
    # of the first: the chain ends before it.
    step = settings.dependency_link_seconds
    spread = [
        _row("DB", 0, "db"),
        _row("API", step, "api"),
        _row("CO", settings.dependency_max_seconds + 1, "checkout"),
    ]
    assert dependency_bursts(_prepared(spread), EDGES, settings)[0].empty


def test_busy_services_whose_decoy_bursts_as_often_form_no_group() -> None:
    """Four busy services, each paging every few minutes at random: they meet in bursts by
    chance, and the decoy history (days shifted per service) meets as often."""
    rng = random.Random(3)
    rows = [
        _row(f"{service}{n}", rng.randint(0, 86400 * 14), service)
        for service in ("db", "api", "checkout", "search")
        for n in range(1500)
    ]
    assigned, calibration = dependency_bursts(_prepared(rows), EDGES)
    assert assigned.empty
    assert calibration["db"]["bursts"] > 0 and not calibration["db"]["kept"]


def test_an_outage_that_recovers_at_once_stands_out_where_chance_bursts_do_not() -> None:
    """Three busy services (150 incidents each in 14 days, open 10-90 minutes): they meet in
    bursts with two of them resolving together about as often in their decoys, so those
    bursts prove nothing. One outage, where all three recover within two minutes, is the
    stronger kind that chance rarely copies: it alone is kept (at level 3, not 2)."""
    edges = pd.DataFrame({"supporting_service_id": "db", "dependent_service_id": ["api", "co"]})
    outage = {"db": (0, 2400), "api": (90, 2460), "co": (180, 2520)}
    rows = _busy(("db", "api", "co"), 150, 2, outage)
    assigned, calibration = dependency_bursts(_prepared(rows), edges)
    assert sorted(assigned["incident_id"]) == ["OUT-api", "OUT-co", "OUT-db"]
    figures = calibration["db"]
    assert figures["levels"] == [2, 3] and figures["led"] == [True, False]
    assert figures["level"] == 3
    # The weak kind: more real bursts than the outage, and even led by db the decoys have it
    # often enough (3 in 40: one such burst has a chance of 0.07) to explain them.
    assert figures["bursts"] >= 2 and figures["decoy_bursts"][0] >= 3


def _busy_three(outage_order: tuple[str, ...]) -> list[dict]:
    """db, api and co busy (100 incidents each in 14 days, open 10-90 minutes), and one outage
    paging in ``outage_order`` 90 s apart on which only db and api recover together (co's
    incident closed early)."""
    closed = {"db": 2400, "api": 2460, "co": 700}
    outage = {service: (90 * k, closed[service]) for k, service in enumerate(outage_order)}
    return _busy(("db", "api", "co"), 100, 0, outage)


def test_a_weak_burst_counts_when_the_supporting_service_pages_first() -> None:
    """Three busy services meet in bursts with two of them resolving together twice in the
    decoys (in 20 of 40), so one such burst is no evidence whatever its order. Led by db, the
    supporting service, it is the kind the decoys never copy (db first in none of them): the
    outage is kept at the weak level. The same outage with api paging first is not."""
    edges = pd.DataFrame({"supporting_service_id": "db", "dependent_service_id": ["api", "co"]})
    assigned, calibration = dependency_bursts(_prepared(_busy_three(("db", "api", "co"))), edges)
    assert sorted(assigned["incident_id"]) == ["OUT-api", "OUT-co", "OUT-db"]
    figures = calibration["db"]
    assert figures["levels"] == [2, 3] and figures["led"] == [True, False]
    assert figures["level"] == 2 and figures["decoy_bursts"] == [0, 0]
    assigned, calibration = dependency_bursts(_prepared(_busy_three(("api", "db", "co"))), edges)
    assert assigned.empty and not calibration["db"]["kept"]


def test_the_whole_neighbourhood_recovering_at_once_stands_out() -> None:
    """Four busy services (200 incidents each in 14 days, open 10-90 minutes): their chance
    bursts have three of the four resolving together about once in five decoys, so a burst
    that must cover three is no evidence. One outage on which all four recover within three
    minutes is the kind the decoys never copy: it alone is kept, at the third level (4)."""
    edges = pd.DataFrame(
        {"supporting_service_id": "db", "dependent_service_id": ["api", "co", "web"]}
    )
    services = ("db", "api", "co", "web")
    outage = {service: (90 * k, 2400 + 60 * k) for k, service in enumerate(services)}
    assigned, calibration = dependency_bursts(_prepared(_busy(services, 200, 3, outage)), edges)
    assert sorted(assigned["incident_id"]) == [f"OUT-{s}" for s in sorted(services)]
    figures = calibration["db"]
    assert figures["levels"] == [2, 3, 4] and figures["led"] == [True, False, False]
    assert figures["level"] == 4
    # Three of four resolving together: the decoys have it too often to believe the outage.
    assert figures["decoy_bursts"][1] >= 0.1 * figures["decoys"]
    assert figures["decoy_bursts"][2] == 0


def test_a_shared_dependent_goes_to_the_larger_outage() -> None:
    edges = pd.concat(
        [EDGES, pd.DataFrame({"supporting_service_id": ["queue"], "dependent_service_id": ["api"]})]
    )
    rows = [
        _row("DB", 1000, "db"),
        _row("API", 1060, "api"),
        _row("CO", 1120, "checkout"),
        _row("SE", 1180, "search"),
    ]
    assigned, _ = dependency_bursts(_prepared(rows), edges)
    assert set(assigned["root_service_id"]) == {"db"}
    assert sorted(assigned["incident_id"]) == ["API", "CO", "DB", "SE"]


def test_find_groups_takes_graph_storms_first_and_cofiring_finds_the_rest() -> None:
    frame = _storm_frame()  # db, api and checkout fire together 5 times; noise elsewhere
    edges = pd.DataFrame(
        {"supporting_service_id": ["db", "db"], "dependent_service_id": ["api", "checkout"]}
    )
    plain = find_groups(frame)
    graph = find_groups(frame, dependencies=edges)
    # The same storms, now read from the graph: one group, the same occurrences' incidents.
    assert len(graph.groups) == 1
    group = graph.groups.iloc[0]
    assert group["service_ids"] == ["api", "checkout", "db"]
    assert group["occurrences"] == 5 and group["cohesion"] is None
    assert set(graph.assignments["incident_id"]) == set(plain.assignments["incident_id"])
    assert graph.quality["dependency_groups"] == 1
    # No dependencies, or an empty graph: the co-firing model alone, unchanged.
    empty = find_groups(frame, dependencies=edges.iloc[:0])
    pd.testing.assert_frame_equal(empty.assignments, plain.assignments)
    assert empty.groups["group_id"].tolist() == plain.groups["group_id"].tolist()


def test_graph_storms_are_deterministic_whatever_the_row_order() -> None:
    frame = _storm_frame()
    edges = pd.DataFrame(
        {"supporting_service_id": ["db", "db"], "dependent_service_id": ["api", "checkout"]}
    )
    first = find_groups(frame, dependencies=edges)
    shuffled = find_groups(frame.sample(frac=1.0, random_state=5), dependencies=edges)
    pd.testing.assert_frame_equal(
        first.assignments.sort_values("incident_id").reset_index(drop=True),
        shuffled.assignments.sort_values("incident_id").reset_index(drop=True),
    )


def test_a_burst_covers_most_of_a_large_neighbourhood() -> None:
    """Seven services (a root and six dependents): three of them paging together is a
    coincidence of busy services, six of them an outage (min_dependency_coverage 0.75)."""
    dependents = [f"d{i}" for i in range(6)]
    edges = pd.DataFrame({"supporting_service_id": "root", "dependent_service_id": dependents})
    few = [_row(f"F{i}", 1000 + 60 * i, s) for i, s in enumerate(["root", "d0", "d1"])]
    most = [_row(f"M{i}", 50_000 + 30 * i, s) for i, s in enumerate(["root", *dependents[:5]])]
    assigned, _ = dependency_bursts(_prepared(few + most), edges)
    assert sorted(assigned["incident_id"]) == [f"M{i}" for i in range(6)]


def test_cofiring_groups_the_graph_holds_apart_are_dropped() -> None:
    """db, api and checkout fire together five times. A graph that puts checkout in another
    component than db and api (all three in it) contradicts the group, and so does one that
    puts db and checkout apart without mentioning api; a graph that does not mention checkout
    proves nothing, and the co-firing group stands."""
    frame = _storm_frame()
    apart = pd.DataFrame(
        {"supporting_service_id": ["db", "queue"], "dependent_service_id": ["api", "checkout"]}
    )
    result = find_groups(frame, dependencies=apart)
    assert result.groups.empty and result.assignments.empty
    assert len(result.quality["dropped_apart_in_the_graph"]) == 1
    unknown = pd.DataFrame({"supporting_service_id": ["db"], "dependent_service_id": ["api"]})
    kept = find_groups(frame, dependencies=unknown)
    assert kept.groups["service_ids"].tolist() == [["api", "checkout", "db"]]
    partly = pd.DataFrame(
        {"supporting_service_id": ["db", "queue"], "dependent_service_id": ["search", "checkout"]}
    )
    assert find_groups(frame, dependencies=partly).groups.empty
