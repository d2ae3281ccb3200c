"""The tokenized splits, cached across the runs of one process."""
from __future__ import annotations

from ptune.train import feature_cache, runner
from tests.helpers import SMOKE


def test_a_sweep_in_one_process_tokenizes_each_split_once(make_cfg, tmp_path, monkeypatch, write_samples):
    from ptune.tasks.superglue.task import PairClassification

    feature_cache.clear()
    data = write_samples(tmp_path)
    calls = []
    original = PairClassification.features

    def counting(self, examples, tokenizer, max_length):
        calls.append(len(examples))
        return original(self, examples, tokenizer, max_length)

    monkeypatch.setattr(PairClassification, "features", counting)
    for method in ("prompt", "ptv2"):
        runner.execute(make_cfg(*SMOKE, f"method={method}", f"data_dir={data}"))
    assert len(calls) == 3  # train, dev, test: once for both runs
    runner.execute(make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}", "task.max_length=32"))
    assert len(calls) == 6  # another max length is another tokenization
