"""Sequence labeling on pre-split words: NER (CoNLL-2003, CoNLL-2004, OntoNotes 5.0) and SRL (CoNLL-2005,
CoNLL-2012), tag formats and column files, entity-level scores (seqeval)."""
