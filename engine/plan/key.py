"""The saved-plan key: a secret kept outside every plan file, which signs saved plans (HMAC-SHA256) and keys
the digests of credentials and objects they record, so a plan file can be neither edited nor mined.

Where it comes from: the environment variable SNAPPLAN_PLAN_KEY (CI: a masked secret shared by the plan
and apply jobs), else the file $XDG_CONFIG_HOME/snapplan/plan.key (~/.config/snapplan/plan.key), made with
32 random bytes and mode 0600 by the first `plan --out`. A key file that others may read is refused.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from engine.errors import SnapplanError

ENV_VAR = "SNAPPLAN_PLAN_KEY"
MIN_KEY_CHARS = 16


class PlanKeyError(SnapplanError):
    """The saved-plan key is missing, too weak, or readable by others."""


def key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "snapplan" / "plan.key"


def load_key(*, create: bool) -> tuple[bytes, str]:
    """(key bytes, where it came from). `create`: make the key file when there is none (plan --out)."""
    value = os.environ.get(ENV_VAR)
    if value is not None:
        if len(value.strip()) < MIN_KEY_CHARS:
            raise PlanKeyError(f"{ENV_VAR} is shorter than {MIN_KEY_CHARS} characters; "
                               "set it to a long random value (e.g. the output of `openssl rand -hex 32`)")
        return value.strip().encode(), f"the environment variable {ENV_VAR}"
    path = key_path()
    if create and not path.exists():
        _create(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise PlanKeyError(
            f"there is no saved-plan key here ({path}, or the environment variable {ENV_VAR}): saved plans are "
            "signed with the key of the machine (or CI secret) that made them. Apply where the plan was made, "
            f"set {ENV_VAR} to the key it was made with, or make a new plan here") from None
    except OSError as exc:
        raise PlanKeyError(f"cannot read the saved-plan key {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if st.st_mode & 0o077 or st.st_uid != os.geteuid():
            raise PlanKeyError(f"the saved-plan key {path} may be read or changed by others (mode "
                               f"{st.st_mode & 0o777:04o}, owner uid {st.st_uid}): make it yours with mode 0600 "
                               f"(chmod 600 {path}), or delete it and make the plan again")
        data = fh.read(4096).strip()
    if len(data) < MIN_KEY_CHARS:
        raise PlanKeyError(f"the saved-plan key {path} is shorter than {MIN_KEY_CHARS} characters: delete it and "
                           "make the plan again (a new key is made)")
    return data, str(path)


def _create(path: Path) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another plan made it first: use that one
    except OSError as exc:
        raise PlanKeyError(f"cannot create the saved-plan key {path}: {exc.strerror or exc}; "
                           f"set {ENV_VAR} instead") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


@dataclass(frozen=True)
class Signer:
    """Keyed digests and the plan's signature. Subkeys are derived per use, so the same key never signs a
    plan and digests a credential with the same bytes."""

    key: bytes
    salt: str  # random per plan, recorded in it: the same credential digests differently in every plan

    def _sub(self, purpose: str) -> bytes:
        return hmac.new(self.key, purpose.encode(), hashlib.sha256).digest()

    @property
    def key_id(self) -> str:
        return self._sub("snapplan key id").hex()[:16]

    def digest(self, data: bytes) -> str:
        """A keyed, salted digest: tells a change of `data`, and without the key says nothing about it."""
        mac = hmac.new(self._sub("snapplan digest"), self.salt.encode() + b"\0" + data, hashlib.sha256)
        return "hmac-sha256:" + mac.hexdigest()

    def sign(self, doc: dict) -> str:
        body = json.dumps({k: v for k, v in doc.items() if k != "mac"}, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=True)
        return "hmac-sha256:" + hmac.new(self._sub("snapplan saved plan"), body.encode(), hashlib.sha256).hexdigest()

    def verify(self, doc: dict) -> bool:
        mac = doc.get("mac")
        return isinstance(mac, str) and hmac.compare_digest(mac, self.sign(doc))


def new_salt() -> str:
    return secrets.token_hex(16)
