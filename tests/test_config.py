"""Configuration: defaults, overrides, and clear errors naming the offending key."""

from __future__ import annotations

import pytest

from etl.clustering import GroupingSettings
from etl.config import ConfigError, load_config
from etl.noise import NoiseSettings, _settings


def test_defaults_match_the_documented_metrics_contract():
    config = load_config()
    assert config.transient_seconds == 300
    assert config.interruption_merge_seconds == 60
    assert config.account_time_zone == "UTC" and config.reporting_time_zone == "UTC"
    # defaults.toml restates the code's defaults: the two must not drift apart.
    assert _settings(NoiseSettings, config.recommendations, "recommendations") == NoiseSettings()
    assert _settings(GroupingSettings, config.grouping, "grouping") == GroupingSettings()


def test_a_file_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "pagerlens.toml"
    path.write_text(
        "[noise]\ntransient_seconds = 120\n[grouping]\nwindow_seconds = 300\n"
        '[time]\naccount_time_zone = "Europe/Berlin"\n'
    )
    config = load_config(path)
    assert config.transient_seconds == 120
    assert config.account_time_zone == "Europe/Berlin"
    assert config.interruption_merge_seconds == 60
    assert _settings(GroupingSettings, config.grouping, "grouping").window_seconds == 300
    assert config.sql_params()["transient_seconds"] == 120


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[time]\naccount_time_zone = "Mars/Olympus"\n', "time.account_time_zone"),
        ('[hours]\nbusiness_start = "8 o\'clock"\n', "hours.business_start"),
        ("[noise\n", "pagerlens.toml"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, message):
    path = tmp_path / "pagerlens.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config(path)


def test_unknown_grouping_key_is_refused(tmp_path):
    path = tmp_path / "pagerlens.toml"
    path.write_text("[grouping]\nwindow_secs = 300\n")
    config = load_config(path)
    with pytest.raises(ConfigError, match="window_secs"):
        _settings(GroupingSettings, config.grouping, "grouping")
