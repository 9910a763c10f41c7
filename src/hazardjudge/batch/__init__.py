"""Judging many inspections: streamed JSON Lines in and out, local processes or a Dask cluster."""
