"""The model: backbones, the one prompt-injection mechanism, task heads, the methods, and the prompted model that
puts them together; the device and precision it computes in.

Layer: imports ptune.errors, ptune.registry and ptune.hub_access only (never tasks, config, store, train,
reports, sweeps).
"""
