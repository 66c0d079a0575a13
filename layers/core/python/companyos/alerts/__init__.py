"""Alerting: rules as data, evaluation (pending → firing → resolved), persona routing over SNS,
escalation, and the alert inbox. See docs/alerts.md."""
