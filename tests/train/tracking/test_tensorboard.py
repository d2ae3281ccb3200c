"""logger=tensorboard: tensorboard's own EventAccumulator reads the run's folder back."""
from __future__ import annotations

import pytest

from ptune.train.tracking.base import RunInfo
from ptune.train.tracking.tensorboard import TensorBoardBackend
from tests.train.tracking.conftest import EPOCH_ENDS, TRAIN_STEPS

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def test_the_event_files_hold_train_loss_and_dev_metrics_at_their_steps_once(tracked):
    folder = tracked.outputs / "tensorboard" / tracked.row.run_id
    assert len(list(folder.glob("events.out.tfevents.*"))) == 2  # the stopped run's and the resumed run's
    # purge_orphaned_data=False: a step logged twice would be read twice, not hidden
    events = event_accumulator.EventAccumulator(str(folder), purge_orphaned_data=False).Reload()

    def steps(tag):
        return [event.step for event in events.Scalars(tag)]

    assert steps("train/loss") == steps("train/lr") == steps("train/examples_per_second") == TRAIN_STEPS
    assert steps("dev/accuracy") == steps("train/epoch_loss") == EPOCH_ENDS
    history = tracked.row.history
    assert [e.value for e in events.Scalars("dev/accuracy")] == pytest.approx([h["dev"]["accuracy"] for h in history])
    assert [e.value for e in events.Scalars("train/epoch_loss")] == pytest.approx([h["train_loss"] for h in history])
    assert [e.value for e in events.Scalars("train/lr")] == pytest.approx([1e-2 * (1 - s / 20) for s in TRAIN_STEPS])
    assert steps("params/trainable_percent") == [0]
    [final] = events.Scalars("dev/best/accuracy")
    assert (final.step, final.value) == (EPOCH_ENDS[-1], pytest.approx(tracked.row.score()))
    assert "config/text_summary" in events.Tags()["tensors"]


def test_a_run_started_afresh_replaces_the_event_files_of_its_run_id(tmp_path):
    """The same run id run again (not resumed): its curve replaces the old one, as its row does; no step twice."""
    run = RunInfo("rte-x", {"seed": 1}, None, {"dir": str(tmp_path)}, None)
    for value in (1.0, 2.0):
        backend = TensorBoardBackend(run)
        backend.start()
        backend.log(3, {"train/loss": value})
        backend.finish(None, "completed")
    events = event_accumulator.EventAccumulator(str(tmp_path / "rte-x"), purge_orphaned_data=False).Reload()
    assert [(e.step, e.value) for e in events.Scalars("train/loss")] == [(3, 2.0)]
