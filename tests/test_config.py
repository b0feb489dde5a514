"""Configuration: one schema, defaults rendered from it, and every problem of a file named at once."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import time
from pathlib import Path

import pytest

from etl.clustering import GroupingSettings
from etl.config import (
    DEFAULTS_PATH,
    SECTIONS,
    Config,
    ConfigError,
    Settings,
    effective_config,
    load_config,
    render_defaults,
)
from etl.noise import NoiseSettings, _settings

# etl/defaults.toml as it was before the schema: a file copied from it must keep loading to the
# same values.
LEGACY_DEFAULTS = """
[time]
account_time_zone = "UTC"
reporting_time_zone = "UTC"

[hours]
business_start = "08:00"
business_end = "18:00"
sleep_start = "22:00"
sleep_end = "08:00"

[interruptions]
merge_seconds = 60
notification_types = ["sms_notification", "phone_notification", "push_notification"]

[noise]
transient_seconds = 300

[major]
priorities = []
min_acknowledging_users = 2
stale_open_days = 7

[health]
good_monthly_off_hours_interruptions = 2
bad_monthly_off_hours_interruptions = 7
burnout_monthly_off_hours_interruptions = 19
sleep_interruption_weight = 2
consecutive_night_penalty = 10
overload_team_multiplier = 2
overload_min_sleep_interruptions = 7
overload_consecutive_nights = 3

[recommendations]
replay_weeks = 4                 # counterfactual period: the last N weeks of synced history
min_incidents = 5                # an alert type needs this many incidents to be recommended on
transient_share = 0.5            # pause_transient: share of its incidents that are transient
never_acked_share = 0.9          # stop_paging: share of its incidents nobody acknowledged
maintenance_min_weeks = 3        # a weekly slot must recur in this many distinct weeks

[grouping]
window_seconds = 600             # two incidents "fire together" when at most this far apart
min_cooccurrences = 3            # a pair must fire together at least this often
min_lift = 2.0                   # ... this many times more often than chance
max_decoy_ratio = 0.1            # pairs kept only where a time-shift decoy passes <= this share
"""


@pytest.fixture(autouse=True)
def _no_ambient_config(tmp_path, monkeypatch):
    """No ./pagerlens.toml or $PAGERLENS_CONFIG from the machine running the tests."""
    monkeypatch.delenv("PAGERLENS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "pagerlens.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    assert str(caught.value) == "\n".join(problems)
    for problem in problems:
        assert problem.startswith(f"{path}: "), problem
        assert "\n" not in problem
    return problems


# -- defaults ---------------------------------------------------------------------------------
def test_defaults_match_the_documented_metrics_contract():
    config = load_config()
    assert config == Config()
    assert config.transient_seconds == 300
    assert config.interruption_merge_seconds == 60
    assert config.account_time_zone == "UTC" and config.reporting_time_zone == "UTC"
    assert config.business_start == time(8) and config.sleep_start == time(22)
    assert _settings(NoiseSettings, config.recommendations, "recommendations") == NoiseSettings()
    assert _settings(GroupingSettings, config.grouping, "grouping") == GroupingSettings()


def test_defaults_toml_is_rendered_from_the_schema():
    assert DEFAULTS_PATH.read_text() == render_defaults(), (
        "etl/defaults.toml is stale: python -m etl.config > etl/defaults.toml"
    )
    with DEFAULTS_PATH.open("rb") as fh:
        assert Settings.model_validate(tomllib.load(fh)) == Settings()
    assert load_config(DEFAULTS_PATH) == Config()


def test_every_schema_key_is_documented():
    for name, section in SECTIONS.items():
        assert section.__doc__, name
        for key, info in section.model_fields.items():
            assert info.description, f"[{name}] {key}"


@pytest.mark.parametrize(
    ("section", "settings"), [("recommendations", NoiseSettings), ("grouping", GroupingSettings)]
)
def test_noise_and_grouping_sections_mirror_their_settings(section, settings):
    """Every field of NoiseSettings/GroupingSettings is a key of its section, same default."""
    fields = {f.name: f.default for f in dataclasses.fields(settings)}
    schema = getattr(Settings(), section).model_dump()
    assert schema == fields


def test_a_file_copied_from_the_old_defaults_loads_to_the_same_values(tmp_path):
    config = load_config(_write(tmp_path, LEGACY_DEFAULTS))
    assert config == Config()
    assert _settings(NoiseSettings, config.recommendations, "recommendations") == NoiseSettings()
    assert _settings(GroupingSettings, config.grouping, "grouping") == GroupingSettings()
    assert config.sql_params() == Config().sql_params()


# -- overrides ---------------------------------------------------------------------------------
def test_a_file_overrides_only_what_it_names(tmp_path):
    path = _write(
        tmp_path,
        "[noise]\ntransient_seconds = 120\n[grouping]\nwindow_seconds = 300\n"
        '[time]\naccount_time_zone = "Europe/Berlin"\n',
    )
    config = load_config(path)
    assert config.transient_seconds == 120
    assert config.account_time_zone == "Europe/Berlin"
    assert config.interruption_merge_seconds == 60
    assert _settings(GroupingSettings, config.grouping, "grouping").window_seconds == 300
    assert config.sql_params()["transient_seconds"] == 120


def test_the_environment_and_the_working_directory_name_the_file(tmp_path, monkeypatch):
    (tmp_path / "pagerlens.toml").write_text("[noise]\ntransient_seconds = 30\n")
    assert load_config().transient_seconds == 30
    other = tmp_path / "other.toml"
    other.write_text("[noise]\ntransient_seconds = 40\n")
    monkeypatch.setenv("PAGERLENS_CONFIG", str(other))
    assert load_config().transient_seconds == 40


@pytest.mark.parametrize(
    ("text", "attribute", "value"),
    [
        # TOML's own local time is as good as a string.
        ("[hours]\nbusiness_start = 09:30:00\n", "business_start", time(9, 30)),
        # An integral float where a whole number is meant loads as before.
        ("[interruptions]\nmerge_seconds = 60.0\n", "interruption_merge_seconds", 60),
        # A whole number where a number is meant.
        ("[major]\nstale_open_days = 3\n", "stale_open_major_days", 3.0),
        ('[major]\npriorities = ["P1", "SEV-1"]\n', "major_priorities", ("P1", "SEV-1")),
        (
            '[interruptions]\nnotification_types = ["phone_notification"]\n',
            "interruption_notification_types",
            ("phone_notification",),
        ),
    ],
)
def test_values_load(tmp_path, text, attribute, value):
    assert getattr(load_config(_write(tmp_path, text)), attribute) == value


# -- hours: the overnight decision --------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "end"), [("23:00", "07:00"), ("00:00", "08:00"), ("01:30", "09:00")]
)
def test_sleep_hours_may_cross_midnight(tmp_path, start, end):
    config = load_config(
        _write(tmp_path, f'[hours]\nsleep_start = "{start}"\nsleep_end = "{end}"\n')
    )
    assert config.sleep_start == time.fromisoformat(start)
    assert config.sleep_end == time.fromisoformat(end)


def test_an_overnight_business_day_is_refused(tmp_path):
    path = _write(tmp_path, '[hours]\nbusiness_start = "18:00"\nbusiness_end = "08:00"\n')
    [problem] = _problems(path)
    assert "[hours] business_start, business_end:" in problem
    assert "cannot cross midnight" in problem and "18:00-08:00" in problem


def test_an_empty_sleep_window_is_refused(tmp_path):
    [problem] = _problems(_write(tmp_path, '[hours]\nsleep_start = "08:00"\n'))
    assert "[hours] sleep_start, sleep_end:" in problem and "no sleep hours" in problem


# -- every row of the issue ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[time]\naccount_time_zon = "Europe/Londn"\n[bogus]\nkey = 1\n',
            [
                "[time] account_time_zon: unknown key; did you mean account_time_zone?",
                "[bogus]: unknown section (sections: time, hours,",
            ],
        ),
        (
            '[time]\naccount_time_zone = "Europe/Londn"\n',
            '[time] account_time_zone: unknown time zone "Europe/Londn"; did you mean Europe/London?',
        ),
        (
            '[interruptions]\nnotification_types = "sms_notification"\n',
            '[interruptions] notification_types: expected a list, for example ["a", "b"], got',
        ),
        (
            "[health]\ngood_monthly_off_hours_interruptions = -5\n"
            "bad_monthly_off_hours_interruptions = 1e308\n"
            "burnout_monthly_off_hours_interruptions = nan\n"
            "[noise]\ntransient_seconds = -1\n"
            "[interruptions]\nmerge_seconds = 99999999999999999\n",
            [
                "[interruptions] merge_seconds: must be at most 86400, got 99999999999999999",
                "[noise] transient_seconds: must be at least 0, got -1",
                "[health] good_monthly_off_hours_interruptions: must be at least 0, got -5",
                "[health] bad_monthly_off_hours_interruptions: must be at most 10000, got 1e+308",
                "[health] burnout_monthly_off_hours_interruptions: expected a finite number, got nan",
            ],
        ),
        (
            '[hours]\nbusiness_start = "18:00"\nbusiness_end = "08:00"\n',
            "[hours] business_start, business_end: business hours 18:00-08:00",
        ),
        ('[grouping]\nmin_lift = "x"\n', '[grouping] min_lift: expected a number, got "x"'),
        (
            "[major]\npriorities = [1, {a=2}]\n",
            [
                "[major] priorities[0]: expected a string in quotes, got 1",
                "[major] priorities[1]: expected a string in quotes, got {'a': 2}",
            ],
        ),
        (
            '[recommendations]\nreplay_weeks = "x"\n',
            '[recommendations] replay_weeks: expected a whole number, got "x"',
        ),
        ("time = 5\n", "[time]: must be a section ([time] with its keys), got 5"),
        # A few more that the schema catches the same way.
        (
            '[interruptions]\nnotification_types = ["sms"]\n',
            'notification_types[0]: unknown notification type "sms" (one of sms_notification',
        ),
        ("[interruptions]\nmerge_seconds = 60.5\n", "merge_seconds: expected a whole number"),
        ("[noise]\ntransient_seconds = true\n", "transient_seconds: expected a whole number"),
        (
            "[time]\ntransient_seconds = 5\n",
            "[time] transient_seconds: unknown key here; it belongs in [noise]",
        ),
        (
            "transient_seconds = 5\n",
            "transient_seconds: a key outside any section; it belongs in [noise]",
        ),
        (
            '[hours]\nsleep_end = "08:00+01:00"\n',
            "[hours] sleep_end: expected a local time without",
        ),
        (
            "[health]\ngood_monthly_off_hours_interruptions = 8\n",
            "must rise strictly (good < bad < burnout), got 8, 7, 19",
        ),
        (
            "[grouping]\nmin_joint_services = 20\n",
            "min_joint_services 20 is above max_joint_services 12",
        ),
        ("[grouping]\nscan_alpha = 0\n", "[grouping] scan_alpha: must be more than 0, got 0"),
        (
            "[hours]\nsleep_start = 22:00:00.5\n",
            '[hours] sleep_start: expected a local time "HH:MM" or "HH:MM:SS"',
        ),
        ('[major]\npriorities = [""]\n', "[major] priorities[0]: must not be empty"),
        ("[interruptions]\nnotification_types = []\n", "expected at least one value"),
    ],
)
def test_each_problem_names_file_section_and_key(tmp_path, text, expected):
    """``expected``: the wanted problem, or the list of them in order."""
    expected = [expected] if isinstance(expected, str) else expected
    path = _write(tmp_path, text)
    problems = _problems(path)
    assert len(problems) == len(expected), problems
    for problem, wanted in zip(problems, expected, strict=True):
        assert wanted in problem, problems


def test_all_problems_are_reported_at_once(tmp_path):
    path = _write(
        tmp_path,
        '[noise]\ntransient_seconds = "x"\n[major]\nmin_acknowledging_users = 0\n'
        "[grouping]\nwindow_secs = 1\n",
    )
    problems = _problems(path)
    assert len(problems) == 3
    assert any("did you mean window_seconds?" in problem for problem in problems)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"\xff\xfe\x00binary",
            "not a TOML configuration (not UTF-8 text: byte 0 cannot be decoded)",
        ),
        (b"[noise\n", "invalid TOML: "),
        (b"a = 1\na = 2\n", "invalid TOML: "),
    ],
)
def test_unreadable_files_are_named(tmp_path, content, expected):
    [problem] = _problems(_write(tmp_path, content))
    assert expected in problem


def test_a_missing_or_directory_config_is_named(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found: .*nowhere.toml"):
        load_config(tmp_path / "nowhere.toml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_unknown_grouping_key_is_refused_when_the_file_is_read(tmp_path):
    [problem] = _problems(_write(tmp_path, "[grouping]\nwindow_secs = 300\n"))
    assert "[grouping] window_secs: unknown key; did you mean window_seconds?" in problem


# -- effective configuration --------------------------------------------------------------------
def test_effective_config_says_where_each_value_came_from(tmp_path):
    path = _write(tmp_path, '[time]\nreporting_time_zone = "Europe/Paris"\n')
    source, rows = effective_config(path)
    assert source == path
    origins = {(row.section, row.key): (row.value, row.origin) for row in rows}
    assert origins[("time", "reporting_time_zone")] == ("Europe/Paris", str(path))
    assert origins[("time", "account_time_zone")] == ("UTC", "default")
    assert len(origins) == sum(len(section.model_fields) for section in SECTIONS.values())
