"""The pure core: the health model (KPI dictionary, normalisation, scoring, the one verdict
vocabulary, DORA and SLO math), the alert pack and its evaluation, inventory rules, RBAC, the
domain errors and the clock.

No I/O beyond reading the packs shipped inside this package; no AWS, no environment.
"""
