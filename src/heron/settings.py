"""One typed Settings object, built once by the CLI (or by a test) and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOME = "heron-data"
PROXIED_ARTIFACT_ROOT = "mlflow-artifacts:"


def sensitive_key_patterns(text: str | None) -> tuple[str, ...]:
    """The patterns of a --sensitive-keys (or $HERON_SENSITIVE_KEYS) value: comma-separated."""
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def heron_home() -> Path:
    """The data directory: `$HERON_HOME`, else `./heron-data`."""
    return Path(os.environ.get("HERON_HOME") or DEFAULT_HOME).resolve()


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    backend_store_uri: str
    artifacts_destination: str
    serve_artifacts: bool = True
    default_artifact_root: str = PROXIED_ARTIFACT_ROOT
    allowed_artifact_roots: tuple[str, ...] = field(default_factory=tuple)
    sqlite_synchronous: str = "NORMAL"  # NORMAL keeps acknowledged writes through kill -9
    # A JSON (or OTLP) request body larger than this is refused before it is read whole.
    max_request_bytes: int = 16 * 1024 * 1024
    # A span's inputs or outputs longer than this (as JSON) are stored cut, with a marker.
    trace_max_payload_bytes: int = 1024 * 1024
    # Hosts (name or address, optionally :port) webhooks may deliver to. None by default: a
    # webhook can only call what the administrator listed, never an arbitrary address.
    webhook_allowed_hosts: tuple[str, ...] = ()
    # The customer-managed key that encrypts artifacts at rest: a key file (a path or
    # file:///path) or aws-kms://<key id, ARN or alias/...>. None: artifacts are stored as is.
    encryption_key: str | None = None
    # Params and tags (of runs and traces) whose keys match one of these glob patterns
    # (ignoring case, e.g. "*password*", "secret.*") are stored encrypted with that key;
    # with a key, trace inputs and outputs and tokens' names are always (docs/encryption.md).
    sensitive_keys: tuple[str, ...] = ()
    # How long an unwrapped data key is reused: a KMS key revoked stops working within it.
    key_cache_s: float = 60.0
    # Authentication (`--auth`): every request must prove who it comes from, and what it may
    # do follows the grants (docs/security.md). Off, anyone who reaches the port may do all.
    auth: bool = False
    # What a signed-in user may do where no grant says otherwise: None (no access, the
    # default), or a privilege such as "READ" granted to everyone on everything.
    default_privilege: str | None = None
    # MLflow's workspaces (`--enable-workspaces`): each request works in the workspace its
    # X-MLFLOW-WORKSPACE header names (`default` without one). Off: no scoping at all.
    enable_workspaces: bool = False
    max_failed_logins: int = 5  # then the user is locked out for lockout_s
    lockout_s: int = 900
    # Proxies (addresses or networks) whose X-Forwarded-For names the real client.
    trusted_proxies: tuple[str, ...] = ()
    # Where the server listens (set by `heron server --host`): beyond this machine without
    # auth, every UI page carries a warning.
    listen_host: str = "127.0.0.1"
    # Host header values the server answers (`--allowed-hosts`); none given: this machine's
    # own names when listening on localhost, else any (see server/hardening.py).
    allowed_hosts: tuple[str, ...] = ()
    cors_allowed_origins: tuple[str, ...] = ()  # origins whose pages may call the API
    access_log: bool = True  # one line a request on stderr
    # OIDC login for the UI (docs/security.md): the provider, this server's client there, the
    # claim that names the user (an email can be reassigned: `sub` by default) and the groups.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_user_claim: str = "sub"
    oidc_groups_claim: str = "groups"
    # Where browsers reach this server (for the OIDC redirect), when a proxy changes it.
    public_url: str | None = None
    # Issuers whose workload tokens (CI jobs, pods) may be exchanged for a Heron token.
    workload_issuers: tuple[str, ...] = ()
    workload_audience: str = "heron"
    # `heron worker` processes `heron server` starts to run deployment jobs (0: none, run
    # them elsewhere), and how long a worker's claim on a task lasts without a heartbeat.
    job_workers: int = 1
    job_lease_s: float = 30.0
    # What custom tasks of deployment jobs may run: Python callables from these modules, and
    # these programs. None by default: a job definition cannot run arbitrary code.
    job_task_modules: tuple[str, ...] = ()
    job_task_commands: tuple[str, ...] = ()
    # The first job worker also scores new traces with the scorers started in their
    # experiments, a pass this often (seconds; 0: none, run `heron scorers monitor` instead).
    scorer_monitor_s: float = 30.0

    @property
    def exposed_without_auth(self) -> bool:
        """Listening beyond localhost with nobody asked who they are."""
        return not self.auth and self.listen_host not in ("127.0.0.1", "localhost", "::1")

    @classmethod
    def for_home(cls, home: Path | None = None, **overrides: object) -> Settings:
        """Zero-configuration defaults: SQLite and local artifacts under the data directory."""
        home = home or heron_home()
        values: dict[str, object] = {
            "backend_store_uri": f"sqlite:///{home / 'heron.db'}",
            "artifacts_destination": str(home / "artifacts"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def artifact_roots(self) -> tuple[str, ...]:
        """Where experiments may keep artifacts: the default root and any the admin allowed."""
        return (self.default_artifact_root, *self.allowed_artifact_roots)
