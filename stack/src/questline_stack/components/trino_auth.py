"""Trino's users, rules and certificate on the local stack (docs/security.md, "Trino").

Made at the first `up` into <state>/trino/auth and kept across restarts (`down --purge` removes
them with the rest of the state): a CA and a server certificate for 127.0.0.1 signed by it (the CA
key is thrown away once it has signed), a random password per user of TRINO_USERS (one file each,
mode 0600, what QUESTLINE_TRINO_PASSWORD_FILE names), the bcrypt password file Trino checks them
against, the shared secret of Trino's internal communication, and the access rules.
"""

import json
import secrets
import subprocess
import tempfile
from pathlib import Path

from questline_events import DATABASE, TRINO_PIPELINE_USER, TRINO_USERS
from questline_stack.settings import Settings

# Trino's password file takes bcrypt hashes marked $2y$ (the same algorithm as Python's $2b$) of
# cost 8 or more; 10 keeps a check near 60 ms, and Trino caches a checked password.
_BCRYPT_ROUNDS = 10
# The scratch databases of tests and benchmarks (questline_stack.scratch), which readers read too.
_SCRATCH_DATABASES = "questline_test_[a-z0-9_]+"


def _private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)


def bcrypt_line(user: str, password: str) -> str:
    import bcrypt

    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=_BCRYPT_ROUNDS)).decode()
    return f"{user}:$2y${hashed.removeprefix('$2b$')}"


def access_rules(catalog: str, readable: str, writable: str) -> dict:
    """The rules of Trino's file-based access control: every user reads the tables of the
    databases matching the regular expression `readable` and nothing else of `catalog` (other
    schemas are not even listed); only the pipeline writes, in the databases matching `writable`,
    and calls the catalog's procedures (system.register_partition, sync_partition_metadata...)."""
    pipeline = {"user": TRINO_PIPELINE_USER}
    return {
        "catalogs": [
            {**pipeline, "catalog": f"{catalog}|system", "allow": "all"},
            {"catalog": catalog, "allow": "read-only"},
            {"catalog": "system", "allow": "read-only"},
        ],
        "schemas": [
            {**pipeline, "catalog": catalog, "schema": writable, "owner": True},
        ],
        "tables": [
            {
                **pipeline,
                "catalog": catalog,
                "schema": writable,
                "privileges": ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP"],
            },
            {"catalog": catalog, "schema": readable, "privileges": ["SELECT"]},
            {"catalog": "system", "privileges": ["SELECT"]},
        ],
        "procedures": [
            {**pipeline, "catalog": catalog, "schema": "system", "procedure": ".*", "privileges": ["EXECUTE"]},
        ],
    }


class TrinoAuth:
    def __init__(self, settings: Settings):
        self.s = settings
        self.dir = settings.trino_auth_dir

    @property
    def server_pem(self) -> Path:
        """The server's key and certificate chain: Trino's PEM keystore."""
        return self.dir / "server.pem"

    @property
    def password_db(self) -> Path:
        return self.dir / "password.db"

    @property
    def rules(self) -> Path:
        return self.dir / "rules.json"

    @property
    def shared_secret_file(self) -> Path:
        return self.dir / "shared-secret"

    def shared_secret(self) -> str:
        return self.shared_secret_file.read_text().strip()

    def ensure(self) -> None:
        """Make whatever is missing; rewrite the password file and the rules from what is there."""
        if not (self.server_pem.is_file() and self.s.trino_ca_file.is_file()):
            self._make_certificates()
        if not self.shared_secret_file.is_file():
            _private(self.shared_secret_file, secrets.token_urlsafe(48) + "\n")
        lines = []
        for user in TRINO_USERS:
            password_file = self.s.trino_password_file(user)
            if not password_file.is_file():
                _private(password_file, secrets.token_urlsafe(24) + "\n")
            lines.append(bcrypt_line(user, password_file.read_text().strip()))
        _private(self.password_db, "\n".join(lines) + "\n")
        # Tests and benchmarks make databases of their own (scratch ones, the stack check's), so
        # the pipeline may create any database here; the chart's rules name the release's only.
        rules = access_rules(self.s.trino_catalog, readable=f"{DATABASE}|{_SCRATCH_DATABASES}", writable=".*")
        self.rules.write_text(json.dumps(rules, indent=2) + "\n")

    def _make_certificates(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        host = self.s.host
        names = f"IP:{host},IP:127.0.0.1,DNS:localhost" if host != "127.0.0.1" else "IP:127.0.0.1,DNS:localhost"
        with tempfile.TemporaryDirectory(dir=self.dir) as tmp:
            t = Path(tmp)
            extensions = t / "server.ext"
            extensions.write_text(
                f"subjectAltName={names}\nbasicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
            )
            _openssl(
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                "-subj", "/CN=questline local stack CA", "-keyout", t / "ca.key", "-out", t / "ca.pem",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            )  # fmt: skip
            _openssl(
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=questline-trino",
                "-keyout", t / "server.key", "-out", t / "server.csr",
            )  # fmt: skip
            _openssl(
                "x509", "-req", "-in", t / "server.csr", "-CA", t / "ca.pem", "-CAkey", t / "ca.key",
                "-CAcreateserial", "-days", "825", "-extfile", extensions, "-out", t / "server.crt",
            )  # fmt: skip
            _private(self.server_pem, "".join((t / n).read_text() for n in ("server.key", "server.crt", "ca.pem")))
            self.s.trino_ca_file.write_text((t / "ca.pem").read_text())


def _openssl(*args) -> None:
    result = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr.strip()}")
