"""Your team, over the REST API: see it, name it, invite, join (a merger), leave.

Each call answers the team as it is afterwards — ``{"name", "leader", "members",
"invites"}`` — or ``None`` when you are not in a team yet (your first submission makes
a solo one).  Refusals (not the leader, past the merger deadline, too many members)
raise :class:`~coursebench.client.http.CompeteError` with the server's explanation.
"""

from __future__ import annotations

from typing import Any

from .http import json_of, request

__all__ = ["create", "invite", "join", "leave", "team"]

Team = dict[str, Any] | None


def _base(competition: str) -> str:
    return f"/api/v1/competitions/{competition}/team"


def team(competition: str, *, server: str | None = None, token: str | None = None) -> Team:
    return json_of(request("GET", _base(competition), server=server, token=token))


def create(competition: str, name: str, *, server: str | None = None, token: str | None = None) -> Team:
    """Name your team (you must lead it)."""
    return json_of(request("PUT", _base(competition), server=server, token=token, json={"name": name}))


def invite(competition: str, participant: str, *, server: str | None = None, token: str | None = None) -> Team:
    """Invite a participant by roster id; they accept with :func:`join`."""
    return json_of(request("POST", f"{_base(competition)}/invites", server=server, token=token,
                           json={"participant": participant}))


def join(competition: str, team_name: str, *, server: str | None = None, token: str | None = None) -> Team:
    """Join a team that invited you (your submissions come along)."""
    return json_of(request("POST", f"{_base(competition)}/join", server=server, token=token,
                           json={"team": team_name}))


def leave(competition: str, *, server: str | None = None, token: str | None = None) -> Team:
    """Leave your team for a new solo one."""
    return json_of(request("POST", f"{_base(competition)}/leave", server=server, token=token))
