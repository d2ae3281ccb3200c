"""ptune: reproduce the P-Tuning v2 comparison (finetune, prompt, prefix, ptv2) on encoders and tasks."""

__version__ = "0.1.0"
