"""AWS region names as the SDK describes them (botocore's bundled endpoint data, no API call)."""

from __future__ import annotations

from functools import cache

__all__ = ["region_descriptions"]


@cache
def region_descriptions() -> dict[str, str]:
    """Region description → region code of every partition ("US East (N. Virginia)" → us-east-1)."""
    from botocore.loaders import Loader

    names: dict[str, str] = {}
    for partition in Loader().load_data("endpoints")["partitions"]:
        for code, region in partition["regions"].items():
            desc = str(region.get("description", ""))
            if desc:
                names[desc] = code
    return names
