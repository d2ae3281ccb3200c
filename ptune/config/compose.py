"""Where the Hydra configs live, and composing them outside the command line (tests, scripts)."""
from __future__ import annotations

from pathlib import Path

import yaml
from omegaconf import OmegaConf

from ptune.config.schema import register


def config_dir() -> Path:
    """conf/ shipped inside the wheel (ptune/conf), else the checkout's top-level conf/."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "conf"
    return packaged if packaged.is_dir() else package.parent / "conf"


def by_run_preset_path(preset: str, method: str, model: str, task: str) -> Path:
    """conf/preset/by_run/<preset>_<method>_<model>_<task>.yaml: the settings a search chose for one run (written by
    `ptune pick --write`; conf/config.yaml's defaults list applies it, naming it the same way for Hydra)."""
    return config_dir() / "preset" / "by_run" / f"{preset}_{method}_{model}_{task}.yaml"


def by_run_prompt_length(prefix: str, *, _root_) -> int:
    """${by_run_prompt_length:minilm_ptv2}: the prompt length in the by_run preset of <preset>_<method> (the
    prefix) for the run's model and task, the one the settings search chose for that preset and method. The
    searches of prompt and prefix tuning run at ptv2's choice (conf/sweep/search_minilm_prompt.yaml), so the
    methods compare at one prompt length per task."""
    preset, method = prefix.rsplit("_", 1)  # method names have no "_"
    path = by_run_preset_path(preset, method, _root_.model.name, _root_.task.name)
    where = f"prompt_length=${{by_run_prompt_length:{prefix}}}: {path}"
    if not path.is_file():
        raise ValueError(f"{where} does not exist: run and pick that search first "
                         f"(ptune pick sweep=search_<preset>_<method> task={_root_.task.name} --write)")
    value = (yaml.safe_load(path.read_text()) or {}).get("prompt_length")
    if value is None:
        raise ValueError(f"{where} sets no prompt_length")
    return int(value)


OmegaConf.register_new_resolver("by_run_prompt_length", by_run_prompt_length, replace=True)


def compose(overrides: list[str] | None = None):
    """The resolved run config for `overrides`, exactly as `ptune run` would build it (ranges are checked
    by ptune.config.checks.validate, which runs do first)."""
    # deferred: Hydra, which the callers of config_dir alone (tables, grids) do not need
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    register()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=list(overrides or []))


def unset(key: str, meaning: str):
    """${ptune_unset:KEY,MEANING}: a setting a launcher preset leaves to the user; reading it unset fails."""
    raise ValueError(f"{key} is not set: it is {meaning}, which this launcher preset leaves to you "
                     f"(add {key}=... to the command)")


OmegaConf.register_new_resolver("ptune_unset", unset, replace=True)
