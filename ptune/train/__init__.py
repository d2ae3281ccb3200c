"""One run from config to row: the runner, the loop and its state, inference, optimizer and schedule, batching,
the feature cache, data parallel, resume, checkpoints, and re-scoring a saved run (`ptune eval`).

Layer: above store.
"""
