"""Who is calling the register over HTTP: bearer tokens for the API, a signed session cookie for the pages.

Both are signed with one server secret (HMAC-SHA1 through itsdangerous, with a different salt
for each use so a token is never accepted as a cookie or the other way round) and carry the
time they were issued, so they expire without any server-side state. The secret comes from
``HAZARDJUDGE_SECRET``; without it one is generated when the server starts, and every token
and session ends when the server restarts. Nothing here decides what a user may do: the
account is re-read by :class:`~hazardjudge.register.store.Register` on every call.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from hazardjudge.register.errors import AuthenticationError, RegisterError
from hazardjudge.register.store import Register
from hazardjudge.register.views import Actor

SECRET_ENV = "HAZARDJUDGE_SECRET"
#: how long a bearer token or a page session stays valid (a working day and a bit)
TOKEN_MAX_AGE = 10 * 3600
SESSION_MAX_AGE = 10 * 3600
SESSION_COOKIE = "hj_register"
MIN_SECRET = 16


def server_secret(given: str | bytes | None = None) -> bytes:
    """The secret tokens are signed with: ``given``, else ``$HAZARDJUDGE_SECRET``, else a new random one."""
    value = given if given is not None else os.environ.get(SECRET_ENV)
    if value:
        raw = value.encode("utf-8") if isinstance(value, str) else value
        if len(raw) < MIN_SECRET:
            raise RegisterError.one("register.secret", f"{SECRET_ENV} 过短（至少 {MIN_SECRET} 个字符）")
        return raw
    return secrets.token_bytes(32)


@dataclass
class Session:
    """What the page cookie holds: the CSRF token always, the account once logged in."""

    csrf: str
    user_id: int | None = None
    username: str | None = None


class Auth:
    def __init__(self, reg: Register, secret: bytes) -> None:
        self.reg = reg
        self._tokens = URLSafeTimedSerializer(secret, salt="hazardjudge.register.token")
        self._sessions = URLSafeTimedSerializer(secret, salt="hazardjudge.register.session")

    # -------------------------------------------------------------- API tokens

    def issue_token(self, username: str, password: str) -> tuple[str, Actor]:
        actor = self.reg.authenticate(username, password)
        return self._tokens.dumps({"uid": actor.id, "u": actor.username}), actor

    def actor_from_token(self, token: str) -> Actor:
        try:
            data = self._tokens.loads(token, max_age=TOKEN_MAX_AGE)
        except SignatureExpired:
            raise AuthenticationError.one("register.token_expired", "登录已过期，请重新获取令牌") from None
        except BadSignature:
            raise AuthenticationError.one("register.token", "令牌无效") from None
        return self._current(data)

    def _current(self, data: Any) -> Actor:
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("uid"), int):
            raise AuthenticationError.one("register.token", "令牌无效")
        # Re-read: a deactivated account or a changed role applies to tokens already issued.
        actor = self.reg.actor(data["u"])
        if actor.id != data["uid"]:  # the name was given to another account since
            raise AuthenticationError.one("register.token", "令牌无效")
        return actor

    # -------------------------------------------------------------- page sessions

    def new_session(self, actor: Actor | None = None) -> Session:
        return Session(csrf=secrets.token_urlsafe(24), user_id=actor.id if actor else None, username=actor.username if actor else None)

    def dump_session(self, session: Session) -> str:
        return self._sessions.dumps({"c": session.csrf, "uid": session.user_id, "u": session.username})

    def load_session(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._sessions.loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:  # SignatureExpired included
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        return Session(csrf=data["c"], user_id=data.get("uid"), username=data.get("u"))

    def actor_of(self, session: Session | None) -> Actor | None:
        if session is None or session.username is None:
            return None
        try:
            return self._current({"uid": session.user_id, "u": session.username})
        except AuthenticationError:
            return None

    @staticmethod
    def csrf_ok(session: Session | None, given: str | None) -> bool:
        return bool(session and given) and hmac.compare_digest(session.csrf.encode(), str(given).encode())
