"""scripts/cls_spread.py: a run whose deep prefixes swamp the attention gives every example the same [CLS] vector."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from ptune import checkpoint, run
from test_runner import SMOKE
from test_superglue_samples import write_samples

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import cls_spread  # noqa: E402


def test_huge_prefixes_make_the_cls_vector_the_same_for_every_example(make_cfg, tmp_path):
    data = write_samples(tmp_path)
    cfg = make_cfg(*SMOKE, "method=ptv2", f"data_dir={data}", "trainer.save_checkpoint=true", "trainer.epochs=1")
    row = run.execute(cfg)
    args = argparse.Namespace(data_dir=str(data), output_dir=cfg.paths.output_dir, weights="best", split="dev",
                              examples=4)
    folder = Path(cfg.paths.results_dir) / "runs" / row["run_id"]
    trained = cls_spread.spread(folder, args)
    assert trained["examples"] == 4 and trained["cls_std_across_examples"] > 0.01, trained

    path = checkpoint.checkpoint_path(cfg.paths.output_dir, row["run_id"])
    saved = torch.load(path, weights_only=True)
    saved["weights"]["method.encoder.embedding.weight"] *= 1000  # keys that win every attention softmax
    torch.save(saved, path)
    swamped = cls_spread.spread(folder, args)
    assert swamped["cls_std_across_examples"] < 1e-3 * trained["cls_std_across_examples"], (trained, swamped)
