#!/bin/sh
# Build the real programs of the conformance tier from their pinned Go modules (tests/conformance/go/*)
# into .conformance/bin/. Go's module and build caches make every build after the first quick.
# Usage: tests/conformance/build.sh [OUT_DIR]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/.conformance/bin}
if ! command -v go >/dev/null 2>&1; then
  echo "conformance: skipped: no Go toolchain on PATH (install Go >= 1.25 to build the real programs)"
  exit 0
fi
mkdir -p "$out" "$out/plugins"
start=$(date +%s)
build() {  # build MODULE_DIR OUTPUT PACKAGE  (skipped when OUTPUT is newer than the module's go.mod and go.sum)
  mod="$root/tests/conformance/go/$1"
  if [ -z "${CONFORMANCE_REBUILD:-}" ] && [ "$2" -nt "$mod/go.mod" ] && [ "$2" -nt "$mod/go.sum" ]; then
    echo "conformance: $(basename "$2") is up to date"
    return 0
  fi
  t0=$(date +%s)
  (cd "$root/tests/conformance/go/$1" && nice -n 10 go build -o "$2" "$3")
  echo "conformance: built $(basename "$2") ($3) in $(( $(date +%s) - t0 ))s"
}
build kube "$out/etcd" go.etcd.io/etcd/server/v3
build kube "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
build velero "$out/velero" github.com/vmware-tanzu/velero/cmd/velero
build awsplugin "$out/plugins/velero-plugin-for-aws" github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws
if [ "${CONFORMANCE_MINIO:-1}" = 1 ]; then
  if ! build minio "$out/minio" github.com/minio/minio; then
    echo "conformance: MinIO did not build (output above); the S3 scenarios run against moto only"
  fi
fi
echo "conformance: build finished in $(( $(date +%s) - start ))s -> $out"
