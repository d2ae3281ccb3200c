"""Method implementations (one module each, registered in METHODS under its `impl` name) and their config schemas
(schemas.py). Importing this package imports neither: the config layer reads the schemas before torch is imported
(a config error answers at once), and METHODS imports every module of this folder the first time it is read."""
import importlib
import pkgutil

from ptune.registry import Registry


def import_implementations() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


METHODS = Registry("method implementation", discover=import_implementations)


def build_method(cfg, backbone, tokenizer=None):
    """The Method (an nn.Module) of cfg.impl."""
    return METHODS.get(cfg.impl)(cfg, backbone, tokenizer)


__all__ = ["METHODS", "build_method"]
