"""Built-in formulas of the billing-fed KPIs: Net Revenue Retention and ARR Growth Rate (contracts in
runs/packs/health-contracts-v1.yaml). Registered with `runs.formulas` on import, like every
`formulas_<family>.py`.

Both are year-over-year measures (kpi-health-model.md "Financials": NRR target ≥ 110 %, ARR growth
"YoY recurring revenue growth", target ≥ 30 %), so their targets hold for every period. The period
(7/28/90/365 days) is the window the yearly measure is averaged over, the way a quarter's revenue
growth is reported against the same quarter a year earlier: 7 days is "this week against the same
week last year", 365 days "the last twelve months against the twelve before". A window whose year-
earlier comparison starts before the billing history read is Unknown with that reason.

MRR is a stock, so it is folded from every billing event the contract reads (its `history_days`:
the whole retained billing history), per account in time order:

* 0 → x starts a customer's life (`new`), x → 0 ends it (`churn`); other increases are `expansion`,
  other decreases `contraction`. The account's MRR is tracked from its events; an event's
  `mrr_before` is read for an account's first event only (else `mrr_after`, else `mrr_delta`, apply
  to the tracked MRR).
* an account whose first event read has mrr_before > 0 was paying before the history starts: that
  MRR opens (`opening`) on the day of the earliest event read, and the life counts as older than a
  year (its start event expired or predates the source).
* a movement of a life younger than a year is keyed with the life's start day (`expansion|2024-01-31`)
  so NRR leaves out customers who were not customers a year earlier; older lives use the bare key.
  Keys per day stay few: at most one per movement of a young account that day.
* a negative MRR is kept as a negative `invalid_mrr` counter: the contract's non_negative pre-rule
  then fails the run instead of folding a nonsense amount.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from companyos.runs import formulas
from companyos.runs.formulas import Buckets, Builtin, Folded, Outcome, Params, SignalRow

KIND = "billing_event"
YEAR = 365  # days: the comparison of both KPIs is with the same days a year earlier
MOVES = {"expansion": 1.0, "contraction": -1.0, "churn": -1.0}  # signed effect on retained MRR
STOCK = {"opening": 1.0, "new": 1.0, **MOVES}  # signed effect on MRR


def _account(s: SignalRow) -> str:
    a = s.attributes
    return str(a.get("account_id") or a.get("subscription_id") or s.entity or s.signal_id)


@dataclass(frozen=True)
class Movement:
    """One MRR change of an account: `kind` new / expansion / contraction / churn / opening, or
    `invalid_mrr` (a negative MRR, amount the negative value); `life` is the start day of the
    account's current life when it is younger than a year (else None)."""

    day: date
    account: str
    kind: str
    amount: float
    life: date | None = None


def movements(rows: Sequence[SignalRow]) -> Iterator[Movement]:
    """The accounts' MRR movements of `billing_event` rows, folded in time order (module doc)."""
    rows = sorted(rows, key=lambda s: (s.occurred_at, s.signal_id))
    if not rows:
        return
    first_day = rows[0].occurred_at.date()
    mrr: dict[str, float] = {}
    born: dict[str, date | None] = {}  # start day of the account's current life; None: older than the history
    for s in rows:
        a, account, day = s.attributes, _account(s), s.occurred_at.date()
        known = mrr.get(account)
        try:
            before = known if known is not None else float(a.get("mrr_before") or 0.0)
            after = (
                float(a["mrr_after"]) if a.get("mrr_after") is not None else before + float(a["mrr_delta"])
            )
        except (KeyError, TypeError, ValueError):
            continue
        if before < 0 or after < 0:
            yield Movement(day, account, "invalid_mrr", min(before, after))
            continue
        if known is None and before > 0:
            yield Movement(first_day, account, "opening", before)
            born[account] = None
        mrr[account] = after
        if after == before:
            continue
        if before == 0:
            born[account] = day
            yield Movement(day, account, "new", after)
            continue
        kind = "churn" if after == 0 else "expansion" if after > before else "contraction"
        life = born.get(account)
        young = life is not None and (day - life).days < YEAR
        yield Movement(day, account, kind, abs(after - before), life if young else None)


def fold_billing(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`billing_event`: account_id (else subscription_id), mrr_before, mrr_after (else the signed
    mrr_delta). See the module docstring for the keys."""
    for m in movements(signals.get(KIND, ())):
        key = f"{m.kind}|{m.life.isoformat()}" if m.life else m.kind
        yield m.day, {key: m.amount}


@dataclass(frozen=True)
class Ledger:
    """Daily MRR and retained-cohort movements from the folded buckets, day `first` onwards.

    `mrr[i]`: MRR at the end of day first + i. `kept[i]`: the signed movements (expansion -
    contraction - churn) in the year up to day d = first + i of the lives that were already
    customers at d - 365 — a movement on day m of a life started on day s counts for the days
    [max(m, s + 365), m + 364]."""

    first: date
    mrr: tuple[float, ...]
    kept: tuple[float, ...]

    @classmethod
    def of(cls, buckets: Buckets) -> Ledger | None:
        days = sorted(buckets)
        if not days:
            return None
        first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
        size = (last - first).days + YEAR + 1
        flow, kept = [0.0] * size, [0.0] * (size + 1)
        for raw_day, counters in buckets.items():
            m = (date.fromisoformat(raw_day) - first).days
            for key, val in counters.items():
                if not isinstance(val, float | int):
                    continue
                kind, _, life = key.partition("|")
                if kind in STOCK:
                    flow[m] += STOCK[kind] * float(val)
                if kind in MOVES:
                    since = m if not life else max(m, (date.fromisoformat(life) - first).days + YEAR)
                    kept[since] += MOVES[kind] * float(val)
                    kept[m + YEAR] -= MOVES[kind] * float(val)
        mrr, total, run, retained = [], 0.0, 0.0, []
        for i in range(size):
            total += flow[i]
            run += kept[i]
            mrr.append(total)
            retained.append(run)
        return cls(first, tuple(mrr), tuple(retained))

    def mrr_at(self, day: date) -> float:
        i = (day - self.first).days
        return 0.0 if i < 0 else self.mrr[min(i, len(self.mrr) - 1)]

    def kept_at(self, day: date) -> float:
        i = (day - self.first).days
        return self.kept[i] if 0 <= i < len(self.kept) else 0.0

    def covers(self, day: date) -> bool:
        return day >= self.first


def _window(end: date, days: int) -> list[date]:
    return [end - timedelta(days=i) for i in range(days)]


def _year_earlier(buckets: Buckets, end: date, days: int) -> tuple[Ledger, float] | Outcome:
    """The ledger and the window's summed MRR a year earlier (sum of MRR(d - 365) over its days), or
    Unknown with the reason: no events, the same days a year earlier not all inside the billing
    history read, or no recurring revenue then."""
    ledger = Ledger.of(buckets)
    if ledger is None:
        return Outcome(None, "no billing events")
    start = end - timedelta(days=days - 1 + YEAR)
    if not ledger.covers(start):
        return Outcome(
            None,
            f"the billing history starts {ledger.first.isoformat()}: the comparison needs it from "
            f"{start.isoformat()} (the same {days} days a year earlier)",
        )
    base = sum(ledger.mrr_at(d - timedelta(days=YEAR)) for d in _window(end, days))
    if base <= 0:
        return Outcome(None, f"no recurring revenue in the same {days} days a year earlier")
    return ledger, base


def net_revenue_retention(buckets: Buckets, end: date, days: int) -> Outcome:
    """Yearly NRR, averaged over the window: for each day d of the window, the MRR on d of the customers
    who were customers a year earlier (their MRR on d - 365 plus their expansion - contraction - churn
    since), summed over the window and divided by the summed MRR of d - 365:

        NRR = Σ_d (MRR(d - 365) + kept(d)) / Σ_d MRR(d - 365) x 100

    Customers who started within the year count for neither side (new revenue is growth, not
    retention)."""
    got = _year_earlier(buckets, end, days)
    if isinstance(got, Outcome):
        return got
    ledger, base = got
    kept = sum(ledger.kept_at(d) for d in _window(end, days))
    return Outcome(100.0 * (base + kept) / base)


def arr_growth_rate(buckets: Buckets, end: date, days: int) -> Outcome:
    """Year-over-year growth of the window's average ARR (ARR = 12 x MRR, so of its average MRR):

        growth = (mean MRR over the window / mean MRR over the same days a year earlier - 1) x 100

    For 365 days: the last twelve months' recurring revenue against the twelve months before."""
    got = _year_earlier(buckets, end, days)
    if isinstance(got, Outcome):
        return got
    ledger, before = got
    now = sum(ledger.mrr_at(d) for d in _window(end, days))
    return Outcome(100.0 * (now - before) / before)


formulas.register("net_revenue_retention", Builtin(fold_billing, net_revenue_retention))
formulas.register("arr_growth_rate", Builtin(fold_billing, arr_growth_rate))
