"""Reports from result rows: comparison tables beside the published numbers, figures, `ptune compare`; every
markdown table through one helper.

Layer: above train (reads rows through ptune.store; never trains).
"""
