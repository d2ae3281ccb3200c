"""Result rows: a run's id, its row (with provenance), written atomically, and finding and reading rows. The one
place that walks results folders and reads a row's score.

Layer: above config.
"""
