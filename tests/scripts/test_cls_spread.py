"""scripts/cls_spread.py: a run whose deep prefixes swamp the attention gives every example the same [CLS] vector."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from ptune.train import checkpoint, runner
from tests.helpers import SMOKE

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import cls_spread  # noqa: E402


def trained_ptv2_run(make_cfg, data):
    """A one-epoch ptv2 run on the sample data: its config, row folder, the script's arguments, its checkpoint."""
    cfg = make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}", "trainer.save_checkpoint=true", "trainer.epochs=1")
    row = runner.execute(cfg)
    args = argparse.Namespace(data_dir=str(data), output_dir=cfg.paths.output_dir, weights="best", split="dev",
                              examples=4)
    folder = Path(cfg.paths.results_dir) / "runs" / row.run_id
    return cfg, folder, args, checkpoint.checkpoint_path(cfg.paths.output_dir, row.run_id)


def test_huge_prefixes_make_the_cls_vector_the_same_for_every_example(make_cfg, tmp_path, write_samples):
    cfg, folder, args, path = trained_ptv2_run(make_cfg, write_samples(tmp_path))
    trained = cls_spread.spread(folder, args)
    assert trained["examples"] == 4 and trained["cls_std_across_examples"] > 0.01, trained

    saved = torch.load(path, weights_only=True)
    saved["weights"]["method.encoder.embedding.weight"] *= 1000  # keys that win every attention softmax
    torch.save(saved, path)
    swamped = cls_spread.spread(folder, args)
    assert swamped["cls_std_across_examples"] < 1e-3 * trained["cls_std_across_examples"], (trained, swamped)
    # the [CLS] query then attends to the prefix alone, in every prompted layer
    assert all(share < 0.99 for share in trained["cls_attention_on_prefix"]), trained
    assert len(swamped["cls_attention_on_prefix"]) == 2 and min(swamped["cls_attention_on_prefix"]) > 0.99, swamped


def test_the_prefix_keys_are_measured_beside_the_tokens_keys(make_cfg, tmp_path, write_samples):
    """prefix_key_rms / prefix_value_rms are the RMS of the key / value halves of the saved prefix table (computed
    here from the checkpoint), token_key_rms that of the frozen backbone's key projections of the real tokens;
    scaling the table scales the first by as much."""
    cfg, folder, args, path = trained_ptv2_run(make_cfg, write_samples(tmp_path))
    saved = torch.load(path, weights_only=True)
    table = saved["weights"]["method.encoder.embedding.weight"]  # [P, layers x (key, value) x hidden]
    shape = cfg.model.tiny
    halves = table.view(len(table), shape.num_hidden_layers, 2, shape.hidden_size)
    measured = cls_spread.spread(folder, args)
    for index, kind in enumerate(("key", "value")):
        expected = halves[:, :, index].pow(2).mean().sqrt().item()
        assert abs(measured[f"prefix_{kind}_rms"] - expected) < 1e-3 * expected
    assert measured["token_key_rms"] > 0

    saved["weights"]["method.encoder.embedding.weight"] = table * 10
    torch.save(saved, path)
    scaled = cls_spread.spread(folder, args)
    assert abs(scaled["prefix_key_rms"] / measured["prefix_key_rms"] - 10) < 1e-3
    # the tokens' keys of the first layer do not see the prefix, the later layers' do: they move, but stay finite
    assert 0 < scaled["token_key_rms"] < float("inf") and 0 < scaled["token_value_rms"] < float("inf")
