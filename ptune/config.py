"""Where the Hydra configs live, and composing them outside the command line (tests, scripts)."""
from __future__ import annotations

from pathlib import Path


def config_dir() -> Path:
    """conf/ shipped inside the wheel (ptune/conf), else the checkout's top-level conf/."""
    packaged = Path(__file__).resolve().parent / "conf"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[1] / "conf"


def compose(overrides: list[str] | None = None):
    """The resolved run config for `overrides`, exactly as `ptune run` would build it (ranges are checked
    by ptune.checks.validate, which runs do first)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from ptune.schema import register

    register()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=list(overrides or []))
