"""Demo threat logs and security review requests, each in its tool's real format and sent the way
the tool authenticates (`demo_deliver`): Okta event hooks (7 days of sign-ins, a password-spraying
burst in the last hours for the ops-heavy tenant), Auth0 log stream batches (the customer portal's
logins), CloudTrail ConsoleLogin events through EventBridge, AWS WAF logs inside Kinesis Data
Firehose requests, GuardDuty findings through EventBridge, and GitHub pull request events asking the
security team for a review (some answered, some waiting)."""

from __future__ import annotations

import base64
import json
import random
import zlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from infra.local.demo_deliver import Deliverer, ts

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant

CITIES = (
    ("Toronto", "Ontario", "Canada"),
    ("Dublin", "Leinster", "Ireland"),
    ("Austin", "Texas", "United States"),
)
ATTACKERS = (("185.220.101.4", "Germany"), ("45.155.205.233", "Russia"), ("103.75.190.12", "Vietnam"))


def _ms(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _okta_event(
    n: str, at: datetime, user: str, result: str, ip: str, place: tuple[str, str, str]
) -> dict[str, Any]:
    city, state, country = place
    return {
        "uuid": n,
        "published": _ms(at),
        "eventType": "user.session.start",
        "version": "0",
        "displayMessage": "User login to Okta",
        "severity": "INFO" if result == "SUCCESS" else "WARN",
        "client": {
            "userAgent": {"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"},
            "zone": "null",
            "device": "Computer",
            "ipAddress": ip,
            "geographicalContext": {"city": city, "state": state, "country": country},
        },
        "actor": {
            "id": f"00u{zlib.crc32(user.encode()):08d}",
            "type": "User",
            "alternateId": user,
            "displayName": user,
        },
        "outcome": {"result": result, "reason": "INVALID_CREDENTIALS" if result == "FAILURE" else None},
        "target": [],
        "transaction": {"type": "WEB", "id": n},
    }


def okta(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    """One event hook request per day of sign-ins; the ops-heavy tenant also gets a spraying burst."""
    users = [u[0] for u in demo.users]
    for day in range(6, -1, -1):
        events = []
        for i in range(30):
            at = now - timedelta(days=day, seconds=rng.randint(0, 86000))
            if at > now:
                continue
            ok = rng.random() > 0.06  # a mistyped password now and then
            events.append(
                _okta_event(
                    f"{demo.tenant.id}-okta-{day}-{i}",
                    at,
                    rng.choice(users),
                    "SUCCESS" if ok else "FAILURE",
                    f"198.51.100.{i}",
                    rng.choice(CITIES),
                )
            )
        if day == 0 and demo.tenant.profile == "ops-heavy":
            ip, country = ATTACKERS[0]
            for i in range(24):  # password spraying over the last two hours
                at = now - timedelta(minutes=5 * i + 3)
                events.append(
                    _okta_event(
                        f"{demo.tenant.id}-spray-{i}",
                        at,
                        users[i % len(users)],
                        "FAILURE",
                        ip,
                        ("Frankfurt", "Hesse", country),
                    )
                )
        hook = {
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": f"https://{demo.tenant.id}.okta.com/api/v1/eventHooks/who{day}",
            "eventId": f"{demo.tenant.id}-hook-{day}",
            "eventTime": _ms(now - timedelta(days=day)),
            "contentType": "application/json",
            "data": {"events": events},
        }
        out.send("okta", hook)


def auth0(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    """The customer portal's logins: one log stream batch (JSON array) per day."""
    for day in range(6, -1, -1):
        batch = []
        for i in range(20):
            at = now - timedelta(days=day, seconds=rng.randint(0, 86000))
            code = rng.choices(("s", "fp", "fu"), (0.9, 0.07, 0.03))[0]
            if at > now:
                continue
            log_id = f"9002{day:02d}{i:04d}{zlib.crc32(demo.tenant.id.encode()) % 10**6:06d}"
            data = {
                "date": _ms(at),
                "type": code,
                "description": {
                    "s": "Successful login",
                    "fp": "Wrong email or password.",
                    "fu": "Wrong email or password.",
                }[code],
                "connection": "Username-Password-Authentication",
                "client_name": f"{demo.products[0]} customer portal",
                "ip": f"203.0.113.{rng.randint(1, 254)}",
                "user_agent": "Chrome 120.0.0 / Mac OS X 10.15.7",
                "user_name": f"customer{rng.randint(1, demo.accounts)}@example.com",
                "hostname": f"{demo.tenant.id}.eu.auth0.com",
                "log_id": log_id,
            }
            batch.append({"log_id": log_id, "data": data})
        out.send("auth0", batch)


def cloudtrail(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    """AWS console sign-ins, one EventBridge event each (the API destination's target)."""
    for i in range(12):
        at = now - timedelta(hours=rng.randint(1, 7 * 24 - 1), seconds=rng.randint(0, 3599))
        failed = i % 4 == 0
        user = rng.choice(demo.users)[0].split("@")[0]
        record = {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": f"AIDA{i:016d}",
                "accountId": "111122223333",
                "arn": f"arn:aws:iam::111122223333:user/{user}",
                "userName": user,
            },
            "eventTime": ts(at),
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "awsRegion": demo.tenant.home_region,
            "sourceIPAddress": f"192.0.2.{10 + i}",
            "userAgent": "Mozilla/5.0",
            "requestParameters": None,
            "responseElements": {"ConsoleLogin": "Failure" if failed else "Success"},
            "additionalEventData": {
                "LoginTo": "https://console.aws.amazon.com/console/home",
                "MobileVersion": "No",
                "MFAUsed": "No" if failed else "Yes",
            },
            "eventID": f"{demo.tenant.id}-ct-{i:04d}",
            "eventType": "AwsConsoleSignIn",
            "recipientAccountId": "111122223333",
        }
        if failed:
            record["errorMessage"] = "Failed authentication"
        event = {
            "version": "0",
            "id": f"{demo.tenant.id}-eb-{i}",
            "detail-type": "AWS Console Sign In via CloudTrail",
            "source": "aws.signin",
            "account": "111122223333",
            "time": ts(at),
            "region": demo.tenant.home_region,
            "resources": [],
            "detail": record,
        }
        out.send("cloudtrail", event)


WAF_RULES = (
    ("AWS-AWSManagedRulesSQLiRuleSet", "GROUP", "BLOCK"),
    ("AWS-AWSManagedRulesCommonRuleSet", "GROUP", "BLOCK"),
    ("rate-limit-login", "RATE_BASED", "BLOCK"),
    ("bot-control-count", "REGULAR", "COUNT"),
)


def waf(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    """Web ACL logs of the last two days in Firehose HTTP endpoint requests (one per 6 hours)."""
    acl = f"arn:aws:wafv2:{demo.tenant.home_region}:111122223333:regional/webacl/{demo.tenant.id}-edge/4f1c2d"
    volume = 30 if demo.tenant.profile == "ops-heavy" else 8
    for window in range(8, 0, -1):
        lines = []
        for i in range(volume):
            at = now - timedelta(hours=6 * window - rng.uniform(0, 6))
            rule, rtype, action = (
                rng.choice(WAF_RULES) if rng.random() < 0.7 else ("Default_Action", "REGULAR", "ALLOW")
            )
            ip, country = rng.choice(ATTACKERS) if action != "ALLOW" else ("198.51.100.7", "US")
            lines.append(
                {
                    "timestamp": int(at.timestamp() * 1000),
                    "formatVersion": 1,
                    "webaclId": acl,
                    "terminatingRuleId": rule,
                    "terminatingRuleType": rtype,
                    "action": action,
                    "terminatingRuleMatchDetails": [],
                    "httpSourceName": "ALB",
                    "httpSourceId": "app/edge",
                    "ruleGroupList": [
                        {"ruleGroupId": f"AWS#{rule}", "terminatingRule": {"ruleId": rule, "action": action}}
                    ]
                    if rtype == "GROUP"
                    else [],
                    "rateBasedRuleList": [],
                    "nonTerminatingMatchingRules": [],
                    "httpRequest": {
                        "clientIp": ip,
                        "country": country[:2].upper(),
                        "headers": [],
                        "uri": rng.choice(("/login", "/api/v1/search", "/wp-admin")),
                        "args": "",
                        "httpVersion": "HTTP/1.1",
                        "httpMethod": "POST",
                        "requestId": f"{demo.tenant.id}-{window}-{i}",
                    },
                    "labels": [],
                }
            )
        records = [{"data": base64.b64encode(json.dumps(x).encode() + b"\n").decode()} for x in lines]
        request_id = f"{demo.tenant.id}-firehose-{window}"
        body = {"requestId": request_id, "timestamp": int(now.timestamp() * 1000), "records": records}
        out.send("aws_waf", body, {"X-Amz-Firehose-Request-Id": request_id})


FINDINGS = (
    ("UnauthorizedAccess:EC2/SSHBruteForce", 5.0, "Instance", "is performing SSH brute force attacks"),
    ("Recon:EC2/PortProbeUnprotectedPort", 2.0, "Instance", "is probing unprotected ports"),
    (
        "CredentialAccess:IAMUser/AnomalousBehavior",
        8.0,
        "AccessKey",
        "invoked an API used to get credentials",
    ),
)


def guardduty(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    """GuardDuty findings as EventBridge delivers them; the high one only for the ops-heavy tenant."""
    kinds = FINDINGS if demo.tenant.profile == "ops-heavy" else FINDINGS[:2]
    for n, (ftype, severity, resource, what) in enumerate(kinds):
        updated = now - timedelta(hours=2 + 5 * n)
        finding = {
            "schemaVersion": "2.0",
            "accountId": "111122223333",
            "region": demo.tenant.home_region,
            "partition": "aws",
            "id": f"{demo.tenant.id}gd{n:04d}",
            "arn": f"arn:aws:guardduty:{demo.tenant.home_region}:111122223333:detector/d1/finding/{n}",
            "type": ftype,
            "resource": {"resourceType": resource},
            "service": {
                "serviceName": "guardduty",
                "detectorId": "d1",
                "archived": False,
                "count": 3 + n,
                "action": {"actionType": "NETWORK_CONNECTION"},
                "additionalInfo": {},
            },
            "severity": severity,
            "createdAt": _ms(updated - timedelta(days=1)),
            "updatedAt": _ms(updated),
            "title": f"{ATTACKERS[n % 3][0]} {what}.",
            "description": f"{ATTACKERS[n % 3][0]} {what}.",
        }
        event = {
            "version": "0",
            "id": f"{demo.tenant.id}-gd-{n}",
            "detail-type": "GuardDuty Finding",
            "source": "aws.guardduty",
            "account": "111122223333",
            "time": _ms(updated),
            "region": demo.tenant.home_region,
            "resources": [],
            "detail": finding,
        }
        out.send("guardduty", event)


# (days ago asked, answered days after, title)
REVIEWS = (
    (0.3, None, "Rotate session signing keys"),
    (4.0, None, "Add SSO login for the admin console"),
    (9.0, None, "Open the export API to partners"),
    (6.0, 1.0, "Upgrade the JWT library"),
)


def _pull(repo: str, number: int, title: str, at: datetime, teams: list[dict[str, Any]]) -> dict[str, Any]:
    name = repo.split("/")[1]
    return {
        "number": number,
        "title": title,
        "state": "open",
        "user": {"login": f"{name}-dev"},
        "html_url": f"https://github.com/{repo}/pull/{number}",
        "created_at": ts(at - timedelta(hours=1)),
        "updated_at": ts(at),
        "requested_teams": teams,
        "labels": [],
    }


def security_reviews(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    """GitHub pull_request review_requested (team `security`) and, for the answered one, the approval."""
    team = {"name": "Security", "slug": "security", "id": 4242}
    for n, (ago, answered, title) in enumerate(REVIEWS[: 4 if demo.tenant.profile == "ops-heavy" else 2]):
        repo = demo.repos[n % len(demo.repos)][0]
        at = now - timedelta(days=ago)
        base = {
            "repository": {"full_name": repo, "name": repo.split("/")[1]},
            "sender": {"login": demo.users[1][0].split("@")[0]},
        }
        asked = {
            **base,
            "action": "review_requested",
            "requested_team": team,
            "pull_request": _pull(repo, 100 + n, title, at, [team]),
        }
        out.send(
            "github",
            asked,
            {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": f"{demo.tenant.id}-rr-{n}"},
        )
        if answered is not None:
            done = at + timedelta(days=answered)
            review = {
                **base,
                "action": "submitted",
                "sender": {"login": "sec-reviewer"},
                "review": {"state": "approved", "submitted_at": ts(done), "user": {"login": "sec-reviewer"}},
                "pull_request": _pull(repo, 100 + n, title, done, []),
            }
            out.send(
                "github",
                review,
                {"X-GitHub-Event": "pull_request_review", "X-GitHub-Delivery": f"{demo.tenant.id}-rv-{n}"},
            )


def seed(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    okta(out, demo, now, rng)
    auth0(out, demo, now, rng)
    cloudtrail(out, demo, now, rng)
    waf(out, demo, now, rng)
    guardduty(out, demo, now, rng)
    security_reviews(out, demo, now, rng)
