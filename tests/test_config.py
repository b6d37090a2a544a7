"""YAML -> dataclasses: unknown keys and wrong types are errors; the shipped YAML is complete and commented."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from speaksphere.config import ConfigError, from_dict, load_config, to_dict
from speaksphere.learner.recommend.recommender import DEFAULT_RECOMMEND_CONFIG_PATH
from speaksphere.learner.recommend.simulate import DEFAULT_SIMULATION_CONFIG_PATH
from speaksphere.settings import DEFAULT_SETTINGS_PATH, Settings, load_settings

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@dataclass
class Inner:
    rate: float = 1.0
    name: str = "x"


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    steps: int = 3
    tags: list[str] = field(default_factory=list)
    shape: tuple[int, ...] = (1, 2)
    mode: Literal["fast", "slow"] = "fast"
    limit: float | None = None


def test_nested_mapping_fills_nested_dataclasses():
    config = from_dict(Outer, {"inner": {"rate": 2}, "steps": 5, "tags": ["a"], "shape": [3, 4], "mode": "slow"})
    assert config == Outer(Inner(2.0, "x"), 5, ["a"], (3, 4), "slow", None)
    assert isinstance(config.inner.rate, float)
    assert to_dict(config)["inner"] == {"rate": 2.0, "name": "x"}


@pytest.mark.parametrize("data, words", [
    ({"stepz": 5}, "unknown setting"),
    ({"inner": {"rait": 1.0}}, "inner"),
    ({"steps": "five"}, "expected int"),
    ({"steps": True}, "boolean"),
    ({"inner": {"rate": "fast"}}, "expected float"),
    ({"tags": "a"}, "expected a list"),
    ({"mode": "medium"}, "not one of"),
    ({"limit": "none"}, "expected float"),
    ({"inner": 3}, "mapping"),
])
def test_bad_settings_are_refused_with_their_place(data, words):
    with pytest.raises(ConfigError, match=words):
        from_dict(Outer, data)


def test_empty_yaml_means_defaults(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing set\n")
    assert load_config(path, Outer) == Outer()


def test_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml", Outer)
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, Outer)


def test_app_settings_load_and_match_the_defaults():
    assert load_settings(DEFAULT_SETTINGS_PATH) == Settings()
    assert load_settings(DEFAULT_SETTINGS_PATH).audio.max_seconds == 300.0


def test_the_shipped_settings_hold_overrides_only():
    """The dataclasses' defaults are the defaults: settings.yaml repeats none of them."""
    import dataclasses

    import yaml

    def repeated(data: dict, defaults, where: str) -> list[str]:
        found = []
        for key, value in data.items():
            default = getattr(defaults, key)
            if dataclasses.is_dataclass(default):
                found += repeated(value or {}, default, f"{where}{key}.")
            elif from_dict(type(defaults), {key: value}) == defaults:
                found.append(f"{where}{key}")
        return found

    assert repeated(yaml.safe_load(DEFAULT_SETTINGS_PATH.read_text()) or {}, Settings(), "") == []


SHIPPED_CONFIGS = sorted(CONFIGS.glob("*.yaml")) + [DEFAULT_SETTINGS_PATH, DEFAULT_RECOMMEND_CONFIG_PATH,
                                                    DEFAULT_SIMULATION_CONFIG_PATH]


@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=lambda p: p.name)
def test_every_value_in_shipped_configs_has_a_comment(path):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.endswith(":") or stripped.startswith("- "):
            continue
        assert "#" in stripped, f"{path.name}:{number} has a value without a comment: {line!r}"
