"""What kube-apiserver needs at start, made fresh in its folder: a CA and a serving certificate for
127.0.0.1/localhost, a token file, and the service-account signing key pair."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class ApiServerFiles:
    ca_pem: bytes
    cert: Path
    key: Path
    token: str
    token_file: Path
    sa_public: Path
    sa_private: Path


def make_files(folder: Path) -> ApiServerFiles:
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="snapplan conformance")
    served = ca.issue_cert("127.0.0.1", "localhost", "kubernetes", "kubernetes.default.svc")
    cert, key = folder / "serving.crt", folder / "serving.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in served.cert_chain_pems))
    key.write_bytes(served.private_key_pem.bytes())
    token = secrets.token_hex(16)
    token_file = folder / "tokens.csv"
    # token,user,uid,"group1,group2": system:masters passes RBAC, as a cluster admin's kubeconfig does.
    token_file.write_text(f'{token},snapplan-admin,snapplan-admin,"system:masters"\n')
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sa_private, sa_public = folder / "sa.key", folder / "sa.pub"
    sa_private.write_bytes(sa_key.private_bytes(serialization.Encoding.PEM,
                                                serialization.PrivateFormat.TraditionalOpenSSL,
                                                serialization.NoEncryption()))
    sa_public.write_bytes(sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    for path in (key, token_file, sa_private):
        path.chmod(0o600)
    return ApiServerFiles(ca.cert_pem.bytes(), cert, key, token, token_file, sa_public, sa_private)
