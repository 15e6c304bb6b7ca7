"""The UI's single sign-on: OIDC authorization code flow with PKCE (authlib's client), the ID
token checked (issuer, audience, signature, expiry, nonce), the user named by a configurable
claim, groups taken from a claim. The pending login lives in a signed, short-lived cookie, so
any server process can finish it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from heron.entities.security import Principal, PrincipalKind
from heron.errors import NotFound, Unauthenticated
from heron.services.access import Identity
from heron.services.security.authentication import Authenticator
from heron.services.security.oidc import Issuers
from heron.services.security.principals import check_name
from heron.store.security import GroupStore, PrincipalStore

_PENDING_S = 600
_MAX_GROUPS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    user_claim: str = "sub"  # an email can be reassigned: prefer a stable subject
    groups_claim: str = "groups"
    scopes: str = "openid profile email"


class OidcLogin:
    def __init__(
        self,
        settings: OidcSettings,
        issuers: Issuers,
        principals: PrincipalStore,
        groups: GroupStore,
        authenticator: Authenticator,
        key: Callable[[], bytes],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._issuers = issuers
        self._principals = principals
        self._groups = groups
        self._authenticator = authenticator
        self._key = key
        self._clock = clock

    def begin(self, redirect_uri: str, next_path: str) -> tuple[str, str]:
        """Where to send the browser, and the signed cookie that remembers this login."""
        provider = self._issuers.provider(self.settings.issuer)
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        query = urllib.parse.urlencode(
            {
                "response_type": "code", "client_id": self.settings.client_id,
                "redirect_uri": redirect_uri, "scope": self.settings.scopes, "state": state,
                "nonce": nonce, "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )  # fmt: skip
        pending = {"state": state, "nonce": nonce, "verifier": verifier, "next": next_path,
                   "exp": int(self._clock()) + _PENDING_S}  # fmt: skip
        return f"{provider.authorization_endpoint}?{query}", self._sign(pending)

    def finish(self, redirect_uri: str, code: str, state: str, cookie: str) -> tuple[Identity, str]:
        pending = self._unsign(cookie)
        if not hmac.compare_digest(str(pending.get("state", "")), state):
            raise Unauthenticated("The login's state does not match: start again")
        provider = self._issuers.provider(self.settings.issuer)
        with OAuth2Client(
            self.settings.client_id, self.settings.client_secret, code_challenge_method="S256",
            timeout=10,
        ) as client:  # fmt: skip
            try:
                token = client.fetch_token(
                    provider.token_endpoint, code=code, redirect_uri=redirect_uri,
                    code_verifier=pending["verifier"],
                )  # fmt: skip
            except Exception as exc:  # authlib raises its own OAuthError or httpx's errors
                raise Unauthenticated(f"The identity provider refused the login: {exc}") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise Unauthenticated("The identity provider sent no ID token")
        claims = self._issuers.verify(
            id_token, issuers=[self.settings.issuer], audience=self.settings.client_id,
            nonce=str(pending["nonce"]),
        )  # fmt: skip
        principal = self._user(claims.get(self.settings.user_claim))
        self._set_groups(principal, claims.get(self.settings.groups_claim))
        return self._authenticator.identity_of(principal), str(pending["next"])

    def _user(self, name: object) -> Principal:
        if not isinstance(name, str):
            raise Unauthenticated(f"The ID token has no {self.settings.user_claim!r} claim")
        check_name("User", name)
        found = self._principals.credentials(name)
        if found is None:
            return self._principals.create_principal(PrincipalKind.USER, name)
        if found.password_hash is not None:
            # A local account of the same name is not the provider's to sign in as.
            raise Unauthenticated(f"{name!r} is a local account here: sign in with its password")
        if found.principal.disabled:
            raise Unauthenticated(f"{name!r} is disabled")
        return found.principal

    def _set_groups(self, principal: Principal, claimed: object) -> None:
        names = [g for g in claimed if isinstance(g, str)] if isinstance(claimed, list) else []
        ids = []
        for name in names[:_MAX_GROUPS]:
            try:
                group = self._principals.get_principal(
                    PrincipalKind.GROUP, check_name("Group", name)
                )
            except NotFound:
                group = self._principals.create_principal(PrincipalKind.GROUP, name)
            ids.append(group.principal_id)
        self._groups.set_idp_groups(principal.principal_id, ids)

    def _sign(self, payload: dict[str, object]) -> str:
        body = base64.urlsafe_b64encode(orjson.dumps(payload)).decode()
        mac = hmac.new(self._key(), body.encode(), hashlib.sha256).hexdigest()
        return f"{body}.{mac}"

    def _unsign(self, cookie: str) -> dict[str, object]:
        body, _, mac = cookie.rpartition(".")
        good = hmac.new(self._key(), body.encode(), hashlib.sha256).hexdigest()
        if not body or not hmac.compare_digest(mac, good):
            raise Unauthenticated("The login was not started here, or its cookie was changed")
        pending = orjson.loads(base64.urlsafe_b64decode(body))
        if not isinstance(pending, dict) or int(pending.get("exp", 0)) < self._clock():
            raise Unauthenticated("The login took too long: start again")
        return pending
