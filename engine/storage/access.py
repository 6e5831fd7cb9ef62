"""How to reach one storage over S3: its credentials (as Velero's aws plugin would read them), endpoint and TLS.

Credentials come from the policy's own source where snapplan can read it (a file, environment variables);
a secretRef lives in the cluster, so the standard AWS credential chain stands in for it, and the report says so.
"""
from __future__ import annotations

import configparser
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from engine.gotext import parse_bool
from engine.model.credentials import SourceMissing, read_secret
from engine.spec.hygiene import skips_tls_verify
from engine.spec.policy import Storage

CONNECT_TIMEOUT = 3  # seconds; an endpoint that does not answer this fast is reported, not waited for
READ_TIMEOUT = 15
ATTEMPTS = 2  # one retry: enough for a dropped connection, few enough that a dead endpoint fails fast


class AccessProblem(Exception):
    """The client cannot be set up (credentials, endpoint URL); the message names the source and the fix."""

    def __init__(self, message: str, check: str = "credentials"):
        super().__init__(message)
        self.check = check


# aws-sdk-go-v2 s3 types.ChecksumAlgorithm values, and "" (velero-plugin-for-aws object_store.go validChecksumAlg)
CHECKSUM_ALGORITHMS = ("", "CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME")


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


@dataclass(frozen=True)
class Access:
    region: str
    endpoint: str | None  # None: AWS's regional endpoint
    path_style: bool
    verify: bool | str  # a CA bundle path, True for the system's CAs, False with insecureSkipTLSVerify
    checksum: str | None  # the checksum Velero's uploads carry (config.checksumAlgorithm); None: none
    keys: Keys | None  # None: the standard AWS credential chain
    source: str  # where the credentials come from, for people


def describe_source(storage: Storage) -> str:
    creds = storage.credentials
    if creds is None:
        return "the AWS credential chain (the policy names no credentials; Velero would use its default Secret)"
    if creds.file is not None:
        return f"file {creds.file} [{profile_of(storage)}]"
    if creds.env:
        return "env " + "/".join(var for _, var in creds.env)
    return (f"the AWS credential chain (secretRef {creds.secret_name}/{creds.secret_key} is in the cluster "
            "and cannot be read from here)")


def profile_of(storage: Storage) -> str:
    # Velero's aws plugin reads the credentials file's profile named by config.profile, "default" otherwise.
    return dict(storage.config).get("profile") or "default"


def resolve_access(storage: Storage, env: Mapping[str, str]) -> Access:
    """Everything needed to build a client; AccessProblem when the policy's credential source is unusable."""
    config = dict(storage.config)
    if storage.type == "s3-compatible":
        endpoint = storage.endpoint
    else:  # aws: the regional endpoint, unless the standard AWS override points elsewhere (LocalStack, tests)
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None
    verify: bool | str = True
    if storage.ca_file is not None:
        verify = str(storage.ca_file)
    # velero-plugin-for-aws object_store.go Init: strconv.ParseBool, and an error for anything else
    insecure = config.get("insecureSkipTLSVerify", "")
    if insecure and parse_bool(insecure) is None:
        raise AccessProblem(f"config.insecureSkipTLSVerify {insecure!r} is not a boolean as Go reads one (true, "
                            "false, 1, 0, t, f, ...): the aws plugin refuses the location", "storage")
    if skips_tls_verify(config):
        verify = False
    # ... and checksumAlgorithm: CRC32 unless set; "" sends none (what Ceph RGW and Backblaze B2 need)
    checksum = config.get("checksumAlgorithm", "CRC32")
    if checksum not in CHECKSUM_ALGORITHMS:
        raise AccessProblem(f"invalid checksum algorithm: {checksum} (config.checksumAlgorithm; the aws plugin "
                            f"takes {', '.join(a or repr(a) for a in CHECKSUM_ALGORITHMS)})", "storage")
    return Access(
        region=storage.region or "us-east-1",
        endpoint=endpoint,
        path_style=bool(storage.path_style),
        verify=verify,
        checksum=checksum or None,
        keys=_policy_keys(storage, env),
        source=describe_source(storage),
    )


def _policy_keys(storage: Storage, env: Mapping[str, str]) -> Keys | None:
    creds = storage.credentials
    if creds is None or creds.secret_name is not None:
        return None
    try:
        data = read_secret(creds, env, profile_of(storage))
    except SourceMissing as exc:
        raise AccessProblem(f"{exc}: fix credentials.{exc.field.removeprefix('credentials.')}") from None
    return parse_shared_credentials(data, profile_of(storage), str(creds.file) if creds.file else None)


def parse_shared_credentials(data: bytes, profile: str, file: str | None) -> Keys:
    """The key pair of one profile of an AWS shared-credentials file (what Velero mounts from the Secret)."""
    where = f"credentials file {file}" if file else "the credentials built from the environment"
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(data.decode("utf-8"))
    except (UnicodeDecodeError, configparser.Error) as exc:
        reason = str(exc).splitlines()[0]
        raise AccessProblem(f"{where} is not an AWS shared-credentials file ({reason}): write it as "
                            f"[{profile}] with aws_access_key_id= and aws_secret_access_key= lines") from None
    section = parser[profile] if parser.has_section(profile) else None
    key_id = section.get("aws_access_key_id", "").strip() if section else ""
    secret = section.get("aws_secret_access_key", "").strip() if section else ""
    if not key_id or not secret:
        raise AccessProblem(f"{where} has no [{profile}] section with aws_access_key_id and "
                            "aws_secret_access_key, which is what Velero's aws plugin reads: add them"
                            + (" (or set config.profile to the profile that has them)" if profile == "default"
                               and parser.sections() else ""))
    token = section.get("aws_session_token", "").strip() or None
    return Keys(key_id, secret, token)


def open_client(access: Access, env: Mapping[str, str]):
    """(boto3 S3 client, where its credentials came from, access key id): short timeouts, one retry.

    The chain reads `env` for its variables; AccessProblem when it finds no credentials at all.
    """
    import botocore.config
    import botocore.exceptions

    config = botocore.config.Config(
        region_name=access.region,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
        s3={"addressing_style": "path" if access.path_style else "auto"},
        # as the plugin: no checksum unless one is asked for (botocore otherwise adds CRC32 to every upload)
        request_checksum_calculation="when_supported" if access.checksum else "when_required",
    )
    if access.verify is False:
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    session = _session(env)
    source = access.source
    key_id = access.keys.access_key_id if access.keys else None
    kwargs = {}
    if access.keys is not None:
        kwargs = {"aws_access_key_id": access.keys.access_key_id,
                  "aws_secret_access_key": access.keys.secret_access_key,
                  "aws_session_token": access.keys.session_token}
    else:
        try:
            found = session.get_credentials()
        except botocore.exceptions.BotoCoreError as exc:
            raise AccessProblem(f"the AWS credential chain failed: {exc}") from None
        if found is None:
            raise AccessProblem(f"no credentials: {source}, and the chain found none; set AWS_PROFILE or "
                                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY to the credentials Velero uses, "
                                "or give the storage credentials.file or credentials.env")
        source = f"{source}: found by {found.method}"
        key_id = found.access_key
    try:
        client = session.client("s3", endpoint_url=access.endpoint, verify=access.verify, config=config, **kwargs)
    except ValueError as exc:  # botocore refuses a malformed endpoint URL
        raise AccessProblem(f"endpoint {access.endpoint!r} is not a usable URL ({exc}): "
                            "write it as https://host[:port]", "endpoint") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise AccessProblem(f"cannot set up the S3 client: {exc}") from None
    return client, source, key_id


def _session(env: Mapping[str, str]):
    import boto3
    import botocore.session

    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    for var, name in (("AWS_PROFILE", "profile"), ("AWS_SHARED_CREDENTIALS_FILE", "credentials_file"),
                      ("AWS_CONFIG_FILE", "config_file")):
        if env.get(var):
            core.set_config_variable(name, env[var])
    # The chain's first source reads the given environment, not necessarily this process's.
    core.get_component("credential_provider").get_provider("env").environ = env
    return boto3.session.Session(botocore_session=core)


@lru_cache(maxsize=1)
def _shared_loader():
    """One botocore data loader per process: it caches the parsed S3 model and endpoint data (~0.1 s a session)."""
    import botocore.loaders

    return botocore.loaders.create_loader()
