"""Importers: other schedulers' definitions -> Tickwork jobs."""
