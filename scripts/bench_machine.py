"""What a benchmark ran on: processor, cores, accelerator, library versions, ptune's commit."""
from __future__ import annotations

import os
import platform
import re
from importlib import metadata
from pathlib import Path

# CPU features that decide whether bf16 runs natively (AMX tiles, AVX-512 BF16) or is emulated.
BF16_FLAGS = ("amx_bf16", "amx_tile", "avx512_bf16", "avx512f")


def cpu_description() -> tuple[str, list[str]]:
    """(model name, the BF16_FLAGS the processor reports), from /proc/cpuinfo where there is one."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return platform.processor() or platform.machine(), []
    text = cpuinfo.read_text()
    name = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    present = set(flags.group(1).split()) if flags else set()
    return (name.group(1).strip() if name else platform.machine()), [f for f in BF16_FLAGS if f in present]


def version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info(device: str) -> dict:
    import torch
    import transformers

    from ptune.model.device import pick_device
    from ptune.store.provenance import git_state

    device = str(pick_device(device))
    name, flags = cpu_description()
    info = {"device": device, "cpu": name, "cpu_bf16_flags": flags, "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "peft": version("peft"), "git": git_state(), "gpu": None}
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def device_kind(machine: dict) -> str:
    """A file-name-safe name for the device: `cpu`, or `cuda-<gpu name>` (e.g. cuda-nvidia-h100-80gb-hbm3)."""
    if not machine.get("gpu"):
        return "cpu"
    return "cuda-" + re.sub(r"[^a-z0-9]+", "-", machine["gpu"].lower()).strip("-")
