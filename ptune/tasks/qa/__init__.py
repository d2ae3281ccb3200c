"""Extractive QA (SQuAD 1.1 and 2.0): context windows, answer spans from logits, the official scorer's rules."""
