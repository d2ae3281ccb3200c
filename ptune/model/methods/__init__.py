"""Method implementations, discovered by importing every module in this folder."""
import importlib
import pkgutil

from ptune.model.methods.base import METHODS, Method

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def build_method(cfg, backbone, tokenizer=None) -> Method:
    return METHODS.get(cfg.impl)(cfg, backbone, tokenizer)


__all__ = ["METHODS", "Method", "build_method"]
