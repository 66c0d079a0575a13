"""Parsers of real third-party payloads, one plug-in per source (see `registry`)."""
