"""Names that must look like what they are, and settings that weaken security: checks on a policy's values.

Invisible and control characters (U+200B zero-width space, U+202E right-to-left override, ESC, ...) are refused
in the names that reach a bucket or a terminal: `velero\u200b` looks like `velero` to a reviewer and is another
bucket. `insecureSkipTLSVerify` is allowed, as Velero allows it, with a warning wherever the policy is shown.
"""
from __future__ import annotations

import unicodedata

from engine.errors import Diagnostics, clip
from engine.spec.policy import Policy
from engine.spec.source import Document

NAME_FIELDS = ("bucket", "region", "prefix", "endpoint")
GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")  # what Go's strconv.ParseBool reads as true


def skips_tls_verify(config) -> bool:
    """Whether Velero's aws plugin turns certificate checks off: velero-plugin-for-aws object_store.go Init()
    parses config["insecureSkipTLSVerify"] with strconv.ParseBool."""
    return str(dict(config).get("insecureSkipTLSVerify", "")) in GO_TRUE


def tls_warning(endpoint: str) -> str:
    """What `insecureSkipTLSVerify` costs, said by validate, plan, apply and storage check alike."""
    return (f"TLS certificates of {endpoint} are not verified (insecureSkipTLSVerify), neither by snapplan nor by "
            "Velero: anyone on the network path can pose as the server, read and change the backups and take "
            "the credentials; set `caFile` to the CA that signed the server's certificate instead")


def hidden_character(text: str) -> str | None:
    """The first character of `text` a reader cannot see as itself, described, or None."""
    for i, c in enumerate(text):
        if not c.isprintable():
            name = unicodedata.name(c, "a control character")
            return f"U+{ord(c):04X} ({name}) at character {i + 1}"
    return None


def check_hygiene(policy: Policy, doc: Document, diags: Diagnostics) -> None:
    for kind, entries in (("storage", policy.storage), ("snapshotLocations", policy.snapshot_locations)):
        for name in entries:
            p = (kind, name)
            raw = doc.data[kind][name]
            for field in NAME_FIELDS:
                value = raw.get(field)
                found = hidden_character(value) if isinstance(value, str) else None
                if found:
                    diags.error(f"{field} {clip(value)} holds {found}: an invisible or control character makes a "
                                "name that looks like another one, or reorders what a terminal shows; retype it",
                                f"{kind}.{name}.{field}", doc.where(p + (field,)))
    for name, s in policy.storage.items():
        if skips_tls_verify(s.config):
            path = ("storage", name, "config", "insecureSkipTLSVerify")
            diags.warning(tls_warning(s.endpoint or "the storage's endpoint"), ".".join(path), doc.where(path))
