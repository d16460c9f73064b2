//! `sslmode` as libpq (and so dbt-postgres, through psycopg2) means it, on rustls.
//!
//! | mode          | TLS                              | certificate checked             |
//! |---------------|----------------------------------|---------------------------------|
//! | `disable`     | never                            | —                               |
//! | `allow`       | only if the plain login fails    | no                              |
//! | `prefer`      | if the server offers it (default)| no                              |
//! | `require`     | always                           | no, unless `sslrootcert` is set |
//! | `verify-ca`   | always                           | chain, not the host name        |
//! | `verify-full` | always                           | chain and host name             |
//!
//! Certificates are checked against `sslrootcert` (a PEM file) when given, else against
//! the Mozilla roots bundled with webpki-roots (libpq would read ~/.postgresql/root.crt).
//! `sslcert` / `sslkey` give a client certificate.

use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

/// One of libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// libpq's spelling; `None` (not set) is libpq's default, `prefer`.
    pub(crate) fn parse(text: Option<&str>) -> Result<Self, String> {
        Ok(match text.map(str::trim) {
            None | Some("") | Some("prefer") => SslMode::Prefer,
            Some("disable") => SslMode::Disable,
            Some("allow") => SslMode::Allow,
            Some("require") => SslMode::Require,
            Some("verify-ca") => SslMode::VerifyCa,
            Some("verify-full") => SslMode::VerifyFull,
            Some(other) => {
                return Err(format!(
                    "sslmode '{other}' is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ));
            }
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// What the driver is told for the first attempt (`allow` starts without TLS).
    pub(crate) fn driver_mode(self) -> postgres::config::SslMode {
        use postgres::config::SslMode as Driver;
        match self {
            SslMode::Disable | SslMode::Allow => Driver::Disable,
            SslMode::Prefer => Driver::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Driver::Require,
        }
    }

    /// Whether a TLS connector is needed at all.
    pub(crate) fn uses_tls(self) -> bool {
        self != SslMode::Disable
    }
}

/// Certificate files named in the profile.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsFiles {
    pub root_cert: Option<String>,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
}

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verification {
    None,
    Chain,
    ChainAndHost,
}

/// The connector for `mode`; the error text names the file or setting concerned.
pub(crate) fn connector(mode: SslMode, files: &TlsFiles) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verification = match mode {
        // libpq: `require` with a root certificate file behaves as verify-ca.
        SslMode::Require if files.root_cert.is_some() => Verification::Chain,
        SslMode::VerifyCa => Verification::Chain,
        SslMode::VerifyFull => Verification::ChainAndHost,
        _ => Verification::None,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match verification {
        Verification::None => Arc::new(NoVerification(Arc::clone(&provider))),
        checked => {
            let roots = Arc::new(root_store(files.root_cert.as_deref())?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
                .build()
                .map_err(|e| format!("cannot check server certificates: {e}"))?;
            if checked == Verification::ChainAndHost {
                webpki
            } else {
                Arc::new(ChainOnly(webpki))
            }
        }
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&files.client_cert, &files.client_key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(read_certs(cert, "sslcert")?, read_key(key)?)
            .map_err(|e| format!("sslcert '{cert}' and sslkey '{key}' do not fit: {e}"))?,
        (None, None) => builder.with_no_client_auth(),
        _ => return Err("'sslcert' and 'sslkey' must be given together".to_string()),
    };
    Ok(MakeRustlsConnect::new(config))
}

fn root_store(path: Option<&str>) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match path {
        Some(path) => {
            for cert in read_certs(path, "sslrootcert")? {
                store
                    .add(cert)
                    .map_err(|e| format!("sslrootcert '{path}': {e}"))?;
            }
        }
        None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(store)
}

fn read_certs(path: &str, key: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(Path::new(path))
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read {key} '{path}': {e}"))?;
    if certs.is_empty() {
        return Err(format!("{key} '{path}' holds no PEM certificate"));
    }
    Ok(certs)
}

fn read_key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(Path::new(path))
        .map_err(|e| format!("cannot read sslkey '{path}': {e}"))
}

/// `prefer` / `require`: encryption without authentication of the server, as in libpq.
/// Handshake signatures are still verified so the session keys are sound.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the host name is not compared.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_as_libpq_spells_them() {
        let cases = [
            (None, SslMode::Prefer),
            (Some("disable"), SslMode::Disable),
            (Some("allow"), SslMode::Allow),
            (Some("prefer"), SslMode::Prefer),
            (Some("require"), SslMode::Require),
            (Some(" verify-ca "), SslMode::VerifyCa),
            (Some("verify-full"), SslMode::VerifyFull),
        ];
        for (text, mode) in cases {
            assert_eq!(SslMode::parse(text), Ok(mode), "{text:?}");
            if let Some(t) = text {
                assert_eq!(mode.as_str(), t.trim());
            }
        }
        let err = SslMode::parse(Some("required")).err().unwrap_or_default();
        assert!(err.contains("sslmode 'required' is not one of"), "{err}");
    }

    #[test]
    fn driver_modes_follow_libpq() {
        use postgres::config::SslMode as Driver;
        assert_eq!(SslMode::Disable.driver_mode(), Driver::Disable);
        assert_eq!(SslMode::Allow.driver_mode(), Driver::Disable);
        assert_eq!(SslMode::Prefer.driver_mode(), Driver::Prefer);
        assert_eq!(SslMode::VerifyFull.driver_mode(), Driver::Require);
        assert!(!SslMode::Disable.uses_tls());
        assert!(SslMode::Allow.uses_tls());
    }

    #[test]
    fn connectors_build_for_every_mode() {
        for mode in [
            SslMode::Allow,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ] {
            assert!(
                connector(mode, &TlsFiles::default()).is_ok(),
                "{}",
                mode.as_str()
            );
        }
    }

    #[test]
    fn missing_or_unpaired_files_are_named() {
        let files = TlsFiles {
            root_cert: Some("/nonexistent/root.crt".into()),
            ..TlsFiles::default()
        };
        let err = connector(SslMode::VerifyCa, &files)
            .err()
            .unwrap_or_default();
        assert!(
            err.contains("cannot read sslrootcert '/nonexistent/root.crt'"),
            "{err}"
        );
        let files = TlsFiles {
            client_cert: Some("client.crt".into()),
            ..TlsFiles::default()
        };
        let err = connector(SslMode::Require, &files)
            .err()
            .unwrap_or_default();
        assert_eq!(err, "'sslcert' and 'sslkey' must be given together");
    }
}
