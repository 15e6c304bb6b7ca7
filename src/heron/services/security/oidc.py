"""OpenID Connect: verifying an identity provider's ID tokens (issuer, audience, signature,
expiry, nonce), for the UI's login and for workloads' token exchange.

The provider's discovery document and keys are fetched with httpx and kept for ten minutes
(a key the cached set lacks triggers one refresh, so rotation at the provider just works)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from heron.errors import Unauthenticated

_CACHE_S = 600
_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")


@dataclass(frozen=True, slots=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class Issuers:
    """Discovery documents and key sets of the issuers this server trusts, cached."""

    def __init__(self, *, clock: Callable[[], float] = time.time, timeout_s: float = 10) -> None:
        self._clock = clock
        self._timeout_s = timeout_s
        self._providers: dict[str, tuple[float, Provider]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}
        self._lock = threading.Lock()

    def _get(self, url: str) -> dict[str, Any]:
        try:
            resp = httpx.get(url, timeout=self._timeout_s, follow_redirects=False)
            resp.raise_for_status()
            found = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Unauthenticated(f"The identity provider did not answer {url}: {exc}") from None
        if not isinstance(found, dict):
            raise Unauthenticated(f"The identity provider's {url} is not a JSON object")
        return found

    def provider(self, issuer: str) -> Provider:
        now = self._clock()
        cached = self._providers.get(issuer)
        if cached is not None and now - cached[0] < _CACHE_S:
            return cached[1]
        doc = self._get(issuer.rstrip("/") + "/.well-known/openid-configuration")
        if doc.get("issuer") != issuer:
            raise Unauthenticated(f"The discovery document of {issuer} names another issuer")
        try:
            found = Provider(
                issuer, str(doc["authorization_endpoint"]), str(doc["token_endpoint"]),
                str(doc["jwks_uri"]),
            )  # fmt: skip
        except KeyError as exc:
            raise Unauthenticated(f"{issuer}'s discovery document lacks {exc}") from None
        with self._lock:
            self._providers[issuer] = (now, found)
        return found

    def _keyset(self, issuer: str, *, fresh: bool) -> KeySet:
        now = self._clock()
        cached = self._keys.get(issuer)
        if cached is not None and not fresh and now - cached[0] < _CACHE_S:
            return cached[1]
        try:
            keys = KeySet.import_key_set(self._get(self.provider(issuer).jwks_uri))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as exc:
            raise Unauthenticated(f"{issuer}'s keys cannot be read: {exc}") from None
        with self._lock:
            self._keys[issuer] = (now, keys)
        return keys

    def verify(
        self, token: str, *, issuers: Sequence[str], audience: str, nonce: str | None = None
    ) -> Mapping[str, Any]:
        """The claims of an ID token signed by one of `issuers` for `audience`, unexpired."""
        issuer = _peek_issuer(token)  # only to pick the keys: the signature is checked with them
        if issuer is None or issuer not in issuers:
            raise Unauthenticated("The token's issuer is not one this server trusts")
        decoded = None
        for fresh in (False, True):
            try:
                decoded = jwt.decode(token, self._keyset(issuer, fresh=fresh), _ALGORITHMS)
                break
            except (JoseError, ValueError) as exc:
                if fresh:
                    raise Unauthenticated(f"The token's signature does not verify: {exc}") from None
        assert decoded is not None  # noqa: S101 - the loop raised otherwise
        expected: dict[str, Any] = {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": audience},
            "exp": {"essential": True},
        }
        if nonce is not None:
            expected["nonce"] = {"essential": True, "value": nonce}
        try:
            jwt.JWTClaimsRegistry(now=int(self._clock()), leeway=30, **expected).validate(
                decoded.claims
            )
        except JoseError as exc:
            raise Unauthenticated(f"The token is not valid here: {exc}") from None
        return decoded.claims


def _peek_issuer(token: str) -> str | None:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise Unauthenticated("The token is not a JWT") from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None
