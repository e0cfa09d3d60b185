"""Who is acting: signed tokens on /v1, a setting for the legacy GET routes.

A token is a JWT signed with HS256 by one of the keys of a directory (one file per key, the
file name is the key id, `kid` in the token's header): the Kubernetes Secret mounted as files,
or a directory the local stack generates. Every key of the directory verifies; the one named
by QUESTLINE_API_AUTH_SIGNING_KEY_ID signs, so a new key is first added (every pod verifies
it), then made the signing key, and the old one removed once its tokens have expired.

Claims: `sub` (the player id, or the name of a game server), `role` (`player`: may act only
for `sub`; `service`: a game server that sends on behalf of any player), `iat`, `exp`.

The keys are read once per worker when the app is created; a request costs a dict lookup and
one HMAC. A refusal answers 401 (no valid credential) or 403 (valid, but not for this player),
application/problem+json with a `reason`, and is counted by reason in
questline_api_auth_refusals_total. Nothing reaches Kafka: the checks run before publish().
"""

import argparse
import base64
import dataclasses
import hmac
import re
import secrets
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import jwt
import orjson
from flask import Blueprint, Flask, Response, g, request

from questline_api import metrics
from questline_api.problems import Problem
from questline_api.settings import AuthSettings, SettingsError

ALGORITHM = "HS256"
ROLES = ("player", "service")
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# HS256 wants a key at least as long as its hash (RFC 7518 3.2).
MIN_KEY_BYTES = 32
MIN_CLIENT_KEY_BYTES = 16
# Verified tokens one worker remembers (about 200 bytes each).
VERIFIED_CACHE_SIZE = 10_000
CLIENT_KEY_HEADER = "X-Questline-Client-Key"
_PLAYER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
_EXTENSION = "questline_api_auth"
# Public even with auth on: the contract, and the dev login itself.
_OPEN_ENDPOINTS = frozenset({"v1.openapi_document", "auth.dev_login"})


@dataclasses.dataclass(frozen=True)
class Principal:
    subject: str
    role: str


class Refusal(Problem):
    """A 401/403 problem that names why (the metric's label)."""

    def __init__(self, status: int, reason: str, detail: str):
        headers = {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'}
        super().__init__(status, detail, headers=headers if status == 401 else None, reason=reason)
        metrics.AUTH_REFUSALS.labels(reason).inc()


class Keyring:
    """The verification keys of a directory (prepared once) and the one that signs."""

    def __init__(self, keys: dict[str, bytes], signing_kid: str):
        self._keys = {
            kid: jwt.PyJWK({"kty": "oct", "k": _b64(secret), "alg": ALGORITHM}) for kid, secret in keys.items()
        }
        self._secrets = keys
        self.signing_kid = signing_kid
        # token -> (principal, exp): a client sends the same token with every request, and a full
        # PyJWT decode costs 0.3-1.4 ms of CPU here (a hit: under 1 us). Only verified tokens
        # enter; a hit still checks exp.
        self._verified: dict[str, tuple[Principal, float]] = {}

    @classmethod
    def from_dir(cls, directory: Path, signing_kid: str | None) -> "Keyring":
        where = f"QUESTLINE_API_AUTH_KEYS_DIR={str(directory)!r}"
        if not directory.is_dir():
            raise SettingsError(f"{where} is not a directory (expected one file per key, named by its key id)")
        keys = {}
        # Kubernetes mounts a Secret with hidden ..data links beside the files: skip dot names.
        for path in sorted(p for p in directory.iterdir() if not p.name.startswith(".") and p.is_file()):
            if not KEY_ID.fullmatch(path.name):
                raise SettingsError(f"{where}: {path.name!r} is not a key id (expected {KEY_ID.pattern})")
            secret = path.read_bytes().strip()
            if len(secret) < MIN_KEY_BYTES:
                raise SettingsError(
                    f"{where}: key {path.name!r} has {len(secret)} bytes (expected {MIN_KEY_BYTES} or more)"
                )
            keys[path.name] = secret
        if not keys:
            raise SettingsError(f"{where} holds no key (expected one file per key, named by its key id)")
        if signing_kid is None and len(keys) == 1:
            signing_kid = next(iter(keys))
        if signing_kid not in keys:
            raise SettingsError(
                f"QUESTLINE_API_AUTH_SIGNING_KEY_ID={signing_kid!r} is not one of the keys in {directory} "
                f"(expected one of {', '.join(keys)})"
            )
        return cls(keys, signing_kid)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def sign(self, subject: str, role: str, ttl: float, now: float | None = None) -> str:
        now = int(time.time() if now is None else now)
        claims = {"sub": subject, "role": role, "iat": now, "exp": now + int(ttl)}
        return jwt.encode(claims, self._secrets[self.signing_kid], ALGORITHM, headers={"kid": self.signing_kid})

    def verify(self, token: str, leeway: float = 0) -> Principal:
        hit = self._verified.get(token)
        if hit is not None and time.time() < hit[1] + leeway:
            return hit[0]
        principal, exp = self._decode(token, leeway)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()  # simpler than LRU; refills at one decode per client
        self._verified[token] = (principal, exp)
        return principal

    def _decode(self, token: str, leeway: float) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Refusal(401, "malformed", "The bearer token is not a JWT (header.payload.signature).") from None
        key = self._keys.get(header.get("kid")) if isinstance(header.get("kid"), str) else None
        if key is None:
            raise Refusal(401, "unknown-key", f"The token's key id {header.get('kid')!r} is not one this API accepts.")
        try:
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], leeway=leeway, options={"require": ["sub", "exp", "iat"]}
            )
        except jwt.ExpiredSignatureError:
            raise Refusal(401, "expired", "The token has expired; obtain a new one.") from None
        except jwt.InvalidSignatureError:
            raise Refusal(401, "bad-signature", "The token's signature does not verify.") from None
        except jwt.InvalidTokenError as exc:
            raise Refusal(401, "bad-claims", f"The token is not valid: {exc}.") from None
        if claims.get("role") not in ROLES or not isinstance(claims["sub"], str):
            raise Refusal(401, "bad-claims", f"The token's role must be one of {', '.join(ROLES)}.")
        return Principal(claims["sub"], claims["role"]), float(claims["exp"])


def _b64(secret: bytes) -> str:
    return base64.urlsafe_b64encode(secret).rstrip(b"=").decode()


def _bearer() -> str:
    value = request.headers.get("Authorization")
    if not value:
        raise Refusal(401, "missing", "This route needs an Authorization: Bearer <token> header.")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal(401, "malformed", "The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def _authenticate() -> None:
    if request.blueprint != "v1" or request.endpoint in _OPEN_ENDPOINTS:
        return
    auth = _state()
    principal = auth.keyring.verify(_bearer(), auth.leeway)
    g.questline_principal = principal
    player = (request.view_args or {}).get("player_id")
    if player is not None:
        authorize_players([player])


def authorize_players(player_ids: Iterable[str | None]) -> None:
    """Refuse (403) unless the request's credential may act for every one of `player_ids`.

    The v1 routes call it with the events' player ids just before publishing; without auth
    (no principal was set) it lets everything pass."""
    principal: Principal | None = g.get("questline_principal")
    if principal is None or principal.role == "service":
        return
    for index, player in enumerate(player_ids):
        if player != principal.subject:
            where = f"events[{index}]" if request.endpoint == "v1.post_event_batch" else "the request"
            raise Refusal(
                403,
                "wrong-player",
                f"{where} acts for player {player!r}, but the token belongs to player {principal.subject!r}.",
            )


def _guard_legacy() -> None:
    if request.blueprint != "legacy":
        return
    auth = _state()
    if auth.legacy == "off":
        raise Refusal(404, "legacy-off", "The legacy GET routes are turned off on this server; use /v1 with a token.")
    if auth.legacy == "client-key":
        given = request.headers.get(CLIENT_KEY_HEADER, "").encode()
        if not given:
            raise Refusal(401, "missing-client-key", f"The legacy routes need the {CLIENT_KEY_HEADER} header.")
        if not hmac.compare_digest(given, auth.client_key):
            raise Refusal(401, "bad-client-key", f"The {CLIENT_KEY_HEADER} header does not match.")


@dataclasses.dataclass(frozen=True)
class _AuthState:
    keyring: Keyring | None
    leeway: float
    token_ttl: float
    legacy: str
    client_key: bytes


def _state() -> _AuthState:
    from flask import current_app

    return current_app.extensions[_EXTENSION]


def init_app(app: Flask, settings: AuthSettings) -> None:
    """Read the keys once (this worker's) and hook the checks in front of the routes."""
    keyring = Keyring.from_dir(settings.keys_dir, settings.signing_key_id) if settings.enabled else None
    client_key = b""
    if settings.legacy == "client-key":
        where = f"QUESTLINE_API_LEGACY_CLIENT_KEY_FILE={str(settings.legacy_client_key_file)!r}"
        try:
            client_key = settings.legacy_client_key_file.read_bytes().strip()
        except OSError as exc:
            raise SettingsError(f"{where} cannot be read ({exc.strerror})") from None
        if len(client_key) < MIN_CLIENT_KEY_BYTES:
            raise SettingsError(f"{where} holds {len(client_key)} bytes (expected {MIN_CLIENT_KEY_BYTES} or more)")
    app.extensions[_EXTENSION] = _AuthState(keyring, settings.leeway, settings.token_ttl, settings.legacy, client_key)
    if keyring is not None:
        app.before_request(_authenticate)
    if settings.legacy != "open":
        app.before_request(_guard_legacy)
    if settings.dev_login:
        app.register_blueprint(bp)


# The dev login: a token for any player who asks, for the local stack, kind and /play only
# (QUESTLINE_API_AUTH_DEV_LOGIN; a real game signs its tokens in its login service).
bp = Blueprint("auth", __name__, url_prefix="/v1/dev")


@bp.post("/login")
def dev_login() -> Response:
    try:
        body = orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError:
        body = None
    player = body.get("player_id") if isinstance(body, dict) else None
    if not isinstance(player, str) or not _PLAYER_ID.fullmatch(player):
        raise Problem(
            422, "player_id: must be 1-64 letters, digits or _ . : @ -",
            errors=[{"field": "player_id", "reason": "must be 1-64 letters, digits or _ . : @ -"}],
        )  # fmt: skip
    auth = _state()
    token = auth.keyring.sign(player, "player", auth.token_ttl)
    return Response(
        f'{{"access_token":"{token}","token_type":"Bearer","expires_in":{int(auth.token_ttl)}}}',
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )


def new_key(directory: Path, kid: str) -> Path:
    """Write a new random key file (mode 0600); an existing one is kept."""
    if not KEY_ID.fullmatch(kid):
        raise SettingsError(f"key id {kid!r} is invalid (expected {KEY_ID.pattern})")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / kid
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """`python -m questline_api.auth token --service NAME`: a token from the API's own key settings
    (the helm test pod and the tools mint theirs so); `new-key DIR KID` makes a key file."""
    from questline_api import settings as settings_module

    parser = argparse.ArgumentParser(prog="python -m questline_api.auth")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a token signed with the signing key")
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--player")
    who.add_argument("--service")
    token.add_argument("--ttl", type=float, default=None, help="seconds (default QUESTLINE_API_AUTH_TTL)")
    key = commands.add_parser("new-key", help="write a random key file DIR/KID unless it exists")
    key.add_argument("directory", type=Path)
    key.add_argument("kid")
    args = parser.parse_args(argv)
    try:
        if args.command == "new-key":
            print(new_key(args.directory, args.kid))
            return 0
        settings = settings_module.load_auth()
        if settings.keys_dir is None:
            raise SettingsError("QUESTLINE_API_AUTH_KEYS_DIR is not set (expected the directory of the key files)")
        keyring = Keyring.from_dir(settings.keys_dir, settings.signing_key_id)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    ttl = args.ttl if args.ttl is not None else settings.token_ttl
    subject, role = (args.player, "player") if args.player else (args.service, "service")
    print(keyring.sign(subject, role, ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
