#!/bin/sh
# The container's entrypoint. For `run` (the default) it checks what a run needs and
# says in one line what is missing; then it replaces itself with `quorum` (exec), so the
# bot is the process that receives SIGTERM from `docker stop` and drains cleanly.
# Any other arguments go to `quorum` as they are: `docker run IMAGE backup /backups`.
set -eu

config="${QUORUM_CONFIG:-/etc/quorum/quorum.toml}"
db="${QUORUM_DB:-/var/lib/quorum/quorum.db}"
state="$(dirname "$db")"
export QUORUM_CONFIG="$config" QUORUM_DB="$db"

fail() {
    # EX_CONFIG (78): a restart will not help until the operator fixes the mount.
    printf 'quorum-entrypoint: %s\n' "$1" >&2
    exit 78
}

preflight() {
    [ -e "$config" ] || fail "no config at $config: mount your quorum.toml there read-only (see README, Running in production)"
    [ -f "$config" ] || fail "$config is not a file"
    [ -r "$config" ] || fail "$config is not readable by uid $(id -u)"
    if [ -e "$state" ] && [ ! -d "$state" ]; then
        fail "$state is not a folder"
    fi
    [ -d "$state" ] || mkdir -p "$state" 2>/dev/null || fail "cannot create $state for the database"
    probe="$state/.quorum-write-test.$$"
    ( : > "$probe" ) 2>/dev/null || fail "$state is not writable by uid $(id -u): give the volume to uid 10001"
    rm -f "$probe"
    # Key paths of a bad config, one per line, exit status 2.
    quorum check-config "$config" >/dev/null
}

if [ "$#" -eq 0 ]; then
    set -- run
fi
if [ "$1" = "run" ]; then
    preflight
fi
exec quorum "$@"
