"""The leaderboard's web app and REST API (issue #6): ``create_app`` builds it over a
:class:`~leaderboard.services.Service`; ``coursebench serve`` runs it with uvicorn."""

from __future__ import annotations

from .app import create_app
from .config import WebSettings

__all__ = ["WebSettings", "create_app"]
