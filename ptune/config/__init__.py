"""Configuration: composing the Hydra config (conf/), the typed schemas and their ConfigStore registration, and
every range check on a composed config.

Layer: above model and tasks (the method and task schemas are declared there, in
ptune/model/methods/schemas.py and ptune/tasks/schemas.py).
"""
