"""KPI runs: contracts of the built-in KPIs and the steps the kpi_run state machine executes."""
