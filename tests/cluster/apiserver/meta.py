"""ObjectMeta rules every kind shares: known fields, name and label validation, and kube's time formats."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from .errors import OMIT, FieldError

OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
    "ownerReferences", "finalizers", "managedFields",
})
SERVER_FIELDS = ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds")

_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + r"(\." + _DNS1123_LABEL + ")*"
_LABEL_RE = re.compile(_DNS1123_LABEL + r"\Z")
_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN + r"\Z")
_QNAME_PART = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_RE = re.compile(_QNAME_PART + r"\Z")
_LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                 "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
                 f"for validation is '{_DNS1123_SUBDOMAIN}')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             f"validation is '{_DNS1123_LABEL}')")
_QNAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
              "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
              f"validation is '{_QNAME_PART}')")
_LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                    "'my_value',  or '12345', regex used for validation is "
                    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def name_errors(name: str, *, label: bool = False) -> list[str]:
    """Why `name` is not a DNS-1123 subdomain (or label); empty when it is valid."""
    limit = 63 if label else 253
    problems = []
    if len(name) > limit:
        problems.append(f"must be no more than {limit} characters")
    if not (_LABEL_RE if label else _SUBDOMAIN_RE).match(name):
        problems.append(LABEL_MSG if label else SUBDOMAIN_MSG)
    return problems


def _qualified_name_errors(key: str) -> list[str]:
    prefix, _, name = key.rpartition("/")
    problems = []
    if "/" in key and (not prefix or name_errors(prefix)):
        problems.append("prefix part " + SUBDOMAIN_MSG)
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    elif not _QNAME_RE.match(name):
        problems.append(_QNAME_MSG)
    return problems


def validate_meta(meta: dict, *, label_name: bool) -> list[FieldError]:
    """ObjectMeta validation shared by all kinds (name, labels, annotations, finalizers)."""
    errors: list[FieldError] = []
    name = meta.get("name", "")
    if not name:
        errors.append(FieldError("Required", "metadata.name", detail="name or generateName is required"))
    else:
        errors += [FieldError("Invalid", "metadata.name", name, p) for p in name_errors(name, label=label_name)]
    for key, value in (meta.get("labels") or {}).items():
        errors += [FieldError("Invalid", "metadata.labels", key, p) for p in _qualified_name_errors(key)]
        if not isinstance(value, str):
            continue
        if len(value) > 63:
            errors.append(FieldError("Invalid", "metadata.labels", value, "must be no more than 63 characters"))
        elif not _LABEL_VALUE_RE.match(value):
            errors.append(FieldError("Invalid", "metadata.labels", value, _LABEL_VALUE_MSG))
    for key in meta.get("annotations") or {}:
        errors += [FieldError("Invalid", "metadata.annotations", key, p) for p in _qualified_name_errors(key)]
    total = sum(len(k) + len(v) for k, v in (meta.get("annotations") or {}).items() if isinstance(v, str))
    if total > 256 * 1024:
        errors.append(FieldError("Invalid", "metadata.annotations", OMIT, "must have at most 262144 bytes"))
    return errors


def format_time(t: datetime) -> str:
    """metav1.Time on the wire: RFC 3339, seconds, UTC."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(t: datetime) -> str:
    """metav1.MicroTime on the wire: RFC 3339 with exactly six fractional digits, UTC."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_MICRO_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"
_HEAD = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})")
_ZONE = re.compile(r"(Z|[+-]\d{2}:\d{2})")


def parse_micro_time(value: str) -> datetime:
    """Parse as Go's time.Parse(RFC3339Micro) does; raise ValueError with Go's message otherwise."""
    def fail(rest: str, elem: str) -> ValueError:
        return ValueError(f'parsing time "{value}" as "{_MICRO_LAYOUT}": cannot parse "{rest}" as "{elem}"')

    head = _HEAD.match(value)
    if not head:
        raise fail(value, "2006")
    rest = value[head.end():]
    if len(rest) < 7 or rest[0] != "." or not rest[1:7].isdigit():
        raise fail(rest, ".000000")
    micro, rest = int(rest[1:7]), rest[7:]
    zone = _ZONE.fullmatch(rest)
    if not zone:
        raise fail(rest, "Z07:00")
    y, mo, d, h, mi, s = (int(g) for g in head.groups())
    offset = 0 if rest == "Z" else (1 if rest[0] == "+" else -1) * (int(rest[1:3]) * 60 + int(rest[4:6]))
    try:
        tz = timezone(timedelta(minutes=offset))
        return datetime(y, mo, d, h, mi, s, micro, tzinfo=tz)
    except ValueError:
        raise ValueError(f'parsing time "{value}": day out of range') from None


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")


def parse_time(value: str) -> datetime:
    """Parse a metav1.Time (RFC 3339); raise ValueError otherwise."""
    if not _RFC3339.match(value):
        raise ValueError(f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse')
    return datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00").replace(" ", "T"))


def is_rfc3339(value: str) -> bool:
    return bool(_RFC3339.match(value))
