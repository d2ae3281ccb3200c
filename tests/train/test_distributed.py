"""Data parallel for one run: torchrun with 2 gloo processes writes the one-process row; the per-rank loss
weights make the averaged gradient the whole batch's, also for token-level losses and uneven slices."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from ptune.model.heads import HEADS
from ptune.store.find import completed_rows
from ptune.train import distributed, runner

# fp32 and no dropout anywhere: each rank draws its own dropout masks, so only then are the runs equal.
# 40 examples of varied lengths in batches of 7: slices of 4 and 3 examples, a last batch of 5 (3 and 2). With
# equal rank weights instead of shares of the batch, the epoch losses differ in the 3rd digit (checked).
EXACT = ("task=rte", "model=tiny-bert", "trainer=smoke", "trainer.precision=fp32", "trainer.epochs=2",
         "trainer.max_train_examples=null",
         "trainer.batch_size=7", "trainer.eval_batch_size=5", "device=cpu", "method.head_dropout=0",
         "+model.tiny.hidden_dropout_prob=0", "+model.tiny.attention_probs_dropout_prob=0")


def test_two_gloo_ranks_write_the_one_process_row(make_cfg, tmp_path, write_rte):
    data = write_rte(tmp_path, size=40)
    overrides = (*EXACT, "method=ptv2", "method.prefix_dropout=0", f"data_dir={data}", "logger=csv",
                 "trainer.log_every=2")
    results = tmp_path / "ddp"
    env = os.environ | {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    launched = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "ptune.cli",
         "run", *overrides, f"paths.results_dir={results}", f"paths.output_dir={tmp_path / 'outputs'}"],
        capture_output=True, text=True, env=env, timeout=300)
    assert launched.returncode == 0, launched.stderr[-3000:]
    [ddp] = (row.to_json() for row in completed_rows(results))
    alone = runner.execute(make_cfg(*overrides, f"paths.results_dir={tmp_path / 'one'}",
                                    f"paths.output_dir={tmp_path / 'one-outputs'}"))
    alone = json.loads(json.dumps(alone.to_json()))

    assert ddp["run_id"] == alone["run_id"] and ddp["provenance"]["world_size"] == 2
    assert alone["provenance"]["world_size"] == 1
    assert ddp["metrics"] == alone["metrics"] and ddp["best_epoch"] == alone["best_epoch"]
    for mine, theirs in zip(ddp["history"], alone["history"], strict=True):
        # the same sums in another order (two halves, then all_reduce): float32 rounding, nothing more
        assert mine["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-5)
        assert mine["dev"] == theirs["dev"]
    folder = results / "runs" / ddp["run_id"]
    assert sorted(p.name for p in folder.iterdir()) == ["predictions", "row.json"]  # rank 1 wrote nothing
    assert {p.name: p.read_text() for p in (folder / "predictions").rglob("*.jsonl")} == \
        {p.name: p.read_text() for p in (tmp_path / "one" / "runs" / ddp["run_id"] / "predictions").rglob("*.jsonl")}
    assert not list((results / "runs").glob(".*"))  # no staging folder left behind
    # logger=csv: rank 0 alone logs, the train loss summed over the ranks (each step once)
    logged = {where: [line.split(",") for line in (tmp_path / where / "csv" / ddp["run_id"] / "metrics.csv")
                      .read_text().splitlines()[1:]] for where in ("outputs", "one-outputs")}
    steps = {where: [(step, name) for step, name, _ in lines] for where, lines in logged.items()}
    assert steps["outputs"] == steps["one-outputs"] and len(set(steps["outputs"])) == len(steps["outputs"])
    assert [float(v) for _, name, v in logged["outputs"] if name == "train/loss"] == \
        pytest.approx([float(v) for _, name, v in logged["one-outputs"] if name == "train/loss"], rel=1e-5)


def tagging_features(lengths_and_labelled: list[tuple[int, int]]) -> list[dict]:
    """Features of a token-level task: `labelled` of `length` tokens carry a label, the rest -100."""
    features = []
    for i, (length, labelled) in enumerate(lengths_and_labelled):
        labels = [(i + j) % 3 if j < labelled else -100 for j in range(length)]
        features.append({"input_ids": list(range(length)), "labels": labels})
    return features


def test_rank_shares_split_each_batch_and_its_loss_terms():
    features = tagging_features([(6, 5), (4, 1), (5, 5), (3, 2), (2, 2)])
    batch = [4, 0, 2, 1, 3]
    parts = [distributed.Ranks(rank, 2).shard(batch, features) for rank in range(2)]
    assert [members for members, _ in parts] == [[4, 2, 3], [0, 1]]
    assert [share for _, share in parts] == [9 / 15, 6 / 15]  # labelled tokens: 2+5+2 and 5+1 of 15
    assert distributed.Ranks().shard(batch, features) == (batch, 1.0)
    # a last batch smaller than the world: the rank without members runs a zero-weighted stand-in
    assert distributed.Ranks(2, 3).shard([4, 0], features) == ([4], 0.0)
    classification = [{"input_ids": [1, 2], "labels": 1}] * 5
    assert distributed.Ranks(0, 2).shard([0, 1, 2, 3, 4], classification)[1] == 3 / 5


@pytest.mark.parametrize("world", [2, 3])
def test_weighted_rank_losses_average_to_the_whole_batch_gradient(world):
    """What DDP computes (the mean over ranks of each rank's weighted loss gradient) is the one-process gradient."""
    torch.manual_seed(0)
    features = tagging_features([(6, 5), (4, 1), (5, 5), (3, 2), (6, 2)])
    head = HEADS.get("token_classification")(8, 3, 0.0)
    sequence = torch.randn(len(features), 6, 8)
    labels = torch.tensor([f["labels"] + [-100] * (6 - len(f["labels"])) for f in features])

    def gradient(members, weight):
        head.zero_grad()
        index = torch.tensor(members)
        (head.loss(head(sequence[index], {}), {"labels": labels[index]}) * weight).backward()
        return head.classifier.weight.grad.clone()

    batch = list(range(len(features)))
    whole = gradient(batch, 1.0)
    averaged = sum(gradient(*distributed.Ranks(rank, world).shard(batch, features)) * world
                   for rank in range(world)) / world
    torch.testing.assert_close(averaged, whole, rtol=1e-5, atol=1e-7)
    # the unweighted mean of the rank means (equal weights) is not the whole batch's gradient here
    naive = sum(gradient(distributed.Ranks(rank, world).shard(batch, features)[0], 1.0) for rank in range(world)) / world
    assert not torch.allclose(naive, whole, rtol=1e-3)
