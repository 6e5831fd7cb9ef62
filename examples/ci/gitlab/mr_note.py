"""Post FILE (snapplan's markdown plan) as one merge-request note, or update the note posted before.

GitLab CI helper for examples/ci/gitlab/.gitlab-ci.yml; standard library only. The note is found by the
plan's first line, `<!-- snapplan-plan policy=NAME -->`.
"""
import json
import os
import sys
import urllib.request


def call(method: str, path: str, body: dict | None = None):
    url = f"{os.environ['CI_API_V4_URL']}/projects/{os.environ['CI_PROJECT_ID']}{path}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "PRIVATE-TOKEN": os.environ["SNAPPLAN_GITLAB_TOKEN"], "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def main(path: str) -> None:
    body = open(path, encoding="utf-8").read()
    marker = body.split("\n", 1)[0]
    notes = f"/merge_requests/{os.environ['CI_MERGE_REQUEST_IID']}/notes"
    page = 1
    while True:
        batch = call("GET", f"{notes}?per_page=100&page={page}")
        mine = next((n for n in batch if n["body"].startswith(marker)), None)
        if mine or len(batch) < 100:
            break
        page += 1
    if mine:
        call("PUT", f"{notes}/{mine['id']}", {"body": body})
    else:
        call("POST", notes, {"body": body})


if __name__ == "__main__":
    main(sys.argv[1])
