"""Download the saved plan of the merge request that commit SHA merged; print the merge request's IID.

GitLab CI helper for examples/ci/gitlab/.gitlab-ci.yml; standard library only. It takes the artifact of the
`plan` job of the merge request's newest successful pipeline, so apply runs exactly the reviewed plan, and
fails (nothing applied) when there is none.
"""
import io
import json
import os
import sys
import urllib.request
import zipfile


def get(path: str) -> bytes:
    url = f"{os.environ['CI_API_V4_URL']}/projects/{os.environ['CI_PROJECT_ID']}{path}"
    req = urllib.request.Request(url, headers={"PRIVATE-TOKEN": os.environ["SNAPPLAN_GITLAB_TOKEN"]})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.read()


def main(sha: str) -> None:
    merged = [mr for mr in json.loads(get(f"/repository/commits/{sha}/merge_requests")) if mr["state"] == "merged"]
    if not merged:
        sys.exit(f"commit {sha} merged no merge request: nothing to apply")
    iid, head = merged[0]["iid"], merged[0]["sha"]
    pipelines = json.loads(get(f"/merge_requests/{iid}/pipelines"))
    for pipeline in pipelines:  # newest first
        if pipeline["status"] != "success" or pipeline["sha"] != head:  # the plan of the reviewed commit
            continue
        jobs = json.loads(get(f"/pipelines/{pipeline['id']}/jobs?scope[]=success"))
        job = next((j for j in jobs if j["name"] == "plan"), None)
        if job:
            zipfile.ZipFile(io.BytesIO(get(f"/jobs/{job['id']}/artifacts"))).extractall(".")
            print(iid)
            return
    sys.exit(f"merge request !{iid} has no successful plan: nothing to apply")


if __name__ == "__main__":
    main(sys.argv[1])
