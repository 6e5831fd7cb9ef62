"""Decode the Kubernetes protobuf request bodies kubectl sends for built-ins (`kubectl create namespace`,
`create secret`, `create configmap`, `create deployment`) into JSON-shaped dicts.

Only the messages and fields those commands write are known; anything else is refused with a 415 that
says so. Answers stay JSON (kubectl accepts `application/vnd.kubernetes.protobuf,application/json`).
"""
from __future__ import annotations

import base64

from .errors import ApiError

MAGIC = b"k8s\x00"
S, B, I, BOOL = "string", "bytes", "int", "bool"
SKIP = ("skip",)

# message -> {field number: (json name, kind[, message])}; kinds: scalars above, "msg", "rmsg" (repeated
# message), "rstring", "map:<value kind or message>". Field numbers from the k8s generated.proto files.
_IOS = {1: ("type", I), 2: ("intVal", I), 3: ("strVal", S)}
MESSAGES: dict[str, dict[int, tuple]] = {
    "Unknown": {1: ("typeMeta", "msg", "TypeMeta"), 2: ("raw", B), 3: ("contentEncoding", S),
                4: ("contentType", S)},
    "TypeMeta": {1: ("apiVersion", S), 2: ("kind", S)},
    "ObjectMeta": {1: ("name", S), 2: ("generateName", S), 3: ("namespace", S), 4: ("selfLink", S),
                   5: ("uid", S), 6: ("resourceVersion", S), 7: ("generation", I),
                   8: ("creationTimestamp", *SKIP), 9: ("deletionTimestamp", *SKIP),
                   10: ("deletionGracePeriodSeconds", I), 11: ("labels", "map:string"),
                   12: ("annotations", "map:string"), 13: ("ownerReferences", "rmsg", "OwnerReference"),
                   14: ("finalizers", "rstring"), 17: ("managedFields", *SKIP)},
    "OwnerReference": {1: ("kind", S), 3: ("name", S), 4: ("uid", S), 5: ("apiVersion", S),
                       6: ("controller", BOOL), 7: ("blockOwnerDeletion", BOOL)},
    "Namespace": {1: ("metadata", "msg", "ObjectMeta"), 2: ("spec", "msg", "NamespaceSpec"), 3: ("status", *SKIP)},
    "NamespaceSpec": {1: ("finalizers", "rstring")},
    "Secret": {1: ("metadata", "msg", "ObjectMeta"), 2: ("data", "map:bytes"), 3: ("type", S),
               4: ("stringData", "map:string"), 5: ("immutable", BOOL)},
    "ConfigMap": {1: ("metadata", "msg", "ObjectMeta"), 2: ("data", "map:string"), 3: ("binaryData", "map:bytes"),
                  4: ("immutable", BOOL)},
    "Deployment": {1: ("metadata", "msg", "ObjectMeta"), 2: ("spec", "msg", "DeploymentSpec"), 3: ("status", *SKIP)},
    "DeploymentSpec": {1: ("replicas", I), 2: ("selector", "msg", "LabelSelector"),
                       3: ("template", "msg", "PodTemplateSpec"), 4: ("strategy", "msg", "DeploymentStrategy"),
                       5: ("minReadySeconds", I), 6: ("revisionHistoryLimit", I), 7: ("paused", BOOL),
                       9: ("progressDeadlineSeconds", I)},
    "DeploymentStrategy": {1: ("type", S), 2: ("rollingUpdate", "msg", "RollingUpdateDeployment")},
    "RollingUpdateDeployment": {1: ("maxUnavailable", "msg", "IntOrString"), 2: ("maxSurge", "msg", "IntOrString")},
    "IntOrString": _IOS,
    "LabelSelector": {1: ("matchLabels", "map:string"), 2: ("matchExpressions", "rmsg", "LabelSelectorRequirement")},
    "LabelSelectorRequirement": {1: ("key", S), 2: ("operator", S), 3: ("values", "rstring")},
    "PodTemplateSpec": {1: ("metadata", "msg", "ObjectMeta"), 2: ("spec", "msg", "PodSpec")},
    "PodSpec": {2: ("containers", "rmsg", "Container"), 3: ("restartPolicy", S),
                4: ("terminationGracePeriodSeconds", I), 6: ("dnsPolicy", S), 7: ("nodeSelector", "map:string"),
                8: ("serviceAccountName", S), 9: ("serviceAccount", S), 10: ("nodeName", S),
                11: ("hostNetwork", BOOL), 12: ("hostPID", BOOL), 13: ("hostIPC", BOOL), 16: ("hostname", S),
                17: ("subdomain", S), 19: ("schedulerName", S), 20: ("initContainers", "rmsg", "Container"),
                24: ("priorityClassName", S)},
    "Container": {1: ("name", S), 2: ("image", S), 3: ("command", "rstring"), 4: ("args", "rstring"),
                  5: ("workingDir", S), 6: ("ports", "rmsg", "ContainerPort"), 7: ("env", "rmsg", "EnvVar"),
                  8: ("resources", "msg", "ResourceRequirements"), 13: ("terminationMessagePath", S),
                  14: ("imagePullPolicy", S), 16: ("stdin", BOOL), 17: ("stdinOnce", BOOL), 18: ("tty", BOOL),
                  20: ("terminationMessagePolicy", S)},
    "ContainerPort": {1: ("name", S), 2: ("hostPort", I), 3: ("containerPort", I), 4: ("protocol", S),
                      5: ("hostIP", S)},
    "EnvVar": {1: ("name", S), 2: ("value", S)},
    "ResourceRequirements": {1: ("limits", "map:Quantity"), 2: ("requests", "map:Quantity")},
    "Quantity": {1: ("string", S)},
}
_POINTERS = {"replicas", "revisionHistoryLimit", "progressDeadlineSeconds", "immutable"}


def _unsupported(what: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", f"the test API server cannot decode {what} from protobuf; "
                    "send application/json (e.g. kubectl apply -f)")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes):
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = int.from_bytes(data[pos:pos + size], "little"), pos + size
        else:
            raise _unsupported(f"wire type {wire}")
        yield number, value


def _scalar(kind: str, value):
    if kind == S:
        return value.decode()
    if kind == B:
        return base64.b64encode(value).decode()
    if kind == BOOL:
        return bool(value)
    return value - (1 << 64) if value >= 1 << 63 else value


def _decode(data: bytes, message: str) -> dict:
    table = MESSAGES[message]
    out: dict = {}
    for number, value in _fields(data):
        if number not in table:
            raise _unsupported(f"field {number} of {message}")
        name, kind, *sub = table[number]
        if kind == "skip":
            continue
        if kind == "msg":
            out[name] = _decode(value, sub[0])
        elif kind == "rmsg":
            out.setdefault(name, []).append(_decode(value, sub[0]))
        elif kind == "rstring":
            out.setdefault(name, []).append(value.decode())
        elif kind.startswith("map:"):
            entry = dict(_fields(value))
            target = kind[4:]
            raw = entry.get(2, b"")
            item = (_decode(raw, "Quantity").get("string", "") if target == "Quantity"
                    else _scalar(S if target == "string" else B, raw))
            out.setdefault(name, {})[entry.get(1, b"").decode()] = item
        else:
            scalar = _scalar(kind, value)
            if scalar or name in _POINTERS:  # Go omits empty non-pointer fields in JSON
                out[name] = scalar
    if message == "IntOrString":
        return out.get("strVal", "") if out.get("type") == 1 else out.get("intVal", 0)  # type: ignore[return-value]
    return out


def decode(body: bytes, kind: str) -> dict:
    """A protobuf-encoded object (`k8s\\0` + runtime.Unknown) as the dict its JSON form would be."""
    if not body.startswith(MAGIC):
        raise ApiError(400, "BadRequest", "provided object is not protobuf-encoded (missing k8s\\0 prefix)")
    envelope = _decode(body[len(MAGIC):], "Unknown")
    type_meta = envelope.get("typeMeta", {})
    found = type_meta.get("kind", kind)
    if found not in MESSAGES or found != kind:
        raise _unsupported(f"kind {found}")
    obj = _decode(base64.b64decode(envelope.get("raw", "")), found)
    return {"apiVersion": type_meta.get("apiVersion", ""), "kind": found, **obj}
