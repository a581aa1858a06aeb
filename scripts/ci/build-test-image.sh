#!/bin/sh
# Builds the images the Docker tests run, without a registry: wsm-test/busybox:1 and :2 share a
# busybox-static rootfs and differ only in /VERSION, so a test can tell which one a container runs.
# Their CMD serves /home/src over HTTP on 6789, like a workspace would. Skips images that exist.
set -eu

if [ ! -x /bin/busybox ]; then
  echo "busybox missing: installing busybox-static"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq busybox-static >/dev/null
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

make_rootfs() {
  root=$1
  version=$2
  mkdir -p "$root/bin" "$root/tmp" "$root/home/src" "$root/etc" "$root/root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  # Symlink every applet this busybox has, so sh, httpd, sleep, wget ... resolve in PATH.
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  mkdir -p "$root/usr"
  ln -s ../bin "$root/usr/bin"
  ln -s bin "$root/sbin"
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  echo "root:x:0:" >"$root/etc/group"
  echo "$version" >"$root/VERSION"
}

for version in 1 2; do
  image="wsm-test/busybox:$version"
  if docker image inspect "$image" >/dev/null 2>&1; then
    echo "$image exists"
    continue
  fi
  root="$WORK/rootfs-$version"
  make_rootfs "$root" "$version"
  tar -C "$root" -c . | docker import \
    -c 'CMD ["/bin/httpd","-f","-p","6789","-h","/home/src"]' \
    -c 'WORKDIR /home/src' \
    -c 'EXPOSE 6789' \
    - "$image" >/dev/null
  echo "built $image"
done
