"""The one loader of the YAML packs shipped inside the package (health model, DORA benchmark sets,
alert rules, KPI contracts): read once per process, validated by the caller's pydantic model."""

from __future__ import annotations

from importlib import resources
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

# libyaml's C parser where the wheel has it (several times faster at cold start), else pure Python
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(model: type[M], text: str) -> M:
    """Validate a pack given as YAML text (pydantic.ValidationError when invalid)."""
    return model.model_validate(yaml.load(text, Loader=_Loader))


def text(package: str, name: str) -> str:
    """The text of `packs/<name>` inside `package` (e.g. "companyos.domain"); the loaders cache what
    they parse from it, so the text itself is not kept."""
    return resources.files(package).joinpath("packs", name).read_text(encoding="utf-8")


def names(package: str, prefix: str = "") -> list[str]:
    """The pack files shipped in `package`'s `packs/` folder, sorted, optionally by prefix."""
    folder = resources.files(package).joinpath("packs")
    return sorted(f.name for f in folder.iterdir() if f.name.endswith(".yaml") and f.name.startswith(prefix))
