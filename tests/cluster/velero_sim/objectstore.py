"""A BackupStorageLocation's bucket, reached the way Velero's aws plugin reaches it: the location's own
config (bucket, prefix, s3Url, region, s3ForcePathStyle, profile) and the credentials file from the
Secret it names. Failures become StorageError with the text Velero would report (a gRPC-wrapped
aws-sdk-go-v2 error), so status messages and failure reasons read like a real cluster's."""
from __future__ import annotations

import configparser
import json
import threading
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote

import boto3
import botocore.config
import botocore.exceptions

# The aws plugin's Init accepts these keys (plus bucket, prefix, caCert added by Velero).
VALID_CONFIG_KEYS = (
    "region", "s3Url", "publicUrl", "kmsKeyId", "customerKeyEncryptionFile", "customerKeyEncryptionSecret",
    "s3ForcePathStyle", "signatureVersion", "credentialsFile", "profile", "serverSideEncryption",
    "insecureSkipTLSVerify", "enableSharedConfig", "tagging", "checksumAlgorithm",
)
AWS_PROVIDERS = ("aws", "velero.io/aws")
CHECKSUM_ALGORITHMS = ("", "CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME")  # aws-sdk-go-v2 s3 types
# Top-level directories Velero allows under a location's prefix (pkg/persistence/object_store_layout.go).
VALID_SUBDIRS = ("backups", "restores", "restic", "metadata", "plugins", "kopia")
# Errors the SDK has a type for print "Code: message"; the others "api error Code: message".
_MODELED = {"ListObjectsV2": {"NoSuchBucket"}, "GetObject": {"NoSuchKey", "InvalidObjectState"},
            "HeadObject": {"NotFound"}}
RPC = "rpc error: code = Unknown desc = "
_GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
             "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


class StorageError(Exception):
    """A failure talking to a location's bucket; str() is Velero's wording."""


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class StoreConfig:
    """Everything needed to reach one location's bucket, resolved from the BSL and its Secret."""

    bucket: str
    prefix: str
    endpoint: str
    region: str
    path_style: bool
    keys: Keys | None
    custom_endpoint: bool  # config.s3Url was set (not AWS): the plugin then needs an explicit region

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)


SecretReader = Callable[[str, str], bytes]  # (secret name, key) -> data; raises StorageError


def parse_credentials_file(text: str, profile: str) -> Keys:
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        raise StorageError(f"{RPC}failed to get shared config profile, {profile}") from None
    if not parser.has_section(profile):
        raise StorageError(f"{RPC}failed to get shared config profile, {profile}")
    section = parser[profile]
    key_id = section.get("aws_access_key_id", "").strip()
    secret = section.get("aws_secret_access_key", "").strip()
    if not key_id or not secret:
        raise StorageError(f"{RPC}failed to get shared config profile, {profile}")
    return Keys(key_id, secret)


def resolve_config(
    bsl: dict, read_secret: SecretReader, default_credentials: tuple[str, str] | None, aws_endpoint: str | None
) -> StoreConfig:
    """BSL spec -> StoreConfig, or StorageError for what Velero or the plugin reject before any request.
    The checks run in Velero's order: the location, its Secret, the plugin, then the plugin's Init."""
    spec = bsl.get("spec") or {}
    provider = spec.get("provider", "")
    if "objectStorage" not in spec:
        raise StorageError("backup storage location does not use object storage")
    if not provider:
        raise StorageError("object storage provider name must not be empty")
    raw_bucket = (spec["objectStorage"] or {}).get("bucket", "")
    bucket = raw_bucket.strip("/")
    prefix = ((spec["objectStorage"] or {}).get("prefix") or "").strip("/")
    if "/" in bucket:
        raise StorageError(
            f"backup storage location's bucket name \"{raw_bucket}\" must not contain a '/' "
            "(if using a prefix, put it in the 'Prefix' field instead)"
        )
    credential = spec.get("credential")
    credentials_file: bytes | None = None
    if credential:
        credentials_file = read_secret(credential["name"], credential["key"])
    elif default_credentials is not None:
        # The velero pod's AWS_SHARED_CREDENTIALS_FILE (Secret cloud-credentials, key cloud).
        try:
            credentials_file = read_secret(*default_credentials)
        except StorageError:
            credentials_file = None
    # pkg/plugin/clientmgmt/manager.go sanitizeName: a name without "/" is velero.io/<name>; only aws is here
    if provider not in AWS_PROVIDERS:
        name = provider if "/" in provider else f"velero.io/{provider}"
        raise StorageError(f"unable to locate ObjectStore plugin named {name}")
    config = dict(spec.get("config") or {})
    invalid = sorted(k for k in config if k not in VALID_CONFIG_KEYS)
    if invalid:
        valid = " ".join((*VALID_CONFIG_KEYS, "bucket", "prefix", "caCert"))
        raise StorageError(f"{RPC}config has invalid keys [{' '.join(invalid)}]; valid keys are [{valid}]")
    path_style = False
    path_style_text = str(config.get("s3ForcePathStyle", "")).strip()
    if path_style_text:
        if path_style_text not in _GO_BOOLS:
            raise StorageError(
                f"{RPC}could not parse s3ForcePathStyle (expected bool): strconv.ParseBool: "
                f'parsing "{path_style_text}": invalid syntax'
            )
        path_style = _GO_BOOLS[path_style_text]
    # velero-plugin-for-aws object_store.go Init: insecureSkipTLSVerify through strconv.ParseBool, then
    # checksumAlgorithm (validChecksumAlg: "" or one of the SDK's ChecksumAlgorithm values; CRC32 when absent).
    insecure = str(config.get("insecureSkipTLSVerify", ""))
    if insecure and insecure not in _GO_BOOLS:
        raise StorageError(
            f"{RPC}could not parse insecureSkipTLSVerify (expected bool): strconv.ParseBool: "
            f'parsing "{insecure}": invalid syntax'
        )
    if "checksumAlgorithm" in config and config["checksumAlgorithm"] not in CHECKSUM_ALGORITHMS:
        raise StorageError(f"{RPC}invalid checksum algorithm: {config['checksumAlgorithm']}")
    profile = config.get("profile") or "default"
    keys = None
    if credentials_file is not None:
        keys = parse_credentials_file(credentials_file.decode(errors="replace"), profile)
    s3_url = config.get("s3Url", "")
    endpoint = s3_url or aws_endpoint
    if not endpoint:
        raise StorageError(f"{RPC}the simulator has no S3 endpoint standing in for AWS (set config.s3Url)")
    return StoreConfig(bucket, prefix, endpoint.rstrip("/"), config.get("region", ""), path_style, keys, bool(s3_url))


class Clients:
    """boto3 clients keyed by how they reach S3 (making one costs tens of milliseconds)."""

    def __init__(self) -> None:
        self._session = boto3.session.Session()
        self._cache: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def get(self, endpoint: str, region: str, path_style: bool, keys: Keys) -> Any:
        ident = (endpoint, region, path_style, keys)
        with self._lock:
            if ident not in self._cache:
                config = botocore.config.Config(
                    s3={"addressing_style": "path" if path_style else "auto"},
                    signature_version="s3v4",  # aws-sdk-go-v2 signs (and presigns) with SigV4 only
                    retries={"total_max_attempts": 1},
                    connect_timeout=2,
                    read_timeout=10,
                )
                self._cache[ident] = self._session.client(
                    "s3",
                    endpoint_url=endpoint,
                    region_name=region or "us-east-1",
                    aws_access_key_id=keys.access_key_id,
                    aws_secret_access_key=keys.secret_access_key,
                    config=config,
                )
            return self._cache[ident]


class BackupStore:
    """Velero's objectBackupStore over one bucket and prefix."""

    def __init__(self, config: StoreConfig, clients: Clients) -> None:
        self.config = config
        self._clients = clients
        self._client: Any = None

    # -- plumbing ------------------------------------------------------------------------------
    def _s3(self, op: str) -> Any:
        if self._client is not None:
            return self._client
        cfg = self.config
        if cfg.keys is None:
            raise StorageError(
                f"{RPC}operation error S3: {op}, get identity: get credentials: failed to refresh cached "
                "credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, "
                "request canceled, context deadline exceeded"
            )
        region = cfg.region
        if not region:
            if cfg.custom_endpoint:
                raise StorageError(
                    f"{RPC}operation error S3: {op}, resolve auth scheme: resolve endpoint: endpoint rule "
                    "error, Invalid region: region was not a valid DNS name."
                )
            region = self._bucket_region()
        self._client = self._clients.get(cfg.endpoint, region, cfg.path_style, cfg.keys)
        return self._client

    def _bucket_region(self) -> str:
        # The plugin asks AWS for the bucket's region when neither s3Url nor region is set.
        client = self._clients.get(self.config.endpoint, "us-east-1", self.config.path_style, self.config.keys)
        try:
            head = client.head_bucket(Bucket=self.config.bucket)
        except botocore.exceptions.ClientError as err:
            if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise StorageError(f"{RPC}bucket not found") from None
            region = err.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
            if region:
                return region
            raise self._wrap("HeadBucket", err, "") from None
        except botocore.exceptions.BotoCoreError as err:
            raise self._wrap("HeadBucket", err, f"{self.config.endpoint}/{self.config.bucket}") from None
        return head["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region") or "us-east-1"

    def _url(self, key: str = "", query: str = "") -> str:
        url = f"{self.config.endpoint}/{self.config.bucket}"
        if key:
            url += "/" + quote(key)
        return url + (f"?{query}" if query else "")

    def _wrap(self, op: str, err: Exception, url: str) -> StorageError:
        if isinstance(err, botocore.exceptions.ClientError):
            meta = err.response.get("ResponseMetadata", {})
            code = err.response.get("Error", {}).get("Code", "")
            message = err.response.get("Error", {}).get("Message", "")
            status = meta.get("HTTPStatusCode", 0)
            detail = f"{code}: {message}" if code in _MODELED.get(op, ()) else f"api error {code}: {message}"
            return StorageError(
                f"{RPC}operation error S3: {op}, https response error StatusCode: {status}, "
                f"RequestID: {meta.get('RequestId', '')}, HostID: {meta.get('HostId', '')}, {detail}"
            )
        if isinstance(err, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionError)):
            host = self.config.endpoint.split("://", 1)[-1].split("/", 1)[0]
            method = "Get" if op.startswith(("List", "Get", "Head")) else "Put" if op.startswith("Put") else "Delete"
            return StorageError(
                f"{RPC}operation error S3: {op}, exceeded maximum number of attempts, 3, https response error "
                f"StatusCode: 0, RequestID: , HostID: , request send failed, {method} \"{url}\": "
                f"dial tcp {host}: connect: connection refused"
            )
        return StorageError(f"{RPC}operation error S3: {op}, {err}")

    def _call(self, op: str, url: str, fn: Callable[[Any], Any]) -> Any:
        client = self._s3(op)
        try:
            return fn(client)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as err:
            raise self._wrap(op, err, url) from None

    def _common_prefixes(self, prefix: str) -> list[str]:
        url = self._url(query=f"delimiter=%2F&list-type=2&prefix={quote(prefix, safe='')}")
        out: list[str] = []

        def run(client: Any) -> None:
            token = None
            while True:
                kwargs = {"Bucket": self.config.bucket, "Prefix": prefix, "Delimiter": "/"}
                if token:
                    kwargs["ContinuationToken"] = token
                page = client.list_objects_v2(**kwargs)
                out.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
                token = page.get("NextContinuationToken")
                if not token:
                    return

        self._call("ListObjectsV2", url, run)
        return out

    def _root(self) -> str:
        return f"{self.config.prefix}/" if self.config.prefix else ""

    # -- what Velero's controllers use --------------------------------------------------------------
    def is_valid(self) -> None:
        root = self._root()
        dirs = [d[len(root):].rstrip("/") for d in self._common_prefixes(root)]
        invalid = [d for d in dirs if d not in VALID_SUBDIRS]
        if len(invalid) > 3:
            raise StorageError(
                f"Backup store contains {len(invalid)} invalid top-level directories: [{' '.join(invalid[:3])} ...]"
            )
        if invalid:
            raise StorageError(f"Backup store contains invalid top-level directories: [{' '.join(invalid)}]")

    def list_backups(self) -> list[str]:
        base = self.config.key("backups") + "/"
        return sorted(p[len(base):].rstrip("/") for p in self._common_prefixes(base))

    def put(self, key_parts: tuple[str, ...], body: bytes) -> None:
        key = self.config.key(*key_parts)
        self._call("PutObject", self._url(key),
                   lambda c: c.put_object(Bucket=self.config.bucket, Key=key, Body=body))

    def get(self, key_parts: tuple[str, ...]) -> bytes:
        key = self.config.key(*key_parts)
        return self._call("GetObject", self._url(key),
                          lambda c: c.get_object(Bucket=self.config.bucket, Key=key)["Body"].read())

    def signed_url(self, key_parts: tuple[str, ...], ttl) -> str:
        """The aws plugin's CreateSignedURL: a presigned GET (object_store.go in velero-plugin-for-aws)."""
        key = self.config.key(*key_parts)
        return self._call("GetObject", self._url(key), lambda c: c.generate_presigned_url(
            "get_object", Params={"Bucket": self.config.bucket, "Key": key}, ExpiresIn=int(ttl.total_seconds())))

    def put_backup(self, name: str, metadata: dict, contents: bytes, log: bytes) -> None:
        self.put(("backups", name, f"{name}-logs.gz"), log)
        self.put_backup_metadata(name, metadata)
        self.put(("backups", name, f"{name}.tar.gz"), contents)

    def put_backup_metadata(self, name: str, metadata: dict) -> None:
        self.put(("backups", name, "velero-backup.json"), json.dumps(metadata, indent=2).encode())

    def get_backup_metadata(self, name: str) -> dict:
        return json.loads(self.get(("backups", name, "velero-backup.json")))

    def get_backup_contents(self, name: str) -> bytes:
        return self.get(("backups", name, f"{name}.tar.gz"))

    def delete_dir(self, *parts: str) -> None:
        prefix = self.config.key(*parts) + "/"

        def run(client: Any) -> None:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.config.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    client.delete_object(Bucket=self.config.bucket, Key=obj["Key"])

        self._call("ListObjectsV2", self._url(query=f"list-type=2&prefix={quote(prefix, safe='')}"), run)

    def delete_backup(self, name: str) -> None:
        self.delete_dir("backups", name)
