"""Routers: ``pages`` (students' and visitors' pages), ``admin`` (instructors' pages)
and ``api`` (the REST API under /api/v1)."""
