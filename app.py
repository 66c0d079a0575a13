#!/usr/bin/env python3
"""CDK entry point: one Stage per environment (dev, stg, prod) from cdk.json's `companyos` context.

Works both as `python app.py` (reads cdk.json itself) and through `npx cdk synth` (the CLI passes the
same context, plus any `-c` overrides, which win). Synth is offline: no Docker, credentials or lookups.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# jsii runs on the node 22 that `npm install` puts in node_modules (package.json), when present.
if (ROOT / "node_modules/.bin/node").exists():
    os.environ.setdefault("JSII_NODE", str(ROOT / "node_modules/.bin/node"))

from aws_cdk import App  # noqa: E402

from infra.aws.config import ENVIRONMENTS, StageConfig  # noqa: E402
from infra.aws.nag import apply_checks  # noqa: E402
from infra.aws.stage import CockpitStage  # noqa: E402


def build_app(outdir: str = "cdk.out") -> App:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = App(outdir=outdir, context=context)
    companyos = app.node.try_get_context("companyos")
    for name in ENVIRONMENTS:
        CockpitStage(app, StageConfig.from_context(name, companyos))
    apply_checks(app)
    return app


if __name__ == "__main__":
    build_app().synth()
