"""logger=tensorboard: event files in <dir>/<sweep>/<run id>/ (`tensorboard --logdir outputs/tensorboard`).

A sweep's runs are folders side by side, so their curves overlay; a resumed run writes a new event file in the
same folder, from the step where it stopped; a run started afresh (the same run id run again) replaces the folder's
event files.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from ptune.train.tracking.base import BACKENDS, Backend, run_folder


@BACKENDS.register("tensorboard")
class TensorBoardBackend(Backend):
    def start(self) -> dict:
        # deferred: tensorboard, which torch's writer needs, is the optional `tracking` extra
        from torch.utils.tensorboard import SummaryWriter

        folder = run_folder(self.run)
        if not self.run.reopen:  # the run id run afresh: its new curve replaces the old, as its new row does
            for old in folder.glob("events.out.tfevents.*"):
                old.unlink()
        self.writer = SummaryWriter(str(folder), flush_secs=10)
        if not self.run.reopen:
            config = yaml.safe_dump(self.run.config, sort_keys=False)
            self.writer.add_text("config", "    " + config.replace("\n", "\n    "), 0)  # indented: shown verbatim
        return {"folder": str(folder)}

    def log(self, step: int, metrics: dict[str, float]) -> None:
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)

    def finish(self, folder: Path | None, status: str) -> None:
        self.writer.close()
