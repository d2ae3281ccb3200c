"""One GPU per joblib worker, through CUDA_VISIBLE_DEVICES, so that no two jobs share a device.

    ptune run -m hydra/launcher=joblib hydra.launcher.n_jobs=4 method=prompt,ptv2 seed=1,2 ...   # 4 GPUs

Joblib's workers are long-lived processes that run job after job, and CUDA reads CUDA_VISIBLE_DEVICES
once, when a process first touches the GPU: a GPU therefore belongs to a worker, not to a job. The
multirun's parent lists the visible GPUs (`WorkerGpus.on_multirun_start`, a Hydra callback in
conf/config.yaml), refuses more workers than GPUs, and hands the list to the workers through the
environment; each worker, at its first job and before torch initialises CUDA, locks the first free GPU's
file under <sweep dir>/.gpu-slots/ and keeps the lock (and the GPU) until it exits. On a machine without
GPUs, with device=cpu, or with another launcher (SLURM sets CUDA_VISIBLE_DEVICES per job) nothing happens.
"""
from __future__ import annotations

import fcntl
import logging
import os
import socket
from pathlib import Path

from hydra.experimental.callback import Callback

log = logging.getLogger(__name__)
ENV_GPUS = "PTUNE_WORKER_GPUS"       # set by the parent for joblib workers: the GPUs to share out
ENV_LOCK_DIR = "PTUNE_GPU_LOCK_DIR"  # where the workers' lock files live (one per GPU)
_claimed: tuple[str, object] | None = None  # (GPU, open lock file) of this process, kept until it exits


def visible_gpus() -> list[str]:
    """The GPUs this process may use: CUDA_VISIBLE_DEVICES's entries when it is set, else every device."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [gpu.strip() for gpu in listed.split(",") if gpu.strip()]
    import torch  # deferred: a worker sets CUDA_VISIBLE_DEVICES before anything imports torch

    return [str(i) for i in range(torch.cuda.device_count())]


def claim(gpus: list[str], lock_dir: Path) -> str:
    """Lock the first GPU no other process holds; this process keeps it (the same answer on every call)."""
    global _claimed
    if _claimed is not None:
        return _claimed[0]
    lock_dir.mkdir(parents=True, exist_ok=True)
    for gpu in gpus:
        handle = open(lock_dir / f"gpu-{gpu}.lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released by the OS when the process ends
        except BlockingIOError:
            handle.close()
            continue
        handle.truncate(0)
        handle.write(f"{socket.gethostname()} pid {os.getpid()}\n")
        handle.flush()
        _claimed = (gpu, handle)
        return gpu
    raise RuntimeError(f"no free GPU for joblib worker pid {os.getpid()}: GPUs {','.join(gpus)} are all held by other "
                       f"workers (locks in {lock_dir}); set hydra.launcher.n_jobs to at most {len(gpus)}")


def claim_worker_gpu() -> str | None:
    """In a joblib worker on GPUs: restrict this process to its own GPU (CUDA_VISIBLE_DEVICES); else None."""
    gpus = os.environ.get(ENV_GPUS)
    if not gpus:
        return None
    gpu = claim(gpus.split(","), Path(os.environ[ENV_LOCK_DIR]))
    if os.environ.get("CUDA_VISIBLE_DEVICES") != gpu:
        import torch  # deferred: see visible_gpus

        if torch.cuda.is_initialized():
            raise RuntimeError(f"joblib worker pid {os.getpid()}: CUDA was initialised before this worker took GPU "
                               f"{gpu}, so CUDA_VISIBLE_DEVICES can no longer restrict it")
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
        log.info("joblib worker pid %d: GPU %s (CUDA_VISIBLE_DEVICES=%s)", os.getpid(), gpu, gpu)
    return gpu


def worker_count(n_jobs: int) -> int:
    """joblib's reading of n_jobs: -1 is every CPU, -2 all but one, and so on."""
    return n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)


class WorkerGpus(Callback):
    """Hydra callback: before a joblib multirun on GPUs, share the visible GPUs out to the workers."""

    def on_multirun_start(self, config, **kwargs) -> None:
        launcher = config.hydra.launcher
        if "JoblibLauncher" not in str(launcher.get("_target_", "")) or str(config.get("device")) == "cpu":
            return
        gpus = visible_gpus()
        if not gpus:
            return
        workers = worker_count(int(launcher.n_jobs))
        if workers > len(gpus):
            # Hydra turns a callback's exceptions into warnings; SystemExit stops the sweep before any job.
            raise SystemExit(f"ptune: hydra.launcher.n_jobs={launcher.n_jobs} starts {workers} joblib workers but "
                             f"{len(gpus)} GPUs are visible ({','.join(gpus)}); one GPU per worker: set "
                             f"hydra.launcher.n_jobs={len(gpus)} (or device=cpu)")
        os.environ[ENV_GPUS] = ",".join(gpus)
        os.environ[ENV_LOCK_DIR] = str(Path(config.hydra.sweep.dir) / ".gpu-slots")
        log.info("joblib workers: one GPU each out of %s", ",".join(gpus))

    def on_multirun_end(self, config, **kwargs) -> None:
        os.environ.pop(ENV_GPUS, None)
        os.environ.pop(ENV_LOCK_DIR, None)
