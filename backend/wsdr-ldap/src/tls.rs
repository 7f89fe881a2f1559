//! TLS to the DC: rustls on the AWS SDK's crypto provider (aws-lc-rs), the server certificate always verified
//! against the system's roots or a CA bundle the admin gives (an enterprise CA, as AD CS issues DC certificates).

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The certificate authorities the DC's certificate must chain to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaBundle {
    /// The operating system's trusted roots.
    System,
    /// PEM certificates (one or more), e.g. the AD CS root.
    Pem {
        /// Where they came from (a path, an `s3://` location), for messages.
        source: String,
        /// The PEM text.
        pem: Vec<u8>,
    },
}

/// Why the trusted roots could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TlsSetupError {
    /// The bundle holds no usable certificate.
    #[error("{bundle}: no CA certificate in it ({reason})")]
    NoCertificate {
        /// Where the bundle came from.
        bundle: String,
        /// What was wrong.
        reason: String,
    },
    /// The system has no trusted roots to offer.
    #[error("the system's trusted roots could not be loaded ({0}): give a CA bundle")]
    NoSystemRoots(String),
    /// The crypto provider cannot do TLS 1.2 or 1.3 (a build problem).
    #[error("the TLS provider is unusable: {0}")]
    Provider(String),
}

/// A client configuration trusting exactly `bundle`.
pub fn client_config(bundle: &CaBundle) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    match bundle {
        CaBundle::System => {
            let loaded = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(loaded.certs);
            if added == 0 {
                let reason = loaded
                    .errors
                    .first()
                    .map_or_else(|| "none found".to_owned(), ToString::to_string);
                return Err(TlsSetupError::NoSystemRoots(reason));
            }
        }
        CaBundle::Pem { source, pem } => {
            let no_certificate =
                |reason: String| TlsSetupError::NoCertificate { bundle: source.clone(), reason };
            for certificate in CertificateDer::pem_slice_iter(pem) {
                let certificate = certificate.map_err(|error| no_certificate(error.to_string()))?;
                roots.add(certificate).map_err(|error| no_certificate(error.to_string()))?;
            }
            if roots.is_empty() {
                return Err(no_certificate("no BEGIN CERTIFICATE block".to_owned()));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsSetupError::Provider(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_without_certificates_is_refused_naming_it() {
        let bundle =
            CaBundle::Pem { source: "ca.pem".into(), pem: b"not a certificate\n".to_vec() };
        assert_eq!(
            client_config(&bundle).unwrap_err().to_string(),
            "ca.pem: no CA certificate in it (no BEGIN CERTIFICATE block)"
        );
        let garbage = CaBundle::Pem {
            source: "bad.pem".into(),
            pem: b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
        };
        assert!(
            client_config(&garbage)
                .unwrap_err()
                .to_string()
                .starts_with("bad.pem: no CA certificate in it (")
        );
    }
}
