#!/bin/sh
# Chromium whose profile directory is an empty tmpfs of $QRAUTH_SMALL_DISK_MB megabytes, in a
# mount namespace of its own: a phone whose storage really fills up. Needs root (as CI has).
exec unshare --mount --propagation private sh -c \
  'mount -t tmpfs -o "size=${QRAUTH_SMALL_DISK_MB}m" tmpfs "$0" && exec "$QRAUTH_CHROMIUM" "$@"' \
  "$QRAUTH_SMALL_DISK" "$@"
