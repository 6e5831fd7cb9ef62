"""What a fresh cluster holds: system namespaces, and (with Velero) what `velero install` leaves behind."""
from __future__ import annotations

from .resources import velero_crds
from .store import Store

NAMESPACES = ("", "v1", "namespaces")
DEPLOYMENTS = ("apps", "v1", "deployments")
VELERO_IMAGE = "velero/velero:v1.16.2"
AWS_PLUGIN_IMAGE = "velero/velero-plugin-for-aws:v1.12.0"
_COMPONENT = {"component": "velero"}


def velero_deployment(namespace: str = "velero") -> dict:
    """The velero Deployment as `velero install --provider aws --plugins <aws plugin>` creates it."""
    labels = {"component": "velero", "deploy": "velero"}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "velero", "namespace": namespace, "labels": dict(_COMPONENT)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"deploy": "velero"}},
            "template": {
                "metadata": {"labels": labels, "annotations": {
                    "prometheus.io/path": "/metrics", "prometheus.io/port": "8085", "prometheus.io/scrape": "true"}},
                "spec": {
                    "serviceAccountName": "velero", "restartPolicy": "Always",
                    "initContainers": [{"name": "velero-velero-plugin-for-aws", "image": AWS_PLUGIN_IMAGE,
                                        "imagePullPolicy": "IfNotPresent",
                                        "volumeMounts": [{"mountPath": "/target", "name": "plugins"}]}],
                    "containers": [{
                        "name": "velero", "image": VELERO_IMAGE, "imagePullPolicy": "IfNotPresent",
                        "command": ["/velero"], "args": ["server", "--features=", "--uploader-type=kopia"],
                        "ports": [{"containerPort": 8085, "name": "metrics"}],
                        "env": [{"name": "VELERO_SCRATCH_DIR", "value": "/scratch"},
                                {"name": "VELERO_NAMESPACE",
                                 "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                                {"name": "LD_LIBRARY_PATH", "value": "/plugins"},
                                {"name": "AWS_SHARED_CREDENTIALS_FILE", "value": "/credentials/cloud"}],
                        "volumeMounts": [{"mountPath": "/plugins", "name": "plugins"},
                                         {"mountPath": "/scratch", "name": "scratch"},
                                         {"mountPath": "/credentials", "name": "cloud-credentials"}]}],
                    "volumes": [{"name": "plugins", "emptyDir": {}}, {"name": "scratch", "emptyDir": {}},
                                {"name": "cloud-credentials", "secret": {"secretName": "cloud-credentials"}}],
                },
            },
        },
    }


_READY = {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
          "availableReplicas": 1}


def system_namespaces(store: Store) -> None:
    for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
        store.create(NAMESPACES, None, {"metadata": {"name": name}})


def install_velero(store: Store, namespace: str = "velero") -> None:
    """Velero's CRDs, its namespace and its running Deployment, labelled `component: velero`."""
    for crd in velero_crds():
        crd["metadata"].setdefault("labels", {}).update(_COMPONENT)
        store.register_crd(crd)
    store.create(NAMESPACES, None, {"metadata": {"name": namespace, "labels": dict(_COMPONENT)}})
    deployment = store.create(DEPLOYMENTS, namespace, velero_deployment(namespace))
    now = deployment["metadata"]["creationTimestamp"]
    conditions = [{"type": t, "status": "True", "reason": r, "message": m, "lastUpdateTime": now,
                   "lastTransitionTime": now}
                  for t, r, m in (("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                                  ("Progressing", "NewReplicaSetAvailable",
                                   'ReplicaSet "velero-7d8c9b6f5d" has successfully progressed.'))]
    store.replace_status(DEPLOYMENTS, namespace, "velero", {**deployment,
                                                            "status": {**_READY, "conditions": conditions}})
