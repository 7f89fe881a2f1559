#!/usr/bin/env bash
# Build (once) the seeded template of wsdr's throwaway Samba AD DC and its test PKI.
#
#   tests/samba/setup.sh        install the packages if needed; (re)build what is missing or stale
#
# Output: $WSDR_SAMBA_DIR, default <repo root>/target/wsdr-samba/, holding
#   template/   a provisioned, seeded DC folder (run-dc.sh copies it and runs the copy)
#   pki/        ca.pem (signed dc.pem), dc.key, dc.pem, other-ca.pem (an unrelated CA)
#   stamp       hash of this script, credentials.sh (names, passwords, smb.conf), fixture.ldif and the samba version
# Idempotent: when the stamp matches and the folders exist, nothing is done. Needs root (samba does).
set -euo pipefail

here="$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo_root="$(cd "$here/../.." && pwd -P)"
out="${WSDR_SAMBA_DIR:-$repo_root/target/wsdr-samba}"
# shellcheck source=../lib.sh
source "$repo_root/tests/lib.sh"
# shellcheck source=credentials.sh
source "$here/credentials.sh"

say() { echo "samba setup: $*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
started=$(now)

if [[ "$(id -u)" -ne 0 ]]; then
    say "must run as root: the Samba AD DC (and samba-tool on its databases) runs as root only (try: sudo $0)" >&2
    exit 1
fi

packages=(samba samba-ad-dc samba-ad-provision winbind ldb-tools ldap-utils openssl)
commands=(samba samba-tool ldbadd ldbsearch ldapsearch ldapmodify openssl flock)
have_commands() { local c; for c in "${commands[@]}"; do command -v "$c" >/dev/null 2>&1 || return 1; done; }
wanted_stamp() {
    echo "$(cat "$here/setup.sh" "$here/credentials.sh" "$here/fixture.ldif" | sha256sum | cut -d' ' -f1) $(samba --version)"
}
up_to_date() {
    [[ -f "$out/stamp" && -f "$out/template/private/sam.ldb" && -f "$out/pki/ca.pem" && -f "$out/pki/other-ca.pem" ]] \
        && [[ "$(cat "$out/stamp")" == "$(wanted_stamp)" ]] \
        && openssl x509 -checkend 604800 -noout -in "$out/pki/dc.pem" >/dev/null # a week of validity left
}

# Fast path (run-dc.sh calls this script on every start).
if have_commands && up_to_date; then
    say "up to date ($out, $(elapsed "$started") s)"
    exit 0
fi

ensure_apt "${packages[@]}"
mkdir -p "$out"
exec 9>"$out/.setup.lock"
flock 9 # two setups at once: the second waits, then finds the template up to date
if up_to_date; then
    say "up to date ($out, built by a concurrent setup, $(elapsed "$started") s)"
    exit 0
fi

# --- PKI: an EC P-256 CA, a v3 server cert with SANs (rustls needs both), and an unrelated CA ----------------
t=$(now)
pki="$out/pki"
rm -rf "$pki" "$pki.build"
mkdir -p "$pki.build"
(
    cd "$pki.build"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
        -keyout ca.key -out ca.pem -subj '/CN=wsdr test CA' 2>/dev/null
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
        -keyout other-ca.key -out other-ca.pem -subj '/CN=wsdr unrelated test CA' 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout dc.key -out dc.csr -subj '/CN=dc1.corp.example.com' 2>/dev/null
    cat >dc.ext <<'EXT'
subjectAltName=DNS:localhost,DNS:dc1.corp.example.com,IP:127.0.0.1
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
    openssl x509 -req -in dc.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
        -extfile dc.ext -out dc.pem 2>/dev/null
    openssl verify -CAfile ca.pem dc.pem >/dev/null
    chmod 600 dc.key ca.key other-ca.key # samba refuses a key file readable by others
    chmod 644 ca.pem other-ca.pem dc.pem
)
mv "$pki.build" "$pki"
say "made the PKI in $(elapsed "$t") s ($pki)"

# --- Provision ------------------------------------------------------------------------------------------------
t=$(now)
build="$out/template.build"
rm -rf "$build" "$out/template" "$out/stamp"
mkdir -p "$build"
: >"$out/empty-smb.conf"
if ! samba-tool domain provision --realm="$SAMBA_REALM" --domain="$SAMBA_DOMAIN" --server-role=dc \
    --dns-backend=NONE --use-rfc2307 --host-name=dc1 --targetdir="$build" -s "$out/empty-smb.conf" \
    --adminpass="$ADMIN_PASSWORD" >"$out/provision.log" 2>&1; then
    tail -n 30 "$out/provision.log" >&2
    say "samba-tool domain provision failed (log: $out/provision.log)" >&2
    exit 1
fi
say "provisioned $SAMBA_REALM in $(elapsed "$t") s"

write_smb_conf "$build" "$pki"
conf="$build/etc/smb.conf"

# --- Seed offline ---------------------------------------------------------------------------------------------
t=$(now)
user_entry() { # CN OU_DN UAC
    printf 'dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s@corp.example.com\nuserAccountControl: %s\n\n' \
        "$1" "$2" "$1" "$1" "$3"
}
ou_entry() { printf 'dn: %s\nobjectClass: organizationalUnit\n\n' "$1"; }
{
    ou="OU=Paging,$SAMBA_DOMAIN_DN"
    ou_entry "$ou"
    for i in $(seq -w 1 300); do user_entry "pg$i" "$ou" 544; done
    for i in $(seq -w 1 20); do user_entry "pgoff$i" "$ou" 546; done
    for n in 1 2 3 4; do
        ou="OU=Spare$n,$SAMBA_DOMAIN_DN"
        ou_entry "$ou"
        for x in a b c; do user_entry "s$n$x" "$ou" 544; done
    done
} >"$build/generated.ldif"
ldbadd -H "$build/private/sam.ldb" "$here/fixture.ldif" >/dev/null
ldbadd -H "$build/private/sam.ldb" "$build/generated.ldif" >/dev/null
rm "$build/generated.ldif"
# Passwords never expire (the template may be older than the default 42 days); svc-wsdr needs a real
# password: samba-tool sets it offline (unicodePwd through ldbadd does not give a working password).
samba-tool domain passwordsettings set --max-pwd-age=0 -s "$conf" >/dev/null
samba-tool user create "$SERVICE_USER" "$SERVICE_PASSWORD" --userou='CN=Users' -s "$conf" >/dev/null
samba-tool user setexpiry "$SERVICE_USER" --noexpiry -s "$conf" >/dev/null
count() { ldbsearch -H "$build/private/sam.ldb" -b "$1" "$2" dn 2>/dev/null | grep -c '^dn: ' || true; }
enabled='(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))'
n_paging=$(count "OU=Paging,$SAMBA_DOMAIN_DN" "$enabled")
n_dr=$(count "OU=DR Users,$SAMBA_DOMAIN_DN" "$enabled")
if [[ "$n_paging" != 300 || "$n_dr" != 4 ]]; then
    say "seeding went wrong: $n_paging enabled users in OU=Paging (want 300), $n_dr in OU=DR Users (want 4)" >&2
    exit 1
fi
say "seeded the fixture in $(elapsed "$t") s"

mv "$build" "$out/template"
wanted_stamp >"$out/stamp"
say "built $out/template in $(elapsed "$started") s"
