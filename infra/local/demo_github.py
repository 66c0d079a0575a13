"""Demo GitHub deliveries: `deployment_status` webhooks for every deployment over the tenant's days
(`seed_deploys`, sent as GitHub signs them), then for the deployments of the last `BUILD_DAYS` the push
of their commits (the last one is the deployed sha), the CI workflow run on it and sometimes a lint
check run (`github_builds`, through the `Deliverer`)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from companyos.ingest import ingest, secrets_from_value
from companyos.sources.base import WebhookRequest, hmac_sha256_hex

from infra.local.demo_deliver import Deliverer, ts

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant
    from infra.local.stack import LocalStack

# (repo, sha, state, at) of every generated deployment per tenant: the pushes and builds the other
# demo sources generate lead to these very commits
DEPLOYED: dict[str, list[tuple[str, str, str, datetime]]] = {}


def deployment_status_payload(
    repo: str, n: int, state: str, at: datetime, rng: random.Random
) -> dict[str, Any]:
    """A GitHub `deployment_status` webhook body (the shape of GitHub's own payload)."""
    sha = f"{rng.getrandbits(160):040x}"
    ts = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    owner, name = repo.split("/")
    return {
        "action": "created",
        "deployment_status": {
            "id": 900000 + n,
            "state": state,
            "environment": "production",
            "description": f"Deploy {state}",
            "created_at": ts,
            "updated_at": ts,
            "creator": {"login": "deploy-bot", "type": "Bot"},
        },
        "deployment": {
            "id": 500000 + n,
            "sha": sha,
            "ref": "main",
            "task": "deploy",
            "environment": "production",
            "created_at": (at - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "repository": {
            "id": abs(hash(repo)) % 10**8,
            "name": name,
            "full_name": repo,
            "private": True,
            "owner": {"login": owner, "type": "Organization"},
        },
        "sender": {"login": "deploy-bot", "type": "Bot"},
    }


def secret_lookup(stack: LocalStack) -> Callable[[str, str], list[str]]:
    sm = boto3.client("secretsmanager")
    assert stack.settings
    prefix = stack.settings.webhook_secret_prefix

    def lookup(tenant_id: str, source: str) -> list[str]:
        name = f"{prefix}/{tenant_id}/{source}"
        return secrets_from_value(sm.get_secret_value(SecretId=name)["SecretString"])

    return lookup


def seed_deploys(stack: LocalStack, demo: DemoTenant, secret: str, now: datetime) -> int:
    rng = random.Random(demo.tenant.id)
    lookup, count = secret_lookup(stack), 0
    DEPLOYED[demo.tenant.id] = []
    for day in range(demo.days, -1, -1):
        for _ in range(max(0, round(rng.gauss(demo.deploys_per_day, demo.deploys_per_day / 3)))):
            at = now - timedelta(days=day, seconds=rng.randint(0, 86000))
            if at > now:
                continue
            repo = rng.choice(demo.repos)[0]
            state = "failure" if rng.random() < demo.failure_rate else "success"
            payload = deployment_status_payload(repo, count, state, at, rng)
            DEPLOYED.setdefault(demo.tenant.id, []).append((repo, payload["deployment"]["sha"], state, at))
            body = json.dumps(payload).encode()
            headers = {
                "x-github-event": "deployment_status",
                "x-github-delivery": f"{demo.tenant.id}-{count}",
                "x-hub-signature-256": "sha256=" + hmac_sha256_hex(secret, body),
            }
            ingest(
                demo.tenant.id,
                "github",
                WebhookRequest(headers, body),
                max_bytes=1_000_000,
                secrets=lookup,
                start_run=lambda *_: None,
            )
            count += 1
    return count


# ---------------------------------------------------------------------------- pushes and builds


def _repo(full_name: str) -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": int(hmac_sha256_hex("repo", full_name.encode())[:7], 16),
        "name": name,
        "full_name": full_name,
        "private": True,
        "owner": {"login": owner, "type": "Organization"},
        "default_branch": "main",
    }


BUILD_DAYS = 14  # pushes and builds for the deployments of the last 14 days (demo start time)
AUTHORS = ("alice", "bruno", "chen", "dara", "eli", "fatima", "goran")


def github_builds(
    out: Deliverer, demo: DemoTenant, deployed: Sequence[tuple[str, str, str, datetime]], rng: random.Random
) -> None:
    """For every deployment: the push of its commits (the last one is the deployed sha), the CI
    workflow run on it, and sometimes a lint check run; a share of extra runs fail."""
    previous: dict[str, str] = {}
    recent = [d for d in deployed if d[3] >= max(x[3] for x in deployed) - timedelta(days=BUILD_DAYS)]
    for n, (repo, sha, _state, at) in enumerate(sorted(recent, key=lambda d: d[3])):
        built = at - timedelta(minutes=rng.randint(2, 20))
        commits = _commits(sha, built, n, rng)
        pusher = rng.choice(AUTHORS)
        before = previous.get(repo, "0" * 40)
        previous[repo] = sha
        out.send(
            "github",
            _push(repo, before, sha, commits, pusher),
            {"X-GitHub-Event": "push", "X-GitHub-Delivery": f"{demo.tenant.id}-push-{n}"},
        )
        runs = [("success", sha)] + ([("failure", commits[0]["id"])] if rng.random() < 0.12 else [])
        for k, (conclusion, head) in enumerate(runs):
            duration = rng.randint(240, 900) + (300 if demo.tenant.profile == "admin-heavy" else 0)
            finished = built - timedelta(minutes=30 * k)
            started = finished - timedelta(seconds=duration)
            run_id = 7_000_000 + n * 10 + k
            created = started - timedelta(seconds=rng.randint(5, 90))
            out.send(
                "github",
                _workflow_run(repo, run_id, n, head, conclusion, (created, started, finished)),
                {"X-GitHub-Event": "workflow_run", "X-GitHub-Delivery": f"{demo.tenant.id}-wr-{run_id}"},
            )
        if n % 6 == 0:
            conclusion = "failure" if rng.random() < 0.1 else "success"
            out.send(
                "github",
                _check_run(repo, n, sha, conclusion, built),
                {"X-GitHub-Event": "check_run", "X-GitHub-Delivery": f"{demo.tenant.id}-cr-{n}"},
            )


def _commits(sha: str, built: datetime, n: int, rng: random.Random) -> list[dict[str, Any]]:
    """The commits of one push, oldest first as GitHub lists them; the head is the deployed sha."""
    commits: list[dict[str, Any]] = []
    for i in range(rng.choice((1, 1, 2, 3))):
        cid = sha if i == 0 else f"{rng.getrandbits(160):040x}"
        committed = built - timedelta(minutes=rng.randint(15, 60 * 30)) - timedelta(minutes=20 * i)
        author = rng.choice(AUTHORS)
        commits.append(
            {
                "id": cid,
                "tree_id": f"{rng.getrandbits(160):040x}",
                "distinct": True,
                "message": f"{rng.choice(('fix', 'feat', 'chore', 'refactor'))}: change {n}.{i}",
                "timestamp": ts(committed),
                "author": {
                    "name": author.title(),
                    "email": f"{author}@users.noreply.github.com",
                    "username": author,
                },
                "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
                "added": [],
                "removed": [],
                "modified": ["src/app.py"],
            }
        )
    commits.reverse()
    return commits


def _push(repo: str, before: str, sha: str, commits: list[dict[str, Any]], pusher: str) -> dict[str, Any]:
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": sha,
        "created": False,
        "deleted": False,
        "forced": False,
        "compare": f"https://github.com/{repo}/compare/{before[:12]}...{sha[:12]}",
        "commits": commits,
        "head_commit": commits[-1],
        "repository": _repo(repo),
        "pusher": {"name": pusher},
        "sender": {"login": pusher, "type": "User"},
    }


def _workflow_run(
    repo: str, run_id: int, n: int, head: str, conclusion: str, times: tuple[datetime, datetime, datetime]
) -> dict[str, Any]:
    created, started, finished = times
    return {
        "action": "completed",
        "workflow_run": {
            "id": run_id,
            "name": "CI",
            "head_branch": "main",
            "head_sha": head,
            "run_number": n + 1,
            "event": "push",
            "status": "completed",
            "conclusion": conclusion,
            "workflow_id": 4242,
            "run_attempt": 1,
            "created_at": ts(created),
            "run_started_at": ts(started),
            "updated_at": ts(finished),
        },
        "workflow": {"id": 4242, "name": "CI", "path": ".github/workflows/ci.yml"},
        "repository": _repo(repo),
        "sender": {"login": "github-actions[bot]", "type": "Bot"},
    }


def _check_run(repo: str, n: int, sha: str, conclusion: str, built: datetime) -> dict[str, Any]:
    return {
        "action": "completed",
        "check_run": {
            "id": 8_000_000 + n,
            "head_sha": sha,
            "name": "lint",
            "status": "completed",
            "conclusion": conclusion,
            "started_at": ts(built - timedelta(seconds=150)),
            "completed_at": ts(built - timedelta(seconds=60)),
            "app": {"slug": "github-actions", "name": "GitHub Actions"},
            "check_suite": {"id": 9_000_000 + n, "head_branch": "main", "head_sha": sha},
        },
        "repository": _repo(repo),
        "sender": {"login": "github-actions[bot]", "type": "Bot"},
    }
