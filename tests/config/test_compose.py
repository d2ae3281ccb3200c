"""Composing a run config: an unknown group choice fails before any work listing the choices; an unknown key is
refused; rows go to outputs/results unless a reproduction sweep or the command names results/."""
from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException, MissingConfigException

from ptune.config.compose import compose


@pytest.mark.parametrize("group,name,choice", [("method", "ptv3", "ptv2"), ("task", "rtee", "rte"),
                                                ("model", "roberta-lrg", "roberta-large")])
def test_unknown_names_fail_before_any_work_listing_the_choices(group, name, choice):
    with pytest.raises(MissingConfigException) as error:
        compose([f"{group}={name}"])
    assert f"Could not find '{group}/{name}'" in str(error.value) and choice in str(error.value)


def test_unknown_keys_are_refused():
    with pytest.raises(ConfigCompositionException, match="lenght"):
        compose(["prompt_lenght=8"])


def test_an_ad_hoc_run_writes_outside_the_committed_results_and_the_reproduction_sweeps_into_them(monkeypatch):
    monkeypatch.delenv("PTUNE_RESULTS_DIR", raising=False)
    assert compose(["task=rte"]).paths.results_dir == "outputs/results"
    assert compose(["task=rte", "paths.results_dir=results"]).paths.results_dir == "results"
    for sweep in ("reproduce_minilm", "prompt_length_minilm"):
        cfg = compose([f"sweep={sweep}", "task=rte", "method=ptv2"])
        assert (cfg.paths.results_dir, cfg.reuse_rows_from) == ("results", "results/search")
    for method in ("finetune", "prompt", "prefix", "ptv2"):
        assert compose([f"sweep=search_minilm_{method}", "task=rte"]).paths.results_dir == "results/search"
