"""Sweeps: the `ptune run` Hydra app and its callbacks, GPU slots, grid expansion, `ptune plan` and `ptune pick`.

Layer: the top below the cli.
"""
