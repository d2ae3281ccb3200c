"""One run tracked by every backend, stopped by SIGTERM mid-epoch and resumed: what the backend tests read back."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import pytest

from ptune.config.compose import compose
from ptune.store.row import Row
from ptune.train import resume, runner
from tests.helpers import SMOKE, sigterm_at_step
from tests.samples import write_rte

# 20 RTE examples in batches of 2: 10 optimizer steps an epoch, 2 epochs; train logs every 3 steps
TRAIN_STEPS = [3, 6, 9, 12, 15, 18]
EPOCH_ENDS = [10, 20]
STOP_AT = 5  # the SIGTERM stops the run after step 5, between two train logs


@dataclass
class TrackedRun:
    cfg: object
    row: Row
    outputs: Path


def offline(env: pytest.MonkeyPatch, outputs: Path) -> None:
    """W&B offline and quiet, writing under `outputs`; MLflow on its default local store."""
    env.setenv("WANDB_SILENT", "true")
    env.setenv("WANDB_DIR", str(outputs))  # conf/logger/wandb.yaml reads it
    for name in ("WANDB_API_KEY", "WANDB_MODE", "MLFLOW_TRACKING_URI"):
        env.delenv(name, raising=False)


@pytest.fixture(scope="package")
def tracked(tmp_path_factory) -> TrackedRun:
    root = tmp_path_factory.mktemp("tracked")
    data, outputs = write_rte(root / "data"), root / "outputs"
    overrides = [*SMOKE, "method=ptv2", f"data_dir={data}", "trainer.epochs=2", "trainer.batch_size=2",
                 "trainer.max_train_examples=null", "trainer.log_every=3", f"paths.results_dir={root / 'results'}",
                 f"paths.output_dir={outputs}", "logger=[csv,tensorboard,mlflow,wandb]"]
    with pytest.MonkeyPatch.context() as env:
        offline(env, outputs)
        sigterm_at_step(env, STOP_AT)
        with pytest.raises(resume.Preempted):
            runner.execute(compose(overrides))
        env.undo()
        offline(env, outputs)
        cfg = compose([*overrides, "resume=true"])
        row = runner.execute(cfg)
    assert row.provenance["resumed"] == [{"epoch": 0, "step": STOP_AT}]
    return TrackedRun(cfg, row, outputs)


# The framing of W&B's .wandb transaction log, read with wandb's own protobuf records (test_wandb, test_tracker)
BLOCK, HEADER = 32768, 7  # records live in 32 KiB blocks, each chunk behind a 7-byte header (crc, length, type)


def records(path: Path):
    """Every Record in a .wandb file: chunks of type full (1) or first (2) .. middle (3) .. last (4)."""
    pb = pytest.importorskip("wandb.proto.wandb_internal_pb2")  # wandb is optional: the calling test skips without it
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    position, pending = HEADER, b""
    while position + HEADER <= len(data):
        if BLOCK - position % BLOCK < HEADER:  # a block's tail too short for a header is padding
            position += BLOCK - position % BLOCK
            continue
        _, length, kind = struct.unpack("<IHB", data[position:position + HEADER])
        pending += data[position + HEADER:position + HEADER + length]
        position += HEADER + length
        if kind in (1, 4):
            record = pb.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record
