"""storage: preflight of the object storage a policy names, over S3, before Velero is told to use it.

`check_storage(policy, env, ...)` returns plain report data; `render_text` / `reports_to_json` show it.
May import engine.spec, engine.model.credentials, engine.errors and engine.times; boto3 only lazily, inside functions.
"""
from engine.storage.preflight import check_storage
from engine.storage.report import BackupsInBucket, Check, Status, StorageReport, reports_to_json
from engine.storage.text import render_text

__all__ = ["check_storage", "BackupsInBucket", "Check", "Status", "StorageReport", "reports_to_json", "render_text"]
