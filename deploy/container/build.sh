#!/usr/bin/env bash
# Builds the Conflux container image that drops in for MI's `wso2/wso2mi:<version>`: the same home
# path (/home/wso2carbon/wso2mi-<version>), WSO2_SERVER_HOME, user (wso2carbon, uid/gid 802),
# exposed ports (8290 8253 9164 9201) and entry point (bin/micro-integrator.sh, which is the
# conflux binary itself: no shell in the image). It is built FROM scratch: the release binary,
# the shared libraries `ldd` names, the dynamic loader, CA certificates and the default home.
#
#   deploy/container/build.sh [--no-build] [--version 4.4.0] [--tag NAME]...
#
#   --no-build   use target/release/conflux as it is (else `cargo build --release -p conflux`)
#   --version V  the MI version whose layout to copy (default 4.4.0); tags wso2/wso2mi:V
#   --tag NAME   an extra tag (repeatable); conflux:latest is always added
#
# Environment: PODMAN (default `podman`), PODMAN_ARGS (e.g. storage options), CONTAINERS_CONF
# (default: deploy/container/containers.conf). Prints the image id on the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=4.4.0
build=1
tags=(localhost/conflux:latest)
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --version) version=$2; shift ;;
    --tag) tags+=("$2"); shift ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
tags+=("docker.io/wso2/wso2mi:$version")
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
podman=(${PODMAN:-podman} ${PODMAN_ARGS:-})
command -v "${podman[0]}" >/dev/null || { echo "build.sh: ${podman[0]} is not installed" >&2; exit 3; }

if [ "$build" = 1 ]; then
  (cd "$repo" && cargo build --release -p conflux)
fi
binary=$repo/target/release/conflux
[ -x "$binary" ] || { echo "build.sh: $binary is missing (build it, or drop --no-build)" >&2; exit 3; }

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
root=$context/rootfs
home_dir=/home/wso2carbon/wso2mi-$version
mkdir -p "$root$home_dir" "$root/etc/ssl/certs" "$root/tmp"
chmod 1777 "$root/tmp"

# The default home as the repository has it, without what a local run left in it (logs, a
# generated keystore: git ignores those); outside a git checkout, all of it but logs and keystores.
if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$repo/home" && git ls-files --cached --others --exclude-standard -z . | tar --null -T - -cf -) | tar -C "$root$home_dir" -xf -
else
  tar -C "$repo/home" --exclude='./repository/logs/*' --exclude='*.jks' --exclude='*.p12' --exclude='./repository/database/*' -cf - . | tar -C "$root$home_dir" -xf -
fi
# The binary is MI's launcher (crates/conflux/src/launcher.rs); `conflux` is a link for the other
# commands (`conflux check`, `conflux ports`).
rm -f "$root$home_dir/bin/micro-integrator.sh"
strip --strip-unneeded -o "$root$home_dir/bin/micro-integrator.sh" "$binary" 2>/dev/null || cp "$binary" "$root$home_dir/bin/micro-integrator.sh"
chmod 755 "$root$home_dir/bin/micro-integrator.sh"
ln -s micro-integrator.sh "$root$home_dir/bin/conflux"

# Every shared library the binary needs (and the loader), at the path ldd resolves it to.
ldd "$binary" | awk '/=> \// {print $3} /^\s*\// {print $1}' | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nwso2carbon:x:802:802:WSO2 Carbon:/home/wso2carbon:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nwso2:x:802:\n' > "$root/etc/group"
mkdir -p "$root$home_dir/repository/logs"

# COPY makes files root's unless told otherwise: the home goes in separately, owned by
# wso2carbon, which writes its logs and a generated keystore there.
mkdir -p "$context/home"
mv "$root/home/wso2carbon" "$context/home/"
cat > "$context/Containerfile" <<CONTAINERFILE
FROM scratch
COPY rootfs/ /
COPY --chown=802:802 home/ /home/
RUN ["$home_dir/bin/micro-integrator.sh", "version"]
ENV WSO2_SERVER_HOME=$home_dir \\
    WSO2_SERVER_NAME=wso2mi \\
    WSO2_SERVER_VERSION=$version \\
    USER_HOME=/home/wso2carbon \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 802:802
WORKDIR /home/wso2carbon
EXPOSE 8290 8253 9164 9201
STOPSIGNAL SIGTERM
ENTRYPOINT ["$home_dir/bin/micro-integrator.sh"]
CONTAINERFILE

tag_args=()
for t in "${tags[@]}"; do tag_args+=(-t "$t"); done
"${podman[@]}" build -q "${tag_args[@]}" "$context"
