#!/usr/bin/env bash
# Validates the manifests of this folder against the Kubernetes OpenAPI schemas with
# kubernetes-validate (PyPI; it bundles the schemas, so nothing is fetched from a cluster),
# strictly (unknown fields fail). They cannot be run here: this checks their shape only.
#
#   deploy/kubernetes/validate.sh [KUBERNETES_VERSION]   (default 1.30: preStop `sleep` needs 1.29+)
# Env: K8S_VENV where kubernetes-validate is installed (default target/k8s-venv).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=${1:-1.30}
venv=${K8S_VENV:-$repo/target/k8s-venv}
pinned=1.37.0
if ! "$venv/bin/pip" show kubernetes-validate 2>/dev/null | grep -q "^Version: $pinned$"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "kubernetes-validate==$pinned"
fi
cd "$here"
# kustomization.yaml is kustomize's, not a Kubernetes object.
"$venv/bin/kubernetes-validate" --strict --kubernetes-version "$version" \
  configmap.yaml secret.yaml deployment.yaml service.yaml hpa.yaml
