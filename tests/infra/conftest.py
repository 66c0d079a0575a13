"""One synth per session: the real app (all stages, cdk-nag on) into a temporary cloud assembly."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules/.bin/node"
if NODE.exists():  # jsii on the node 22 from package.json (faster, no end-of-life banner)
    os.environ.setdefault("JSII_NODE", str(NODE))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class Synth:
    outdir: Path
    templates: dict[str, dict[str, Any]]  # env name -> CloudFormation template
    stages: dict[str, Any]  # env name -> CockpitStage

    def resources(self, env: str, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.templates[env]["Resources"].items() if v["Type"] == type_}


def _load_app_module() -> Any:
    # Loaded by path under its own name: handler modules are also called `app`.
    spec = importlib.util.spec_from_file_location("companyos_cdk_app", ROOT / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = _load_app_module().build_app(outdir=str(outdir))
    app.synth()  # raises if any cdk-nag finding is left unacknowledged
    stages = {stage.node.id: stage for stage in app.node.children if hasattr(stage, "stack")}
    templates = {}
    for name, stage in stages.items():
        artifact = stage.synth().get_stack_by_name(stage.stack.stack_name)
        templates[name] = json.loads(json.dumps(artifact.template))
    return Synth(outdir=outdir, templates=templates, stages=stages)
