"""A run folder's life, one room per job:

    layout       every file name of a study and a fold folder, and their readers
    fingerprint  what produced a fold, and the one verdict on reusing it
    lock         one writer per study or fold
    provenance   versions, commit, device
    pack         studies into one .tar.gz (with or without weights)
    committed    the committed edition's tables: a study never writes over them (only publish)

The writes themselves (atomic, checksummed) are cmnet.io's.
"""
