"""Result rows: the row model and everything that reads or writes results folders.

    row         the Row (a dataclass with a format version; old rows upgraded in one place) and its score
    run_id      a run's id and the experiment config it hashes
    provenance  versions, commit, device and command line a row records
    write       atomic row writes, staging and publishing a run folder, failure records
    find        the one walker of results folders: completed rows, one run's row or folder, twins
    reuse       copying a twin run's row instead of training again (reuse_rows_from)
    portable    paths as committed rows record them

Layer: above config.
"""
