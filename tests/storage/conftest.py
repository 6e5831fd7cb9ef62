"""S3 over HTTPS for the TLS checks: moto's app behind werkzeug with a certificate from a test CA.

moto's state is process-global, so this server sees the same buckets and users as the `s3` fixture's.
"""
from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cluster.s3 import MotoS3


@dataclass(frozen=True)
class TlsS3:
    url: str  # https://127.0.0.1:PORT
    ca_file: Path  # the CA that signed the server's certificate
    other_ca_file: Path  # a CA that did not


@pytest.fixture(scope="session")
def tls_s3(moto_s3: MotoS3, tmp_path_factory) -> Iterator[TlsS3]:
    import trustme
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    ca, other = trustme.CA(), trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True,
                         request_handler=MotoRequestHandler, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    folder = tmp_path_factory.mktemp("tls")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    other.cert_pem.write_to_path(str(folder / "other-ca.pem"))
    yield TlsS3(f"https://127.0.0.1:{server.server_address[1]}", folder / "ca.pem", folder / "other-ca.pem")
    server.shutdown()
    thread.join()
