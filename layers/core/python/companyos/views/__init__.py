"""View assembly: score snapshots (written by the refresh) and dashboards (read by the API)."""
