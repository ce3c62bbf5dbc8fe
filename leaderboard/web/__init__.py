"""The leaderboard's web app and REST API (issue #6): ``create_app`` builds it over a
:class:`~leaderboard.services.Service`; ``coursebench serve`` runs it with uvicorn."""

from __future__ import annotations

from .app import WebSettings, create_app

__all__ = ["WebSettings", "create_app"]
