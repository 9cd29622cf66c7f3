"""Infographics and reports as files: rendered on first request, cached until the figures change."""
