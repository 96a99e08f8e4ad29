"""Changelog entries are towncrier fragments typed as the project configures them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_every_fragment_is_named_after_a_configured_type():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    types = {t["directory"] for t in config["towncrier"]["type"]}
    assert types == {"feature", "fix", "change"}
    template = Path(config["towncrier"]["template"]).name
    fragments = [p for p in (ROOT / "changelog.d").iterdir() if p.name != template]
    assert fragments
    for path in fragments:
        match = re.fullmatch(r"[a-z0-9-]+\.([a-z]+)\.md", path.name)
        assert match is not None, path.name
        assert match.group(1) in types, path.name
        assert path.read_text(encoding="utf-8").lstrip().startswith("- "), path.name
