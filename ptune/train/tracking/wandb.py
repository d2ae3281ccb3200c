"""logger=wandb: one W&B run per ptune run (name = run id, group = the sweep), online with an API key, else offline.

Offline runs land in <dir>/wandb/offline-run-*/ and upload later with `wandb sync <that folder>`; an online start
that fails or takes longer than init_timeout falls back to offline, so W&B never blocks a run. The row and
prediction files are logged as an artifact. A resumed run reopens the same W&B run id.
"""
from __future__ import annotations

import logging
import netrc
import os
import uuid
from pathlib import Path

from ptune.train.tracking.base import BACKENDS, Backend

log = logging.getLogger(__name__)


@BACKENDS.register("wandb")
class WandbBackend(Backend):
    artifacts = True

    def start(self) -> dict:
        # deferred: wandb is the optional `tracking` extra
        import wandb

        settings, reopen = self.run.settings, self.run.reopen
        Path(settings["dir"]).mkdir(parents=True, exist_ok=True)
        run_id = reopen["id"] if reopen else uuid.uuid4().hex[:12]
        group = reopen["group"] if reopen else self.run.group
        options = dict(project=settings["project"], entity=settings["entity"], dir=settings["dir"], id=run_id,
                       name=self.run.run_id, group=group, resume="allow" if reopen else None,
                       config=None if reopen else self.run.config, reinit="finish_previous",
                       settings=wandb.Settings(init_timeout=settings["init_timeout"], console="off",
                                               disable_git=True, save_code=False))
        mode = wandb_mode(settings["mode"])
        try:
            self.wandb = wandb.init(mode=mode, **options)
        except Exception as error:
            if mode != "online":
                raise
            log.warning("wandb: the online start failed (%s); this run logs offline (upload it with wandb sync)",
                        error)
            self.wandb = wandb.init(mode="offline", **options)
        return {"id": run_id, "group": group}

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.wandb.log(metrics, step=step)

    def finish(self, folder: Path | None, status: str) -> None:
        import wandb  # deferred: see start

        if folder is not None:
            artifact = wandb.Artifact(self.run.run_id, type="ptune-run")
            artifact.add_file(str(folder / "row.json"))
            if (folder / "predictions").is_dir():
                artifact.add_dir(str(folder / "predictions"), name="predictions")
            self.wandb.log_artifact(artifact)
        self.wandb.finish(exit_code=0 if status == "completed" else 1)


def wandb_mode(mode: str) -> str:
    """mode=auto: WANDB_MODE when set, else online with an API key (WANDB_API_KEY, or `wandb login`'s netrc
    entry) and offline without one."""
    if mode != "auto":
        return mode
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    return "online" if os.environ.get("WANDB_API_KEY") or netrc_has_key() else "offline"


def netrc_has_key() -> bool:
    host = os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai").split("://")[-1].split("/")[0]
    try:
        return netrc.netrc(os.environ.get("NETRC")).authenticators(host) is not None
    except (OSError, netrc.NetrcParseError):
        return False
