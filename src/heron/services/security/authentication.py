"""Authentication: passwords (Basic), tokens (Bearer) and browser sessions become an Identity.

argon2 runs when a password is first seen, not on every request: a verified password is
cached (under a keyed hash, never in clear). Every change to principals, tokens or grants bumps
the security epoch in the database; `EpochWatch` reads it (one primary-key read) on each
request and clears this cache when it moved, so a revoked token, a deleted user or a changed
password is refused on the very next request by every server process."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from heron.entities.security import Principal, Session
from heron.errors import RequestLimitExceeded, Unauthenticated
from heron.services.access import Identity
from heron.services.security import passwords, tokens
from heron.services.security.audit import AuditTrail, current_request
from heron.store.security import (
    GroupStore,
    PrincipalStore,
    SecurityStateStore,
    SessionStore,
    TokenStore,
)

_CACHE_LIMIT = 10_000
_TOUCH_EVERY_MS = 60_000  # a token's last-used time is written at most once a minute


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginPolicy:
    max_failed_logins: int = 5  # then the user is locked out for lockout_s
    lockout_s: int = 900
    max_failures_per_address: int = 20  # a minute, from one address, before 429s
    session_s: int = 12 * 3600


@dataclass(slots=True)
class _Cached:
    identity: Identity
    expires_ms: int | None  # a token's or session's expiry; None for passwords
    csrf: str = ""  # a session's CSRF token


class Authenticator:
    def __init__(
        self,
        principals: PrincipalStore,
        groups: GroupStore,
        token_store: TokenStore,
        session_store: SessionStore,
        state: SecurityStateStore,
        audit: AuditTrail,
        *,
        policy: LoginPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._principals = principals
        self._groups = groups
        self._tokens = token_store
        self._sessions = session_store
        self._state = state
        self._audit = audit
        self.policy = policy or LoginPolicy()
        self._clock = clock
        self._cache_key = secrets.token_bytes(32)  # this process's: cache keys mean nothing outside
        self._cache: dict[bytes, _Cached] = {}
        self._touched: dict[str, int] = {}
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def clear_cache(self) -> None:
        """Forgets every verified credential (the security epoch moved: see EpochWatch)."""
        with self._lock:
            self._cache.clear()

    def _remember(self, key: bytes, cached: _Cached) -> None:
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = cached

    def _key(self, *parts: str) -> bytes:
        # Keyed BLAKE2b: one call into C. OpenSSL's HMAC looks its digest up on every call,
        # which cost more than the rest of the request's authentication.
        data = "\0".join(parts).encode()
        return hashlib.blake2b(data, key=self._cache_key, digest_size=32).digest()

    def identity_of(self, principal: Principal, **extra: object) -> Identity:
        groups = tuple(g.principal_id for g in self._groups.groups_of(principal.principal_id))
        return Identity(
            name=principal.name, authenticated=True, principal_id=principal.principal_id,
            is_admin=principal.is_admin, group_ids=groups, **extra,  # type: ignore[arg-type]
        )  # fmt: skip

    # -- passwords -------------------------------------------------------------------------

    def cached_basic(self, username: str, password: str) -> Identity | None:
        """The identity of a password verified before (since the epoch last moved)."""
        cached = self._cache.get(self._key("basic", username, password))
        return None if cached is None else cached.identity

    def basic(self, username: str, password: str) -> Identity:
        """The user whose password this is; Unauthenticated otherwise."""
        key = self._key("basic", username, password)
        cached = self._cache.get(key)
        if cached is not None:
            return cached.identity
        identity = self.check_password(username, password)
        self._remember(key, _Cached(identity, None))
        return identity

    def check_password(self, username: str, password: str) -> Identity:
        """Runs argon2 (after the address's rate limit and the user's lockout)."""
        address = current_request().address
        self._check_rate(address)
        found = self._principals.credentials(username)
        now = self._now_ms()
        if found is not None and found.locked_until is not None and found.locked_until > now:
            minutes = -(-(found.locked_until - now) // 60_000)
            self._refuse(username, "login_locked")
            raise Unauthenticated(
                f"Too many failed logins for {username!r}: try again in {minutes} minute(s)"
            )
        stored = found.password_hash if found is not None else None
        good = passwords.verify_password(stored or passwords.DUMMY_HASH, password)
        if found is None or not stored or not good or found.principal.disabled:
            self._failed(address, found)
            self._refuse(username, "login")
            raise Unauthenticated("Invalid username or password")
        if found.failed_logins:
            self._principals.record_login(
                found.principal.principal_id, failed_logins=0, locked_until=None
            )
        return self.identity_of(found.principal)

    def _check_rate(self, address: str) -> None:
        recent = self._failures.get(address)
        cutoff = self._clock() - 60
        while recent and recent[0] < cutoff:
            recent.popleft()
        if recent is not None and len(recent) >= self.policy.max_failures_per_address:
            raise RequestLimitExceeded(
                "Too many failed logins from this address: wait a minute and try again"
            )

    def _failed(self, address: str, found: object) -> None:
        with self._lock:
            if len(self._failures) >= _CACHE_LIMIT:
                self._failures.clear()
            self._failures.setdefault(address, deque()).append(self._clock())
        credentials = getattr(found, "principal", None)
        if credentials is None:
            return
        failed = found.failed_logins + 1  # type: ignore[attr-defined]
        locked = None
        if failed >= self.policy.max_failed_logins:
            failed, locked = 0, self._now_ms() + self.policy.lockout_s * 1000
        self._principals.record_login(
            credentials.principal_id, failed_logins=failed, locked_until=locked
        )

    def _refuse(self, who: str, action: str) -> None:
        self._audit.denied(action, "user", who, who=who or "anonymous")

    # -- tokens ----------------------------------------------------------------------------

    def bearer(self, token: str) -> Identity:
        key = self._key("bearer", token)
        cached = self._cache.get(key)
        now = self._now_ms()
        if cached is None:
            cached = self._check_token(token, now)
            self._remember(key, cached)
        if cached.expires_ms is not None and cached.expires_ms <= now:
            raise Unauthenticated("The token has expired")
        token_id = cached.identity.token_id or ""
        if now - self._touched.get(token_id, 0) >= _TOUCH_EVERY_MS:
            self._touched[token_id] = now
            self._tokens.touch_token(token_id, now)
        return cached.identity

    def _check_token(self, token: str, now: int) -> _Cached:
        parsed = tokens.parse_token(token)
        found = self._tokens.get_token(parsed[0]) if parsed else None
        key = self._state.secret("token_key")
        if parsed is None or found is None or not tokens.matches(key, parsed[1], found.secret_hash):
            self._refuse("", "token")
            raise Unauthenticated("Invalid token")
        if found.revoked_time is not None:
            raise Unauthenticated("The token has been revoked")
        if found.expires_time is not None and found.expires_time <= now:
            raise Unauthenticated("The token has expired")
        principal = self._principals.get_principal_by_id(found.principal_id)
        if principal.disabled:
            raise Unauthenticated("The token's principal is disabled")
        identity = self.identity_of(principal, scopes=found.scopes, token_id=found.token_id)
        return _Cached(identity, found.expires_time)

    # -- browser sessions ------------------------------------------------------------------

    def start_session(self, identity: Identity) -> tuple[str, str]:
        """A new session for `identity`: (the cookie's value, its CSRF token)."""
        assert identity.principal_id is not None  # noqa: S101 - only principals log in
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = self._now_ms()
        self._sessions.create_session(
            self._session_hash(cookie),
            Session(
                principal_id=identity.principal_id, created_time=now,
                expires_time=now + self.policy.session_s * 1000, csrf_token=csrf,
            ),
        )  # fmt: skip
        return cookie, csrf

    def _session_hash(self, cookie: str) -> str:
        return tokens.secret_hash(self._state.secret("token_key"), "session:" + cookie)

    def session(self, cookie: str) -> tuple[Identity, str] | None:
        """The identity and CSRF token of a live session, else None."""
        key = self._key("session", cookie)
        cached = self._cache.get(key)
        now = self._now_ms()
        if cached is None:
            found = self._sessions.get_session(self._session_hash(cookie))
            if found is None:
                return None
            principal = self._principals.get_principal_by_id(found.principal_id)
            if principal.disabled:
                return None
            cached = _Cached(self.identity_of(principal), found.expires_time, found.csrf_token)
            self._remember(key, cached)
        if cached.expires_ms is not None and cached.expires_ms <= now:
            return None
        return cached.identity, cached.csrf

    def end_session(self, cookie: str) -> None:
        self._sessions.delete_session(self._session_hash(cookie))
