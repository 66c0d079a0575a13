"""The two kinds of object an API answer is made of (the response models of docs/openapi*.json)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

Number = int | float
Open = dict[str, Any]  # a payload open by nature (a panel's items, a run's rows)


class Closed(BaseModel):
    """Exactly these fields."""

    model_config = ConfigDict(extra="forbid")


class Extensible(BaseModel):
    """These fields and more (an answer that spreads a record whose columns grow with the contract)."""

    model_config = ConfigDict(extra="allow")
