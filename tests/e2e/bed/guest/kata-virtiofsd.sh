#!/bin/sh
# Kata's virtio_fs_daemon in L1: virtiofsd from scripts/fetch-virtiofsd.sh,
# packed as /opt/virtiofsd, run through its own dynamic loader. Kata passes
# the listening vhost-user socket as fd 3, which exec keeps.
D=/opt/virtiofsd
exec "$D/lib/ld-linux-aarch64.so.1" --library-path "$D/usr/lib/aarch64-linux-gnu" \
	"$D/usr/libexec/virtiofsd" "$@"
