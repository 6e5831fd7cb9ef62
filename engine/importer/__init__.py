"""importer: live Velero objects -> a policy document that reproduces them (the model stage run backwards).

Pure: reads a LiveState, returns data (the document, notes, files to write); the CLI writes and prints.
May import engine.addr, engine.cron, engine.errors, engine.model and engine.spec.policy (names and constants),
engine.diff (who manages an object) and engine.state; never kubernetes or boto3.
"""
from engine.importer.build import ImportProblem, ImportResult, Note, import_policy
from engine.importer.render import render_policy, result_to_json

__all__ = ["ImportProblem", "ImportResult", "Note", "import_policy", "render_policy", "result_to_json"]
