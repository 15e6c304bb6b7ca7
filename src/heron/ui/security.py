"""The UI's security pages with --auth: login and logout, single sign-on, the user's tokens."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.services.security.bundle import SecurityServices
from heron.services.security.oidc_login import OidcLogin
from heron.ui import admin, login, sso, tokens
from heron.ui.rendering import Renderer, environment


def routes(
    services: SecurityServices, oidc: OidcLogin | None, public_url: str | None
) -> list[BaseRoute]:
    renderer = Renderer(environment())
    found: list[BaseRoute] = [
        *login.routes(renderer, services.authenticator, sso=oidc is not None),
        *tokens.routes(renderer, services.tokens),
        *admin.routes(renderer, services),
    ]
    if oidc is not None:
        found += sso.routes(renderer, oidc, services.authenticator, public_url)
    return found
