#!/bin/sh
# Build the real programs of the conformance tier from their pinned Go modules (tests/conformance/go/*)
# into .conformance/bin/. Go's module and build caches make every build after the first quick.
# Usage: tests/conformance/build.sh [OUT_DIR]   (CONFORMANCE_MINIO=0 skips MinIO)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/.conformance/bin}
if ! command -v go >/dev/null 2>&1; then
  echo "conformance: skipped: no Go toolchain on PATH (install Go >= 1.25 to build the real programs)"
  exit 0
fi
mkdir -p "$out" "$out/plugins"
start=$(date +%s)
version() {  # version MODULE_DIR MODULE: the version that module's go.mod pins
  (cd "$root/tests/conformance/go/$1" && go list -m -f '{{.Version}}' "$2")
}
build() {  # build MODULE_DIR OUTPUT PACKAGE [LDFLAGS]  (with Go's caches warm, a relink of a few seconds)
  mod="$root/tests/conformance/go/$1"
  t0=$(date +%s)
  (cd "$mod" && nice -n 10 go build -ldflags "${4:-}" -o "$2" "$3")
  echo "conformance: built $(basename "$2") ($3) in $(( $(date +%s) - t0 ))s"
}
# Stamp the versions the programs report (/version, `velero version`) as their release builds do.
kube=$(version kube k8s.io/kubernetes)
minor=$(echo "$kube" | cut -d. -f2)
kv=k8s.io/component-base/version
build kube "$out/etcd" go.etcd.io/etcd/server/v3
build kube "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver \
  "-X $kv.gitVersion=$kube -X $kv.gitMajor=1 -X $kv.gitMinor=$minor -X $kv.gitTreeState=clean"
build velero "$out/velero" github.com/vmware-tanzu/velero/cmd/velero \
  "-X github.com/vmware-tanzu/velero/pkg/buildinfo.Version=$(version velero github.com/vmware-tanzu/velero)"
build awsplugin "$out/plugins/velero-plugin-for-aws" github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws
if [ "${CONFORMANCE_MINIO:-1}" = 1 ]; then
  if ! build minio "$out/minio" github.com/minio/minio; then
    echo "conformance: MinIO did not build (output above); the S3 scenarios run against moto only"
  fi
fi
echo "conformance: build finished in $(( $(date +%s) - start ))s -> $out"
