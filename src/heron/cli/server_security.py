"""`heron server`'s security options, the config file, and what happens at start with them:
the first admin from the environment, and a warning when the server is open to everyone."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from heron.cli.options import console
from heron.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

ADMIN_USERNAME_ENV = "HERON_ADMIN_USERNAME"
ADMIN_PASSWORD_ENV = "HERON_ADMIN_PASSWORD"  # noqa: S105 - the variable's name, not a password
PRIVILEGES = ["BROWSE", "READ", "ANNOTATE", "EXECUTE", "USE", "EDIT", "PROMOTE", "MANAGE"]


def _load_config(ctx: click.Context, _param: click.Parameter, path: str | None) -> None:
    """`--config FILE`: a YAML mapping of option names (`auth: true`, `workers: 4`, ...) used as
    defaults; flags on the command line win."""
    if path is None:
        return
    try:
        loaded = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}") from None
    if not isinstance(loaded, dict):
        raise click.BadParameter(f"{path} must hold a mapping of option names to values")
    ctx.default_map = {str(k).replace("-", "_"): v for k, v in loaded.items()}


def _split(_ctx: click.Context, _param: click.Parameter, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def tls_options(security: dict[str, Any]) -> dict[str, Any]:
    """Takes the TLS flags out of `security` as uvicorn's options."""
    keyfile, certfile = security.pop("ssl_keyfile", None), security.pop("ssl_certfile", None)
    if (keyfile is None) != (certfile is None):
        raise click.UsageError("--ssl-keyfile and --ssl-certfile go together")
    return {} if keyfile is None else {"ssl_keyfile": keyfile, "ssl_certfile": certfile}


def enable_access_log(settings: Settings) -> None:
    """Access lines go to stderr, as `<address> <user> <method> <path> <status> <ms> <id>`."""
    if not settings.access_log:
        return
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s access %(message)s"))
    logger = logging.getLogger("heron.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def security_options(func: F) -> F:
    options = [
        click.option("--config", type=click.Path(dir_okay=False), callback=_load_config,
                     is_eager=True, expose_value=False,
                     help="A YAML file of option values (e.g. `auth: true`)."),
        click.option("--auth/--no-auth", default=False, show_default=True,
                     help="Require every request to authenticate; permissions from grants."),
        click.option("--enable-workspaces/--no-enable-workspaces", default=False,
                     show_default=True,
                     help="Workspaces (X-MLFLOW-WORKSPACE): tenants that hold their own "
                     "experiments and models."),
        click.option("--default-privilege", type=click.Choice(PRIVILEGES), default=None,
                     help="What signed-in users may do where no grant says (default: nothing)."),
        click.option("--trusted-proxy", "trusted_proxies", multiple=True, metavar="ADDRESS",
                     help="A proxy (address or network) whose X-Forwarded-For is believed."),
        click.option("--allowed-hosts", callback=_split, metavar="HOST,...",
                     help="Host header values to answer (name, name:port, *.domain); others "
                     "get 403. Default: localhost's names when listening on localhost, else any."),
        click.option("--cors-allowed-origins", callback=_split, metavar="ORIGIN,...",
                     help="Origins (https://app.example.com) whose pages may call the API."),
        click.option("--access-log/--no-access-log", default=True, show_default=True,
                     help="One line a request on stderr (never the query string)."),
        click.option("--max-request-bytes", type=click.IntRange(min=1024), default=None,
                     help="Largest JSON or OTLP request body (default 16 MiB)."),
        click.option("--oidc-issuer", metavar="URL", help="OIDC provider for the UI's login."),
        click.option("--oidc-client-id", metavar="ID", help="This server's client id there."),
        click.option("--oidc-client-secret", envvar="HERON_OIDC_CLIENT_SECRET", metavar="SECRET",
                     help="The client's secret (better: $HERON_OIDC_CLIENT_SECRET or --config)."),
        click.option("--oidc-user-claim", default="sub", show_default=True,
                     help="The ID token claim that names the user."),
        click.option("--oidc-groups-claim", default="groups", show_default=True,
                     help="The ID token claim that lists the user's groups."),
        click.option("--public-url", metavar="URL",
                     help="Where browsers reach this server (for the OIDC redirect)."),
        click.option("--workload-issuer", "workload_issuers", multiple=True, metavar="URL",
                     help="An OIDC issuer whose workload tokens may be exchanged (repeatable)."),
        click.option("--workload-audience", default="heron", show_default=True,
                     help="The audience workload tokens must carry."),
        click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False),
                     help="Serve HTTPS with this private key (PEM)."),
        click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False),
                     help="Serve HTTPS with this certificate chain (PEM)."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def bootstrap_admin(settings: Settings) -> None:
    """At first start with --auth: the admin from HERON_ADMIN_USERNAME/HERON_ADMIN_PASSWORD,
    made only while no admin exists (there is never a default password)."""
    if not settings.auth:
        return
    username = os.environ.get(ADMIN_USERNAME_ENV)
    password = os.environ.get(ADMIN_PASSWORD_ENV)
    from heron.cli.admin import security_on

    with security_on(settings.backend_store_uri) as security:
        if username and password:
            if security.principals.bootstrap_admin(username, password) is not None:
                console.print(f"  first admin:   {username} (from ${ADMIN_USERNAME_ENV})")
        elif security.principals.has_admin() is False:
            console.print(
                "[yellow]No admin yet[/yellow]: run `heron admin create-user NAME --admin`, or "
                f"start with ${ADMIN_USERNAME_ENV} and ${ADMIN_PASSWORD_ENV} set"
            )


def warn_if_open(settings: Settings) -> None:
    if settings.exposed_without_auth:
        console.print(
            f"[bold red]Warning[/bold red]: listening on {settings.listen_host} without --auth: "
            "anyone who reaches this port can read and change everything."
        )
