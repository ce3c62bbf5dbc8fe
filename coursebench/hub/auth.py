"""Login to the hub with a roster token.

The user name is the roster id (``s01``) and the password is that student's roster token —
the one ``coursebench compete tokens`` made, which also logs them into the leaderboard. The
hub does not keep tokens: it asks the leaderboard (``GET /api/v1/me`` with the token as a
bearer token) who the token belongs to, and accepts the login only when that is the user
name given. The token is then kept in the user's *encrypted* auth state (JupyterHub's
``JUPYTERHUB_CRYPT_KEY``) so the spawner can hand it to the user's server as
``COURSEBENCH_TOKEN``. Instructors (role ``instructor`` in the leaderboard) are hub admins.

For an LMS, JupyterHub's maintained ``jupyterhub-ltiauthenticator`` (LTI 1.3) replaces this
class in the generated config (docs/hub.md).
"""

from __future__ import annotations

from typing import Any

import httpx
from jupyterhub.auth import Authenticator
from traitlets import Float, Unicode


class RosterTokenAuthenticator(Authenticator):
    """User name = roster id, password = roster token (checked by the leaderboard)."""

    leaderboard_url = Unicode(help="The leaderboard that knows the roster tokens.").tag(config=True)
    check_timeout = Float(10.0, help="Seconds to wait for the leaderboard.").tag(config=True)

    async def authenticate(self, handler: Any, data: dict[str, str]) -> dict[str, Any] | None:
        name = (data.get("username") or "").strip().lower()
        token = (data.get("password") or "").strip()
        if not name or not token or not self.leaderboard_url:
            return None
        try:
            async with httpx.AsyncClient(timeout=self.check_timeout, trust_env=False) as client:
                reply = await client.get(self.leaderboard_url.rstrip("/") + "/api/v1/me",
                                         headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            self.log.error("roster login for %s: the leaderboard at %s did not answer: %s",
                           name, self.leaderboard_url, exc)
            return None
        if reply.status_code != 200:
            self.log.warning("roster login for %s refused: the token is not known", name)
            return None
        me = reply.json()
        if str(me.get("name", "")).lower() != name:
            self.log.warning("roster login for %s refused: the token is another user's", name)
            return None
        return {"name": name, "admin": me.get("role") == "instructor",
                "auth_state": {"token": token, "role": me.get("role", "student")}}
