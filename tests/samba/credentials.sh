# The test DC's names, passwords and smb.conf: the one place they are defined (sourced by setup.sh and run-dc.sh;
# harness.rs holds the same values as constants and checks them against this file at start-up).
# Both passwords pass Samba's default complexity rule (3 of upper/lower/digit/symbol, no account name).
SAMBA_REALM='CORP.EXAMPLE.COM'
SAMBA_DOMAIN='CORP'
SAMBA_DOMAIN_DN='DC=corp,DC=example,DC=com'
SERVICE_USER='svc-wsdr'
SERVICE_UPN='svc-wsdr@corp.example.com'
SERVICE_PASSWORD='Svc-Bind-Pa55word.1'
ADMIN_UPN='Administrator@corp.example.com'
ADMIN_PASSWORD='Dc-Root-Pa55word.1'

# The DC's smb.conf, absolute paths into DIR: setup.sh writes it into the template, run-dc.sh into each run copy.
write_smb_conf() { # DIR PKI_DIR
    cat >"$1/etc/smb.conf" <<CONF
[global]
	netbios name = DC1
	realm = $SAMBA_REALM
	workgroup = $SAMBA_DOMAIN
	server role = active directory domain controller
	server services = ldap
	interfaces = lo
	bind interfaces only = yes
	binddns dir = $1/bind-dns
	cache directory = $1/cache
	lock directory = $1
	private dir = $1/private
	state directory = $1/state
	pid directory = $1
	log file = $1/samba.log
	idmap_ldb:use rfc2307 = yes
	tls enabled = yes
	tls keyfile = $2/dc.key
	tls certfile = $2/dc.pem
	tls cafile =
CONF
}
