"""The device and precision a model computes in: device choice, bf16 / fp16 autocast, frozen layers stored in the
autocast dtype, and the device's peak memory."""
from __future__ import annotations

import resource
from pathlib import Path

import torch
from torch import nn

from ptune.errors import ConfigError, SetupError


def pick_device(name: str) -> torch.device:
    """`device` (auto, cpu, mps, cuda, cuda:N) as a torch device; refuses one this machine does not have."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        why = "this torch was built without CUDA" if torch.version.cuda is None else "no CUDA device is visible"
        raise SetupError(f"device={name}: {why}; use device=cpu or device=auto (the GPU where there is one)")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise SetupError(f"device={name}: only {torch.cuda.device_count()} CUDA device(s) visible; use device=cuda, "
                         f"cuda:0 .. cuda:{torch.cuda.device_count() - 1} or auto")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise SetupError(f"device={name}: MPS (Apple GPU) is not available here; use device=cpu or device=auto")
    return device


def cpu_has_native_bf16() -> bool:
    """AVX-512 BF16 or AMX: the CPUs on which bf16 autocast runs faster than fp32 (measured: make bench)."""
    try:
        with open("/proc/cpuinfo") as handle:
            flags = next((line for line in handle if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for trainer.precision (auto, fp32, bf16 or fp16; the schema's Precision enum) on this
    device (None: fp32); impossible requests fail here."""
    bf16 = torch.cuda.is_bf16_supported() if device.type == "cuda" else device.type == "cpu" and cpu_has_native_bf16()
    if precision == "fp32" or (precision == "auto" and not bf16):
        return None
    if precision in ("auto", "bf16"):
        if not bf16:
            raise ConfigError(f"trainer.precision=bf16: {device.type} device {device} has no native bf16 "
                              "(CPUs need AVX-512 BF16 or AMX); use trainer.precision=fp32 or auto")
        return torch.bfloat16
    if precision != "fp16":  # a composed config cannot get here; a script's plain string can
        raise ConfigError(f"trainer.precision={precision!r}: expected auto, fp32, bf16 or fp16")
    if device.type != "cuda":
        raise ConfigError(f"trainer.precision=fp16 needs a CUDA device, not {device}; use bf16, fp32 or auto")
    return torch.float16


def cast_frozen_linears(model: nn.Module, dtype: torch.dtype | None) -> int:
    """Store every fully frozen nn.Linear in the autocast dtype; returns how many were cast.

    Under autocast a linear layer casts its weight and bias to the autocast dtype on every forward, so a
    frozen layer stored in that dtype computes exactly the same numbers (the cast is the same rounding), with
    no per-step cast and half the weight memory. Layers with any trainable parameter (fine-tuning, BitFit's
    biases, the task head) keep fp32 master weights; embeddings and norms, which autocast runs in fp32, are
    left alone. Only for runs that compute under autocast (dtype not None)."""
    if dtype is None:
        return 0
    frozen = [m for m in model.modules() if isinstance(m, nn.Linear)
              and not any(p.requires_grad for p in m.parameters())]
    for module in frozen:
        module.to(dtype)
    if frozen:
        own_weights(model)
    return len(frozen)


@torch.no_grad()
def own_weights(model: nn.Module) -> None:
    """Give every parameter and buffer memory of its own, so that the checkpoint's memory map can close.

    from_pretrained leaves the weights as views into the safetensors file's memory map, which stays mapped (and
    its pages resident) while any weight still points into it. After cast_frozen_linears the fp32 originals of
    the cast layers are garbage, but the embeddings and norms would keep the whole map alive: on MiniLM the
    run then holds 87 MB of fp32 file pages next to the bf16 copies. Copying what is left releases the map."""
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            param.data = param.data.clone()
        for name, buffer in module.named_buffers(recurse=False):
            if buffer is not None:
                setattr(module, name, buffer.clone())


def precision_name(dtype: torch.dtype | None) -> str:
    return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]


def reset_peak_memory(device: torch.device) -> None:
    """Start this run's peak-memory count (a multirun runs many jobs in one process)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: resets the peak resident set size (VmHWM)
    except OSError:
        pass  # elsewhere the peak is the whole process's, and its kind says so


def peak_memory_mib(device: torch.device) -> tuple[float, str]:
    """(MiB, kind): CUDA memory allocated, the run's peak RSS, or the process's peak RSS where it can't be reset."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "cuda_allocated"
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024, "cpu_peak_rss"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "cpu_process_max_rss"
