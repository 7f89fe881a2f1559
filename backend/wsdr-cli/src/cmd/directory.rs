//! The directory users source from the command line: `ldaps://…` plus `--ldap-*` flags → a
//! [`DirectorySource`], its password from a file, Secrets Manager or `WSDR_LDAP_PASSWORD`.

use std::time::Duration;

use wsdr_aws::secrets::SecretsApi;
use wsdr_ldap::{CaBundle, DirectoryError, DirectoryRead, DirectorySource, DirectoryUrl, Password};

use super::aws;
use crate::cli::DirectoryArgs;
use crate::failure::Failure;

/// The environment variable holding the password when no file or secret is named.
const PASSWORD_VARIABLE: &str = "WSDR_LDAP_PASSWORD";

/// Everything needed to read `url`, from the flags (the password from Secrets Manager needs AWS, hence async;
/// `region` overrides the AWS environment's for it).
pub(super) async fn source(
    url: &DirectoryUrl,
    args: &DirectoryArgs,
    region: Option<String>,
) -> Result<DirectorySource, Failure> {
    let bind_dn = args.ldap_bind_dn.clone().ok_or_else(|| {
        Failure::BadInput(format!(
            "{url}: no service account: pass --ldap-bind-dn (or set WSDR_LDAP_BIND_DN), e.g. svc-wsdr@corp.example.com"
        ))
    })?;
    let password = password(args, region).await?;
    let ca = match &args.ldap_ca {
        None => CaBundle::System,
        Some(path) => CaBundle::Pem {
            source: path.display().to_string(),
            pem: std::fs::read(path).map_err(|error| {
                Failure::BadInput(format!(
                    "{}: cannot read the CA bundle (--ldap-ca): {error}",
                    path.display()
                ))
            })?,
        },
    };
    Ok(DirectorySource {
        url: url.clone(),
        bind_dn,
        password,
        ca,
        timeout: Duration::from_secs(args.ldap_timeout),
        page_size: args.ldap_page_size,
    })
}

async fn password(args: &DirectoryArgs, region: Option<String>) -> Result<Password, Failure> {
    if let Some(path) = &args.ldap_password_file {
        let text = std::fs::read_to_string(path).map_err(|error| {
            Failure::BadInput(format!("{}: cannot read the password file: {error}", path.display()))
        })?;
        return Ok(Password::new(text.lines().next().unwrap_or_default()));
    }
    if let Some(secret) = &args.ldap_password_secret {
        let clients = aws::clients(region).await?;
        return SecretsApi::new(clients.secrets).password(secret).await.map_err(aws::failure);
    }
    match std::env::var(PASSWORD_VARIABLE) {
        Ok(password) => Ok(Password::new(password)),
        Err(_) => Err(Failure::BadInput(format!(
            "no password for the service account: pass --ldap-password-file or --ldap-password-secret, or set {PASSWORD_VARIABLE}"
        ))),
    }
}

/// Reads the directory at `url` for a command that is otherwise synchronous (`users`, `plan`); a failure is
/// unusable input (exit 2), its message naming the source and the step.
pub(super) fn read(url: &DirectoryUrl, args: &DirectoryArgs) -> Result<DirectoryRead, Failure> {
    aws::block_on(async {
        let source = source(url, args, None).await?;
        wsdr_ldap::read_users(&source)
            .await
            .map_err(|error: DirectoryError| Failure::BadInput(error.to_string()))
    })?
}
