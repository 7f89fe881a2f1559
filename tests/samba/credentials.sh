# The test DC's names and passwords: the one place they are defined (sourced by setup.sh and run-dc.sh;
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
