"""One ``Settings`` object: the flags, the config file, the workers' environment and ``create_app`` fill it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sinch_calling_server import create_app
from sinch_calling_server.cli import _settings, build_parser
from sinch_calling_server.settings import Application, Settings

from .conftest import KEY, OTHER_KEY, OTHER_SECRET, SECRET, SPEC


def test_flags_config_and_environment_fill_one_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "server.yaml"
    config.write_text(f"applications:\n  - key: {KEY}\n    secret: {SECRET}\nmax-skew: 60\nstate: old.db\n")
    monkeypatch.setenv("SINCH_APPLICATION_KEY", OTHER_KEY)
    monkeypatch.setenv("SINCH_APPLICATION_SECRET", OTHER_SECRET)
    args = build_parser().parse_args(["--config", str(config), "--state", "new.db", "--test-controls"])
    settings = _settings(args)
    assert [app.key for app in settings.applications] == [KEY, OTHER_KEY]  # config, then environment
    assert (settings.max_skew, settings.state, settings.test_controls) == (60.0, "new.db", True)  # flags win
    assert Settings.from_mapping(settings.to_json()) == settings  # what the worker processes read back


def test_a_config_file_is_checked_like_the_flags() -> None:
    with pytest.raises(ValueError, match="unknown option 'max_skw'"):
        Settings.from_mapping({"max_skw": 60})
    with pytest.raises(ValueError, match="0 to 65535"):
        Settings.from_mapping({"port": 70000})
    with pytest.raises(ValueError, match="mode: expected one of"):
        Settings.from_mapping({"mode": "simulated"})
    with pytest.raises(ValueError, match="true or false"):
        Settings.from_mapping({"replay_guard": "yes"})


def test_no_secret_in_a_repr() -> None:
    settings = Settings().replace(applications={KEY: SECRET}, upstream_application=f"{OTHER_KEY}:{OTHER_SECRET}")
    assert KEY in repr(settings) and SECRET not in repr(settings) and OTHER_SECRET not in repr(settings)


def test_create_app_takes_settings_and_single_options() -> None:
    settings = Settings(spec=str(SPEC), applications=(Application(KEY, SECRET),), max_body=1000)
    app = create_app(settings, validate_responses=True)
    assert (app.max_body, app.validate_responses, app.demo_application) == (1000, True, None)
    with pytest.raises(TypeError, match="deliver_in_background"):
        create_app(settings, deliver_in_background=False)


def test_every_field_has_help() -> None:
    for item in dataclasses.fields(Settings):
        assert item.metadata["help"], item.name
