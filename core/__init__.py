"""Shared machinery for vertical fine-tuning packs. Knows no vertical by name: packs come from the registry."""

__version__ = "0.1.0"
