"""Tests of ptune/train/tracking/: each backend read back with its own library's reader."""
