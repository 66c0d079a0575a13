"""Pure health-model domain code: KPI dictionary, normalisation, scoring, DORA and SLO math.

No I/O beyond reading the packs shipped inside this package; no AWS, no environment.
"""
