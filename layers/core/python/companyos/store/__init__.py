"""Data access: pynamodb models, tenant-scoped repositories, the audit chain."""
