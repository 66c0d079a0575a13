"""Drill-downs of the exec-cockpit-spec.md "Drill-Down Architecture": from a score or a KPI to the
services and endpoints behind it, from an incident to its timeline, from a change to its
deployments and commits, and the dependency explorer (service map with health).

Drill-downs are opened one at a time, so unlike dashboards they may read the stored signals live
(Query by tenant#kind and time range; never a Scan). A level whose data no pipeline stores yet
answers 200 with `available: false` and the reason; an id that does not exist in the caller's
tenant is 404.

One module per drill path: drilldown/score.py (score breakdown), kpi_services.py (KPI → service →
endpoint), services.py (a service, the service map), slos.py (service → SLO), incidents.py
(incident → timeline), deployments.py (change correlation), compliance.py (control →
failing checks); base.py holds what they share.
"""

from companyos.views.drilldown.compliance import control
from companyos.views.drilldown.deployments import changes, deployment
from companyos.views.drilldown.incidents import incident, incident_list
from companyos.views.drilldown.kpi_services import kpi
from companyos.views.drilldown.score import breakdown
from companyos.views.drilldown.services import service, service_map
from companyos.views.drilldown.slos import service_slo

__all__ = [
    "breakdown",
    "changes",
    "control",
    "deployment",
    "incident",
    "incident_list",
    "kpi",
    "service",
    "service_map",
    "service_slo",
]
