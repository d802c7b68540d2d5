"""Which app a pack gets: one registered by its distribution (entry point group `vft.demos`, name = pack name,
value = a function returning an AppSpec), else demos/<pack>.py when there is one, else a generic app built from the
pack's contract, so a new pack has a demo without writing one."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from demos.builder import AppSpec

ENTRY_POINT_GROUP = "vft.demos"


def spec_for(pack: str) -> AppSpec:
    from core.pack import pack_class

    cls = pack_class(pack)  # fails early with the list of installed packs
    registered = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if cls.name in registered:
        return registered[cls.name].load()()
    try:
        module = importlib.import_module(f"demos.{cls.name}")
    except ModuleNotFoundError:
        return AppSpec(pack=pack, title=cls.description, input_label="Input", render=_generic)
    return module.spec()


def _generic(model: Any, parsed: Any, text: str) -> str:
    return model.pack.display(parsed)
