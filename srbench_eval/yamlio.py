"""Reading YAML (the package's registries, study files) with libyaml's parser where PyYAML was built
with it: the same safe loader in C, about 7x faster on ``datasets.yaml`` (25 ms of every run's
start-up in Python)."""

from __future__ import annotations

from typing import Any

import yaml


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``, by ``yaml.CSafeLoader`` when available."""

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (a safe loader)
