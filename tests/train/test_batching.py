"""Length-grouped training batches and length-sorted inference: every example once, the same order per seed,
less padding."""
from __future__ import annotations

import torch

from ptune.train import batching, inference
from ptune.train.batching import (
    epoch_batches,
    inference_batches,
    length_grouped_batches,
)
from tests.helpers import SMOKE


def features_of_lengths(lengths):
    return [{"input_ids": [1] * n, "labels": 0} for n in lengths]


LENGTHS = [(i * 37) % 120 + 5 for i in range(1000)]


def padded_tokens(batches, lengths):
    return sum(len(b) * max(lengths[i] for i in b) for b in batches)


def test_grouped_batches_visit_every_example_once_per_epoch_and_repeat_per_seed():
    epochs = []
    for seed in (1, 1, 2):
        generator = torch.Generator().manual_seed(seed)
        epochs.append([length_grouped_batches(LENGTHS, 32, generator) for _ in range(2)])
    for epoch in epochs[0] + epochs[2]:
        assert sorted(i for batch in epoch for i in batch) == list(range(len(LENGTHS)))
        assert all(len(batch) <= 32 for batch in epoch)
    assert epochs[0] == epochs[1]          # same seed, same batches, epoch after epoch
    assert epochs[0][0] != epochs[0][1]    # a new order every epoch
    assert epochs[0] != epochs[2]          # another seed, another order


def test_grouping_removes_most_padding_and_keeps_batches_random():
    generator = torch.Generator().manual_seed(0)
    grouped = length_grouped_batches(LENGTHS, 32, generator)
    shuffled = batching.shuffled_batches(len(LENGTHS), 32, torch.Generator().manual_seed(0))
    real = sum(LENGTHS)
    assert padded_tokens(grouped, LENGTHS) - real < 0.2 * (padded_tokens(shuffled, LENGTHS) - real)
    # batch order is shuffled: the longest batch is not always first
    firsts = {max(LENGTHS[i] for i in length_grouped_batches(LENGTHS, 32, torch.Generator().manual_seed(s))[0])
              for s in range(5)}
    assert len(firsts) > 1


def test_multiple_choice_features_group_by_their_longest_choice():
    assert batching.feature_length({"input_ids": [[1, 2], [1, 2, 3, 4]]}) == 4
    assert batching.feature_length({"input_ids": [1, 2, 3]}) == 3


def test_epoch_batches_switch():
    features = features_of_lengths(LENGTHS[:100])
    plain = epoch_batches(features, 8, torch.Generator().manual_seed(3), group_by_length=False)
    assert plain == batching.shuffled_batches(100, 8, torch.Generator().manual_seed(3))


def test_inference_batches_cover_every_feature_longest_first():
    features = features_of_lengths(LENGTHS[:70])
    batches = inference_batches(features, 16)
    assert sorted(i for b in batches for i in b) == list(range(70))
    widths = [max(LENGTHS[i] for i in b) for b in batches]
    assert widths == sorted(widths, reverse=True)


def test_length_sorted_inference_returns_outputs_in_feature_order(make_cfg, tmp_path, write_samples):
    """Each feature's output equals the output of that feature alone (no padding leaks across the sort)."""
    from ptune.model.backbones import load_tokenizer
    from ptune.model.prompted import build_model
    from ptune.tasks import build_task

    cfg = make_cfg(*SMOKE, "method=ptv2", f"data_dir={write_samples(tmp_path)}", "trainer.eval_batch_size=3")
    task = build_task(cfg.task, cfg.data_dir)
    tokenizer = load_tokenizer(cfg.model)
    examples = task.examples("dev")
    features = task.features(examples, tokenizer, 64)
    model = build_model(cfg.model, cfg.method, task, 64, tokenizer)
    cpu = torch.device("cpu")
    together = inference.infer(model, features, cfg, tokenizer.pad_token_id, cpu, None)
    alone = [inference.infer(model, [f], cfg, tokenizer.pad_token_id, cpu, None)[0] for f in features]
    for a, b in zip(together, alone):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


