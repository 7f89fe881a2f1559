#!/usr/bin/env bash
# Run wsdr's throwaway Samba AD DC on loopback (LDAPS 636, LDAP+StartTLS 389) from a fresh copy of the
# seeded template, until stopped.
#
#   tests/samba/run-dc.sh                     run until SIGTERM/SIGINT (Ctrl-C) or until samba exits
#   tests/samba/run-dc.sh --exit-with-parent  also stop when the process that started this script is gone
#                                             (polled every 0.5 s; the Rust harness uses this)
#
# Once LDAPS answers a real bind + search as svc-wsdr, prints ONE line on stdout:
#   ready pid=<samba pid> dir=<run dir> ca=<ca.pem> other_ca=<other-ca.pem>
# Everything else goes to stderr. On exit: samba gets TERM (KILL after 3 s); the run dir and the pid file
# are removed. The ports are fixed, so one DC runs at a time: a second run-dc.sh waits (up to
# $WSDR_SAMBA_LOCK_WAIT s, default 120) for the first to exit; a stale samba left by an aborted run (its pid
# is in /tmp/wsdr-samba-dc.pid) is killed first. Needs root.
set -euo pipefail
trap '' PIPE # the reader of our stderr may be gone at shutdown: failed writes must not kill the cleanup

here="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo_root="$(cd "$here/../.." && pwd -P)"
out="${WSDR_SAMBA_DIR:-$repo_root/target/wsdr-samba}"
pidfile="${WSDR_SAMBA_PIDFILE:-/tmp/wsdr-samba-dc.pid}"
lockfile="$pidfile.lock"
lock_wait="${WSDR_SAMBA_LOCK_WAIT:-120}"
ready_timeout="${WSDR_SAMBA_READY_TIMEOUT:-30}"
# shellcheck source=credentials.sh
source "$here/credentials.sh"

say() { echo "samba dc: $*" >&2 2>/dev/null || true; } # never fails: stderr may be a closed pipe
die() { say "$*"; exit 1; }

exit_with_parent=0
case "${1:-}" in
    --exit-with-parent) exit_with_parent=1 ;;
    "") ;;
    *) die "usage: $0 [--exit-with-parent]" ;;
esac
parent=$PPID
started=$(date +%s.%N)
elapsed() { awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

[[ "$(id -u)" -eq 0 ]] || die "must run as root (samba's AD DC runs as root only; try: sudo $0)"

# The template: a fast no-op when it is up to date.
"$here/setup.sh" >&2 || die "setup.sh failed"

samba_pid=
run_dir=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e # clean up as much as possible, whatever fails
    if [[ -n "$samba_pid" ]] && kill -0 "$samba_pid" 2>/dev/null; then
        say "stopping samba (pid $samba_pid)"
        kill -TERM "$samba_pid" 2>/dev/null || true
        for _ in $(seq 30); do kill -0 "$samba_pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$samba_pid" 2>/dev/null; then
            say "samba ignored TERM for 3 s: KILL"
            kill -KILL "$samba_pid" 2>/dev/null || true
        fi
        wait "$samba_pid" 2>/dev/null || true
    fi
    [[ -n "$run_dir" ]] && rm -rf "$run_dir"
    if [[ -n "$samba_pid" && -f "$pidfile" && "$(cut -d' ' -f1 "$pidfile" 2>/dev/null)" == "$samba_pid" ]]; then
        rm -f "$pidfile"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# One DC at a time (fixed ports): hold a lock for our whole life. Samba does not inherit it (8>&- below),
# so a lock left free by a killed run-dc.sh means any samba named in the pid file is stale.
exec 8>"$lockfile"
if ! flock -n 8; then
    say "another run-dc.sh is running a DC; waiting up to ${lock_wait} s for it to exit"
    flock -w "$lock_wait" 8 || die "another run-dc.sh still holds $lockfile after ${lock_wait} s (see: ps -ef | grep run-dc)"
fi

is_samba() { [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q '^samba'; }
if [[ -f "$pidfile" ]]; then
    read -r stale_pid stale_dir <"$pidfile" || true
    if [[ -n "${stale_pid:-}" ]] && is_samba "$stale_pid"; then
        say "killing the stale samba of an aborted run (pid $stale_pid)"
        kill -KILL "$stale_pid" 2>/dev/null || true
        for _ in $(seq 50); do is_samba "$stale_pid" || break; sleep 0.1; done
    fi
    [[ "${stale_dir:-}" == /tmp/wsdr-samba-run.* ]] && rm -rf "$stale_dir"
    rm -f "$pidfile"
fi
listening() { ss -Htln "( sport = :$1 )" 2>/dev/null | grep -q .; }
for port in 389 636; do
    if listening "$port"; then
        ss -Htlnp "( sport = :$port )" >&2 || true
        die "port $port is already taken by another process (above): stop it first"
    fi
done

# A fresh copy of the template, with its own smb.conf.
run_dir="$(mktemp -d /tmp/wsdr-samba-run.XXXXXX)"
chmod 755 "$run_dir"
cp -a "$out/template/." "$run_dir/"
pki="$out/pki"
write_smb_conf "$run_dir" "$pki"

samba -F --no-process-group -M single -s "$run_dir/etc/smb.conf" </dev/null >"$run_dir/stdout.log" 2>&1 8>&- &
samba_pid=$!
echo "$samba_pid $run_dir" >"$pidfile"
say "started samba (pid $samba_pid) in $run_dir"

# Ready = LDAPS answers a real simple bind + search as svc-wsdr, verified against our CA.
probe() {
    LDAPTLS_CACERT="$pki/ca.pem" LDAPTLS_REQCERT=demand timeout 5 \
        ldapsearch -x -o nettimeout=2 -H ldaps://127.0.0.1:636 -D "$SERVICE_UPN" -w "$SERVICE_PASSWORD" \
        -b "$SAMBA_DOMAIN_DN" -s base dn >/dev/null 2>&1
}
fail_start() {
    say "$1; last lines of $run_dir/samba.log and stdout.log:"
    tail -n 25 "$run_dir/samba.log" >&2 2>/dev/null || true
    tail -n 10 "$run_dir/stdout.log" >&2 2>/dev/null || true
    exit 1
}
deadline=$((SECONDS + ready_timeout))
until probe 8>&-; do
    kill -0 "$samba_pid" 2>/dev/null || fail_start "samba exited during start-up"
    ((SECONDS < deadline)) || fail_start "LDAPS did not answer a bind + search as $SERVICE_UPN within ${ready_timeout} s"
    sleep 0.1 8>&-
done
say "ready in $(elapsed) s (ldaps://127.0.0.1:636, ldap://127.0.0.1:389 with StartTLS)"
echo "ready pid=$samba_pid dir=$run_dir ca=$pki/ca.pem other_ca=$pki/other-ca.pem"

parent_alive() {
    local _pid _comm _state ppid
    kill -0 "$parent" 2>/dev/null || return 1
    # Reparented (to init or a subreaper) = the parent is gone, even if its pid was reused.
    read -r _pid _comm _state ppid _ <"/proc/$$/stat" || return 1
    [[ "$ppid" == "$parent" ]]
}
while kill -0 "$samba_pid" 2>/dev/null; do
    if ((exit_with_parent)) && ! parent_alive; then
        say "parent (pid $parent) is gone: stopping"
        exit 0
    fi
    sleep 0.5 8>&-
done
wait "$samba_pid" 2>/dev/null && rc=0 || rc=$?
say "samba (pid $samba_pid) exited (status $rc)"
exit 1
