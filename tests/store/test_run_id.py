"""The run id: paths and the device leave it unchanged; the experiment, the task's version and template change it."""
from __future__ import annotations

from ptune.config.compose import compose
from ptune.store.run_id import run_id
from tests.helpers import SMOKE


def test_run_id_ignores_paths_but_not_the_experiment(make_cfg, tmp_path):
    base = run_id(make_cfg(*SMOKE, "method=ptv2"))
    assert run_id(make_cfg(*SMOKE, "method=ptv2", f"paths.results_dir={tmp_path}/x", "device=cpu")) == base
    assert run_id(make_cfg(*SMOKE, "method=ptv2", "seed=2")) != base
    assert run_id(make_cfg(*SMOKE, "method=ptv2", "prompt_length=8")) != base


def test_task_version_and_template_go_into_the_run_id():
    base = compose(["task=wic"])
    assert base.task.version == 1
    ids = {run_id(base), run_id(compose(["task=wic", "task.version=2"])),
           run_id(compose(["task=wic", "task.template=ptv2_bert"]))}
    assert len(ids) == 3
