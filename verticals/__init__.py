"""Vertical packs. Each sub-package is one pack, registered through the `vft.packs` entry-point group."""
