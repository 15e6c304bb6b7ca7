"""A real OpenID Connect provider on localhost, for the SSO and workload tests: discovery,
an authorization endpoint with a login form, a token endpoint that checks the client, the
redirect URI and PKCE (authlib's S256), and ID tokens signed with RS256 (joserfc, authlib's
JOSE library). `mint(claims)` issues a token directly, as a CI system issues a job's token."""

from __future__ import annotations

import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "heron-ui"
CLIENT_SECRET = "provider-client-secret"  # noqa: S105 - the test provider's


@dataclass
class Provider:
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # login name -> extra claims

    def mint(self, claims: dict[str, Any], *, key: RSAKey | None = None) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "iat": now, "exp": now + 300, **claims}
        signer = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signer.kid}, body, signer)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/jwks", self.jwks),
            Route("/authorize", self.authorize_form, methods=["GET"]),
            Route("/authorize", self.authorize, methods=["POST"]),
            Route("/token", self.token, methods=["POST"]),
        ])  # fmt: skip

    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
        })  # fmt: skip

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize_form(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("code_challenge_method") != "S256":
            return HTMLResponse("bad request", status_code=400)
        hidden = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in q.items())
        return HTMLResponse(
            '<!doctype html><link rel="icon" href="data:,">'
            f'<form method="post" action="/authorize">{hidden}<input name="login" id="login">'
            '<button type="submit" id="approve">Sign in</button></form>'
        )

    async def authorize(self, request: Request) -> Response:
        form = await _form(request)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {k: str(v) for k, v in form.items()}
        target = str(form["redirect_uri"])
        query = urllib.parse.urlencode({"code": code, "state": str(form["state"])})
        return RedirectResponse(f"{target}?{query}", status_code=303)

    async def token(self, request: Request) -> Response:
        form = await _form(request)
        granted = self.codes.pop(str(form.get("code")), None)
        client_id, client_secret = _client(request, form)
        if (
            granted is None
            or (client_id, client_secret) != (CLIENT_ID, CLIENT_SECRET)
            or form.get("redirect_uri") != granted["redirect_uri"]
            or create_s256_code_challenge(str(form.get("code_verifier")))
            != granted["code_challenge"]
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        login = granted["login"]
        claims = {"sub": f"sub-{login}", "aud": CLIENT_ID, "nonce": granted["nonce"],
                  "preferred_username": login, **self.users.get(login, {})}  # fmt: skip
        return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                             "expires_in": 300, "id_token": self.mint(claims)})  # fmt: skip


async def _form(request: Request) -> dict[str, str]:
    pairs = urllib.parse.parse_qsl((await request.body()).decode(), keep_blank_values=True)
    return dict(pairs)


def _client(request: Request, form: Any) -> tuple[str, str]:
    import base64

    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return urllib.parse.unquote(user), urllib.parse.unquote(secret)
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))
