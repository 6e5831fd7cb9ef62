"""The storage preflight: for each aws / s3-compatible storage of a policy, what Velero will find in its bucket.

A pure function of (policy, environment, options) apart from the S3 requests it sends; it returns reports and
never raises for a storage problem. Requests per storage: one listing of the prefix, HeadBucket (and
GetBucketLocation when HeadBucket does not say), a probe PUT and DELETE, two bucket-setting reads, one listing
of backups/ per 1,000 objects, and at most NEWEST_CANDIDATES small GETs.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from engine.errors import SnapplanError
from engine.spec.policy import Policy, Storage
from engine.storage.access import AccessProblem, open_client, resolve_access
from engine.storage.explain import Failure, Target, error_code, explain, wrong_region
from engine.spec.hygiene import tls_warning
from engine.storage.report import BackupsInBucket, Check, NewestBackup, Status, StorageReport
from engine.times import parse_time

S3_TYPES = ("aws", "s3-compatible")
VELERO_DIRS = ("backups", "restores", "restic", "kopia", "metadata", "plugins")  # Velero's ObjectStoreLayout
NEWEST_CANDIDATES = 20  # backups whose velero-backup.json is read to find the newest, by LastModified
SHOWN = 5  # names listed in a message before "(+N more)"
PROBE_BODY = b"written by snapplan storage check to test write access; safe to delete\n"


def check_storage(policy: Policy, env: Mapping[str, str], names: Iterable[str] | None = None,
                  write_probe: bool = True, cluster_backups: set[str] | None = None) -> list[StorageReport]:
    """One report per storage entry (all, or those named), sorted by name.

    cluster_backups: the names of the Backups the cluster has, to tell which in the bucket are new to it.
    """
    selected = _select(policy, names)
    if not selected:
        return []

    def one(storage: Storage) -> StorageReport:
        return check_one(storage, env, write_probe=write_probe, cluster_backups=cluster_backups)

    with ThreadPoolExecutor(max_workers=min(4, len(selected))) as pool:
        return list(pool.map(one, selected))


def _select(policy: Policy, names: Iterable[str] | None) -> list[Storage]:
    if names is None:
        return [policy.storage[n] for n in sorted(policy.storage)]
    wanted = list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in policy.storage]
    if unknown:
        known = ", ".join(sorted(policy.storage)) or "none are defined"
        raise SnapplanError(f"no storage named {', '.join(map(repr, unknown))} in the policy (known: {known})")
    return [policy.storage[n] for n in sorted(wanted)]


def check_one(storage: Storage, env: Mapping[str, str], *, write_probe: bool = True,
              cluster_backups: set[str] | None = None) -> StorageReport:
    if storage.type not in S3_TYPES:
        return StorageReport(storage.name, storage.type, (Check(
            "storage", Status.NOT_CHECKED, f"not checked: {storage.type} storage is checked by Velero"),),
            bucket=storage.bucket, prefix=storage.prefix)
    return _Run(storage, env, write_probe, cluster_backups).report()


class _Run:
    """The checks of one storage, in order; the first failure of a step that others need ends the run."""

    def __init__(self, storage: Storage, env: Mapping[str, str], write_probe: bool,
                 cluster_backups: set[str] | None):
        self.s = storage
        self.env = env
        self.write_probe = write_probe
        self.cluster_backups = cluster_backups
        self.checks: list[Check] = []
        self.backups: BackupsInBucket | None = None
        self.endpoint: str | None = storage.endpoint
        self.source: str | None = None
        self.checksum: str | None = None  # what the write probe sends, as Velero's uploads do
        self.t: Target | None = None  # set once a client exists
        self.verify: bool | str = True
        prefix = storage.prefix or ""
        self.root = prefix if not prefix or prefix.endswith("/") else prefix + "/"  # as Velero's layout does

    def add(self, name: str, status: Status, message: str) -> None:
        self.checks.append(Check(name, status, message))

    def report(self) -> StorageReport:
        try:
            self._run()
        except Failure as f:
            self.add(f.check, Status.FAILED, f.message)
        return StorageReport(self.s.name, self.s.type, tuple(self.checks), bucket=self.s.bucket,
                             prefix=self.s.prefix, endpoint=self.endpoint, region=self.s.region,
                             credentials=self.source, backups=self.backups)

    def _run(self) -> None:
        try:
            access = resolve_access(self.s, self.env)
            self.source, self.checksum = access.source, access.checksum
            client, self.source, key_id = open_client(access, self.env)
        except AccessProblem as exc:
            raise Failure(exc.check, str(exc)) from None
        self.endpoint = client.meta.endpoint_url
        self.verify = access.verify
        self.t = Target(self.s.type, self.s.bucket or "", self.root, self.endpoint, access.region, self.source,
                        key_id, str(self.s.ca_file) if self.s.ca_file else None)
        top = self._list_top(client)
        self._region(client, access.region)
        self._layout(top)
        try:  # the reads below do not need write access: report them too
            self._probe(client)
        except Failure as f:
            self.add(f.check, Status.FAILED, f.message)
        self._versioning(client)
        self._object_lock(client)
        try:
            self._backups(client)
        except Failure as f:
            raise Failure("backups", f.message) from None

    def _list_top(self, client) -> list[str]:
        """The prefix's top-level folders, listed as Velero validates a location (ListObjectsV2, '/')."""
        import botocore.exceptions

        folders: list[str] = []
        try:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.t.bucket, Prefix=self.root,
                                                                     Delimiter="/")
            for page in pages:
                folders.extend(p["Prefix"][len(self.root):].rstrip("/") for p in page.get("CommonPrefixes", []))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            failure = explain(exc, self.t, "list")
            passed = {"credentials": ["endpoint"], "bucket": ["endpoint", "credentials"],
                      "region": ["endpoint", "credentials", "bucket"]}.get(failure.check, [])
            for name in passed:
                self._passed(name)
            raise failure from None
        for name in ("endpoint", "credentials", "bucket"):
            self._passed(name)
        return folders

    def _passed(self, name: str) -> None:
        self.add(name, Status.OK, {"endpoint": f"{self.t.endpoint} answers",
                                   "credentials": f"accepted: {self.t.source}",
                                   "bucket": f"{self.t.bucket} exists"}[name])
        if name == "endpoint" and self.verify is False:
            self.add("tls", Status.WARNING, tls_warning(self.t.endpoint))

    def _region(self, client, configured: str) -> None:
        actual = bucket_region(client, self.t.bucket)
        if actual is None:
            self.add("region", Status.WARNING, f"not verified: the server did not tell the bucket's region to "
                                               f"these credentials; {configured} is assumed")
        elif actual == configured:
            self.add("region", Status.OK, actual)
        elif self.s.type == "aws":
            raise wrong_region(self.t, actual)
        else:  # the request was signed for `configured` and the server took it: that is what matters to Velero
            self.add("region", Status.INFO, f"the server reports {actual} for the bucket and accepts "
                                            f"requests signed for {configured}")

    def _layout(self, folders: list[str]) -> None:
        foreign = [f for f in folders if f not in VELERO_DIRS]
        where = self.t.url
        if not foreign:
            own = ", ".join(folders) if folders else "empty"
            self.add("layout", Status.OK, f"{where} holds only Velero's folders ({own})")
            return
        names = ", ".join(foreign)
        self.add("layout", Status.FAILED, f"{where} holds folders that are not Velero's: {names}. Velero marks the "
                                          f"location Unavailable with \"{velero_layout_error(foreign)}\": move them "
                                          "elsewhere or give this storage its own `prefix`")

    def _probe(self, client) -> None:
        import botocore.exceptions

        if not self.write_probe:
            self.add("write-probe", Status.SKIPPED, "skipped (--no-write-probe)")
            return
        if self.s.access_mode == "ReadOnly":
            self.add("write-probe", Status.SKIPPED, "skipped: accessMode ReadOnly, Velero will not write here")
            return
        # A file at the prefix's top, never a folder: Velero's layout check looks at folders only, so a probe
        # that cannot be deleted does not make the location Unavailable.
        key = f"{self.root}.snapplan-probe-{uuid.uuid4().hex[:12]}"
        errors = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
        try:
            extra = {"ChecksumAlgorithm": self.checksum} if self.checksum else {}
            version = client.put_object(Bucket=self.t.bucket, Key=key, Body=PROBE_BODY, **extra).get("VersionId")
        except errors as exc:
            raise Failure("write-probe", explain(exc, self.t, "put").message) from None
        note = ""
        try:
            if version and version != "null":
                try:  # leaves nothing behind, but needs s3:DeleteObjectVersion, which Velero does not
                    client.delete_object(Bucket=self.t.bucket, Key=key, VersionId=version)
                except botocore.exceptions.ClientError:
                    client.delete_object(Bucket=self.t.bucket, Key=key)
                    note = " (versioning keeps it as a noncurrent version until a lifecycle rule removes it)"
            else:
                client.delete_object(Bucket=self.t.bucket, Key=key)
        except errors as exc:
            raise Failure("write-probe", f"wrote {key} but could not delete it: "
                                         f"{explain(exc, self.t, 'delete').message}") from None
        self.add("write-probe", Status.OK, f"wrote and deleted {key}{note}")

    def _versioning(self, client) -> None:
        import botocore.exceptions

        try:
            status = client.get_bucket_versioning(Bucket=self.t.bucket).get("Status")
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            self.add("versioning", Status.INFO, f"unknown ({error_code(exc) or type(exc).__name__}; "
                                                "reading it needs s3:GetBucketVersioning)")
            return
        self.add("versioning", Status.INFO, {"Enabled": "enabled", "Suspended": "suspended"}.get(
            status or "", "off (never enabled)"))

    def _object_lock(self, client) -> None:
        import botocore.exceptions

        try:
            conf = client.get_object_lock_configuration(Bucket=self.t.bucket)["ObjectLockConfiguration"]
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            code = error_code(exc)
            if code == "ObjectLockConfigurationNotFoundError":
                self.add("object-lock", Status.INFO, "off")
            else:
                self.add("object-lock", Status.INFO, f"unknown ({code or type(exc).__name__}; reading it needs "
                                                     "s3:GetBucketObjectLockConfiguration)")
            return
        if conf.get("ObjectLockEnabled") != "Enabled":
            self.add("object-lock", Status.INFO, "off")
            return
        retention = (conf.get("Rule") or {}).get("DefaultRetention") or {}
        if retention:
            days = retention.get("Days") or (retention.get("Years", 0) * 365)
            text = f"on, default retention {retention.get('Mode', '?')} {days} day(s)"
        else:
            text = "on, no default retention"
        self.add("object-lock", Status.INFO, text)

    def _backups(self, client) -> None:
        self.backups = read_backups(client, self.t, self.root, self.cluster_backups)
        self.add("backups", Status.OK, describe_backups(self.backups))


def bucket_region(client, bucket: str) -> str | None:
    """The bucket's region as the server tells it (HeadBucket's header, else GetBucketLocation), or None."""
    import botocore.exceptions

    try:
        headers = client.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPHeaders"]
    except botocore.exceptions.ClientError as exc:
        headers = (exc.response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    except botocore.exceptions.BotoCoreError:
        headers = {}
    if headers.get("x-amz-bucket-region"):
        return headers["x-amz-bucket-region"]
    try:
        location = client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
        return None
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def velero_layout_error(invalid: list[str]) -> str:
    """Velero's own message for a prefix with foreign folders (pkg/persistence/object_store.go, IsValid)."""
    if len(invalid) > 3:
        return (f"Backup store contains {len(invalid)} invalid top-level directories: "
                f"[{' '.join(invalid[:3] + ['...'])}]")
    return f"Backup store contains invalid top-level directories: [{' '.join(invalid)}]"


def read_backups(client, t: Target, root: str, cluster_backups: set[str] | None) -> BackupsInBucket:
    """The backups under <root>backups/: a folder counts when it holds velero-backup.json, as Velero syncs."""
    import botocore.exceptions

    base = f"{root}backups/"
    written: dict[str, datetime] = {}
    folders: set[str] = set()
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=t.bucket, Prefix=base):
            for obj in page.get("Contents", []):
                name, _, rest = obj["Key"][len(base):].partition("/")
                if not name or not rest:
                    continue
                folders.add(name)
                if rest == "velero-backup.json":
                    written[name] = obj["LastModified"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise explain(exc, t, "list") from None
    unknown = None if cluster_backups is None else tuple(sorted(set(written) - set(cluster_backups)))
    return BackupsInBucket(count=len(written), newest=_newest(client, t, base, written),
                           unknown_to_cluster=unknown, without_metadata=tuple(sorted(folders - set(written))))


def _newest(client, t: Target, base: str, written: dict[str, datetime]) -> NewestBackup | None:
    """Among the most recently written velero-backup.json files, the backup that started last."""
    import botocore.exceptions

    candidates = sorted(written, key=lambda n: (written[n], n), reverse=True)[:NEWEST_CANDIDATES]
    best: tuple[datetime, str, NewestBackup] | None = None
    for name in candidates:
        try:
            body = client.get_object(Bucket=t.bucket, Key=f"{base}{name}/velero-backup.json")["Body"].read()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise explain(exc, t, "get") from None
        started, phase = _started(body)
        when = started or written[name].astimezone(timezone.utc)
        entry = NewestBackup(name, when.strftime("%Y-%m-%dT%H:%M:%SZ"), phase)
        if best is None or (when, name) > best[:2]:
            best = (when, name, entry)
    return best[2] if best else None


def _started(body: bytes) -> tuple[datetime | None, str | None]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(doc, dict):
        return None, None
    status = doc.get("status") if isinstance(doc.get("status"), dict) else {}
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    started = parse_time(status.get("startTimestamp")) or parse_time(meta.get("creationTimestamp"))
    return started, status.get("phase")


def describe_backups(b: BackupsInBucket) -> str:
    if b.count == 0:
        text = "none yet"
    else:
        newest = b.newest
        detail = ", ".join(x for x in (newest.time, newest.phase) if x) if newest else ""
        text = f"{b.count}, newest {newest.name} ({detail})" if newest else str(b.count)
    if b.unknown_to_cluster:
        text += (f"; {len(b.unknown_to_cluster)} not in the cluster yet ({_names(b.unknown_to_cluster)}): "
                 "Velero syncs them in once the location is Available")
    elif b.unknown_to_cluster is not None and b.count:
        text += "; the cluster has them all"
    if b.without_metadata:
        text += (f"; {len(b.without_metadata)} folder(s) without velero-backup.json, which Velero ignores "
                 f"({_names(b.without_metadata)})")
    return text


def _names(names: tuple[str, ...]) -> str:
    more = f" (+{len(names) - SHOWN} more)" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more

