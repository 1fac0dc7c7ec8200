//! HTTPS over rustls: the network [`Transport`] (issue 3, "Transports"),
//! next to [`super::transport::LocalDirTransport`] for removable media.
//!
//! Built on `ureq` 3 (blocking, no async runtime) with its
//! `rustls-no-provider` feature: dha hands it the `ring` crypto provider
//! (DESIGN.md "Keys": no aws-lc, no native-tls) and a root store made only
//! of the configured CA bundle, so neither the operating system's roots nor
//! Mozilla's (webpki-roots, not even compiled in) can vouch for a server.
//!
//! What it promises, and what it leaves to the client:
//! - plain `http://` is refused unless [`HttpsConfig::allow_insecure_http`]
//!   says otherwise (test rigs); TUF verifies every byte in any case, but a
//!   device should not advertise what it fetches;
//! - HTTP 404 is [`TufError::NotFound`], so "no newer root" (TUF 1.0.34
//!   §5.3.3) is not mistaken for a failure; any other status but 200 is
//!   [`TufError::HttpStatus`];
//! - redirects are not followed at all (a 3xx is an error naming the URL and
//!   status): a repository has one base URL in the configuration, and a
//!   mirror that sends the device elsewhere is a configuration problem to
//!   surface, not to paper over;
//! - proxies from the environment (`HTTPS_PROXY`, …) are ignored: the device
//!   talks to the configured host only;
//! - the body is bounded by `max_len`: a `Content-Length` above it is
//!   refused before reading, a body that runs past it fails while reading
//!   ([`TufError::TooLarge`]), and one that ends before its
//!   `Content-Length` fails too. Callers still read through
//!   [`super::transport::fetch_limited`] (TUF 1.0.34 §5.3.3, §5.4.1,
//!   §5.5.1, §5.6.1: downloads bounded by a length or a fixed upper bound);
//! - timeouts: connecting, each read (a stalled server), and the whole
//!   request including the body (a server that drips), with defaults below.

use std::fmt;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ureq::Agent;
use ureq::http::Uri;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};

use super::TufError;
use super::transport::Transport;

/// Default time to set up a connection (TCP and TLS handshake).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time any single read may wait for data (headers or body).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time for a whole request, body included. Generous enough for a
/// large target over a slow hospital link; lower it for metadata-only use.
pub const DEFAULT_OVERALL_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Where the trust roots for HTTPS come from. They are the only roots: no
/// system or webpki roots are ever added.
#[derive(Clone, PartialEq, Eq)]
pub enum CaBundle {
    /// A PEM file holding one or more `CERTIFICATE` blocks.
    PemFile(PathBuf),
    /// PEM text holding one or more `CERTIFICATE` blocks.
    Pem(Vec<u8>),
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaBundle::PemFile(p) => f.debug_tuple("PemFile").field(p).finish(),
            CaBundle::Pem(b) => write!(f, "Pem({} bytes)", b.len()),
        }
    }
}

/// How to reach a repository over HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpsConfig {
    /// The repository base, e.g. `https://updates.example/metadata`; paths
    /// are appended after a `/`. No query or fragment.
    pub base_url: String,
    /// The trust roots; required for `https://`. May be `None` only for an
    /// `http://` base with [`HttpsConfig::allow_insecure_http`].
    pub ca_bundle: Option<CaBundle>,
    /// Time to set up a connection ([`DEFAULT_CONNECT_TIMEOUT`]).
    pub connect_timeout: Duration,
    /// Time any single read may wait ([`DEFAULT_READ_TIMEOUT`]); also bounds
    /// the wait for the response headers.
    pub read_timeout: Duration,
    /// Time for a whole request, body included ([`DEFAULT_OVERALL_TIMEOUT`]).
    pub overall_timeout: Duration,
    /// Accept a plain `http://` base URL. For test rigs only: off by default.
    pub allow_insecure_http: bool,
}

impl HttpsConfig {
    /// A configuration with the safe defaults: the given base URL and CA
    /// bundle, default timeouts, `http://` refused.
    pub fn new(base_url: &str, ca_bundle: CaBundle) -> Self {
        HttpsConfig {
            base_url: base_url.to_owned(),
            ca_bundle: Some(ca_bundle),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            overall_timeout: DEFAULT_OVERALL_TIMEOUT,
            allow_insecure_http: false,
        }
    }

    /// A configuration for a plain `http://` test rig (no CA bundle,
    /// `allow_insecure_http` set), default timeouts otherwise.
    pub fn insecure_http_for_test_rigs(base_url: &str) -> Self {
        HttpsConfig {
            base_url: base_url.to_owned(),
            ca_bundle: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            overall_timeout: DEFAULT_OVERALL_TIMEOUT,
            allow_insecure_http: true,
        }
    }
}

/// A repository reached over HTTPS (see the module documentation).
pub struct HttpsTransport {
    agent: Agent,
    /// The base URL without a trailing `/`.
    base: String,
}

impl fmt::Debug for HttpsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsTransport")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl HttpsTransport {
    /// Checks the configuration, loads the CA bundle and builds the client.
    pub fn new(config: &HttpsConfig) -> Result<Self, TufError> {
        let base = check_base_url(&config.base_url, config.allow_insecure_http)?;
        let roots = match &config.ca_bundle {
            Some(bundle) => load_ca_bundle(bundle)?,
            None if base.starts_with("http://") => Vec::new(),
            None => {
                return Err(TufError::Io {
                    path: base,
                    message: "no CA bundle configured for https (no other roots are trusted)"
                        .to_owned(),
                });
            }
        };
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .root_certs(RootCerts::Specific(Arc::new(roots)))
            .build();
        let agent_config = Agent::config_builder()
            .tls_config(tls)
            .https_only(!config.allow_insecure_http)
            .proxy(None)
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(concat!("dha/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(config.connect_timeout))
            .timeout_per_read(Some(config.read_timeout))
            .timeout_recv_response(Some(config.read_timeout))
            .timeout_global(Some(config.overall_timeout))
            .build();
        Ok(HttpsTransport {
            agent: Agent::new_with_config(agent_config),
            base,
        })
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The URL `path` is fetched from.
    pub fn url_for(&self, path: &str) -> Result<String, TufError> {
        Ok(format!("{}/{}", self.base, encode_path(path)?))
    }
}

impl Transport for HttpsTransport {
    fn fetch(&self, path: &str, max_len: u64) -> Result<Box<dyn Read + '_>, TufError> {
        let url = self.url_for(path)?;
        let response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| describe(&e, &url))?;
        match response.status().as_u16() {
            200 => {}
            404 => {
                return Err(TufError::NotFound {
                    path: path.to_owned(),
                });
            }
            status => return Err(TufError::HttpStatus { url, status }),
        }
        let body = response.into_body();
        if body.content_length().is_some_and(|n| n > max_len) {
            return Err(TufError::TooLarge {
                path: path.to_owned(),
                limit: max_len,
            });
        }
        let reader = body.into_with_config().limit(max_len).reader();
        Ok(Box::new(HttpsBody {
            inner: reader,
            url,
            path: path.to_owned(),
            limit: max_len,
        }))
    }
}

/// The response body, with ureq's errors turned into [`TufError`]s (carried
/// inside [`io::Error`], see [`super::transport::io_error_to_tuf`]).
struct HttpsBody {
    inner: ureq::BodyReader<'static>,
    url: String,
    path: String,
    limit: u64,
}

impl Read for HttpsBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let tuf = match e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
                Some(ureq::Error::BodyExceedsLimit(_)) => TufError::TooLarge {
                    path: self.path.clone(),
                    limit: self.limit,
                },
                Some(inner) => describe(inner, &self.url),
                None if e.kind() == io::ErrorKind::UnexpectedEof => TufError::Io {
                    path: self.url.clone(),
                    message: "connection closed before the end of the body (truncated response)"
                        .to_owned(),
                },
                None => TufError::Io {
                    path: self.url.clone(),
                    message: e.to_string(),
                },
            };
            io::Error::other(tuf)
        })
    }
}

/// Maps a failed request or body read to a [`TufError`] naming the URL.
fn describe(err: &ureq::Error, url: &str) -> TufError {
    if let Some(cert) = certificate_problem(err) {
        return TufError::Certificate {
            url: url.to_owned(),
            message: cert,
        };
    }
    let message = match err {
        ureq::Error::Timeout(which) => format!("timed out ({which})"),
        ureq::Error::RequireHttpsOnly(_) => "plain http:// refused".to_owned(),
        other => other.to_string(),
    };
    TufError::Io {
        path: url.to_owned(),
        message,
    }
}

/// The rustls certificate error inside `err`, if that is what it is.
fn certificate_problem(err: &ureq::Error) -> Option<String> {
    let tls = match err {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(io) => io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()),
        _ => None,
    }?;
    match tls {
        rustls::Error::InvalidCertificate(_) => Some(tls.to_string()),
        rustls::Error::NoCertificatesPresented => Some("no certificate presented".to_owned()),
        _ => None,
    }
}

/// Checks the scheme (https, or http when allowed), that there is a host,
/// and that there is no query or fragment; returns the base without a
/// trailing `/`.
fn check_base_url(base_url: &str, allow_insecure_http: bool) -> Result<String, TufError> {
    let bad = |message: &str| TufError::Io {
        path: base_url.to_owned(),
        message: message.to_owned(),
    };
    let uri: Uri = base_url
        .parse()
        .map_err(|e| bad(&format!("not a valid URL: {e}")))?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if allow_insecure_http => {}
        Some("http") => {
            return Err(bad(
                "plain http:// refused (set allow_insecure_http = true for test rigs only)",
            ));
        }
        _ => return Err(bad("the URL must start with https://")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("no host in the URL"));
    }
    if uri.query().is_some() || base_url.contains('#') {
        return Err(bad("a base URL has no query or fragment"));
    }
    // Normalise the scheme to lower case so that the prefix checks hold.
    let rest = base_url
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| bad("no scheme"))?;
    let scheme = uri.scheme_str().unwrap_or("https");
    Ok(format!("{scheme}://{}", rest.trim_end_matches('/')))
}

/// Largest CA bundle file read (a whole system bundle is about 200 KiB).
const MAX_CA_BUNDLE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a CA bundle file, refusing one over [`MAX_CA_BUNDLE_BYTES`].
fn read_ca_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_CA_BUNDLE_BYTES.saturating_add(1))
        .read_to_end(&mut out)?;
    if u64::try_from(out.len()).unwrap_or(u64::MAX) > MAX_CA_BUNDLE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_CA_BUNDLE_BYTES} bytes"
        )));
    }
    Ok(out)
}

/// Reads the CA bundle: at least one certificate, each usable as a trust
/// anchor (rustls would otherwise drop it silently).
fn load_ca_bundle(bundle: &CaBundle) -> Result<Vec<Certificate<'static>>, TufError> {
    let (name, owned);
    let pem: &[u8] = match bundle {
        CaBundle::PemFile(p) => {
            name = p.display().to_string();
            owned = read_ca_file(p).map_err(|e| TufError::Io {
                path: name.clone(),
                message: e.to_string(),
            })?;
            &owned
        }
        CaBundle::Pem(bytes) => {
            name = "CA bundle".to_owned();
            bytes
        }
    };
    let bad = |message: String| TufError::Io {
        path: name.clone(),
        message,
    };
    let mut certs = Vec::new();
    let mut check = rustls::RootCertStore::empty();
    for item in ureq::tls::parse_pem(pem) {
        match item.map_err(|e| bad(format!("bad PEM: {e}")))? {
            PemItem::Certificate(cert) => {
                check
                    .add(rustls::pki_types::CertificateDer::from(cert.der()))
                    .map_err(|e| bad(format!("certificate {}: {e}", certs.len())))?;
                certs.push(cert);
            }
            // A private key has no place in a trust bundle.
            _ => return Err(bad("a private key in the CA bundle".to_owned())),
        }
    }
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE in the CA bundle".to_owned()));
    }
    Ok(certs)
}

/// Makes a repository path URL-safe without double-encoding it.
///
/// Unreserved characters (RFC 3986 §2.3) and `/` pass; `%` followed by two
/// hex digits is taken as already encoded (the store percent-encodes
/// delegated role names); every other byte is percent-encoded. Empty,
/// absolute and `.`/`..` paths or components, and control characters, are
/// refused, as [`super::transport::LocalDirTransport`] refuses them.
pub fn encode_path(path: &str) -> Result<String, TufError> {
    let unsafe_name = |reason: &str| TufError::UnsafeName {
        name: path.to_owned(),
        reason: reason.to_owned(),
    };
    if path.is_empty() {
        return Err(unsafe_name("empty path"));
    }
    if path.starts_with('/') {
        return Err(unsafe_name("absolute path"));
    }
    for part in path.split('/') {
        let decoded_dots = part.to_ascii_lowercase().replace("%2e", ".");
        match decoded_dots.as_str() {
            "" => return Err(unsafe_name("empty path component")),
            "." | ".." => return Err(unsafe_name("'.' or '..' component")),
            _ => {}
        }
    }
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        let encoded = b == b'%'
            && bytes
                .get(i.saturating_add(1)..i.saturating_add(3))
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
        if b.is_ascii_control() {
            return Err(unsafe_name("control character"));
        } else if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) || encoded {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! Real TLS against a throw-away CA, on 127.0.0.1 only: each test runs a
    //! tiny HTTP/1.1 responder (rustls `ServerConnection` over a
    //! `TcpListener` bound to 127.0.0.1:0) in a thread that is stopped and
    //! joined when the test's [`Server`] is dropped.

    use super::*;
    use crate::tuf::transport::{fetch_bytes, io_error_to_tuf};
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use std::io::Write;
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread::JoinHandle;

    /// A throw-away CA and a server certificate it issued for 127.0.0.1
    /// and localhost.
    struct Pki {
        ca_pem: String,
        server: Arc<rustls::ServerConfig>,
    }

    fn throwaway_pki_named(ca_name: &str) -> Pki {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &*ca)
            .unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
        Pki {
            ca_pem: ca.pem(),
            server: Arc::new(server),
        }
    }

    fn throwaway_pki() -> Pki {
        throwaway_pki_named("dha throw-away test CA")
    }

    /// What the responder does for a request path.
    enum Reply {
        /// Write these bytes (status line, headers, body) and close.
        Raw(Vec<u8>),
        /// Write these bytes, then send nothing more until the test ends.
        Stall(Vec<u8>),
        /// A 200 with a chunked body of `total` bytes.
        Chunked(usize),
        /// A 200 with neither length nor chunking: `total` bytes, then close.
        CloseDelimited(usize),
    }

    fn ok(body: &[u8]) -> Reply {
        let mut r = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        Reply::Raw(r)
    }

    fn status(code: u16, extra: &str) -> Reply {
        Reply::Raw(
            format!("HTTP/1.1 {code} X\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n")
                .into_bytes(),
        )
    }

    fn routes(path: &str) -> Reply {
        match path {
            "/repo/root.json" => ok(b"{\"signed\":{}}"),
            "/repo/exact.json" => ok(&[b'x'; 100]),
            "/repo/truncated.json" => Reply::Raw(
                b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n0123456789"
                    .to_vec(),
            ),
            "/repo/big-length.json" => ok(&[b'x'; 5000]),
            "/repo/endless-chunked.json" => Reply::Chunked(64 * 1024),
            "/repo/endless-close.json" => Reply::CloseDelimited(64 * 1024),
            "/repo/small-chunked.json" => Reply::Chunked(50),
            "/repo/error.json" => status(500, ""),
            "/repo/moved.json" => status(302, "Location: https://127.0.0.1:1/repo/root.json\r\n"),
            "/repo/stall-headers.json" => Reply::Stall(Vec::new()),
            "/repo/stall-body.json" => Reply::Stall(
                b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n0123456789"
                    .to_vec(),
            ),
            p if p.starts_with("/repo/echo/") => ok(p.as_bytes()),
            _ => status(404, ""),
        }
    }

    struct Server {
        addr: SocketAddr,
        stop: Arc<AtomicBool>,
        thread: Option<JoinHandle<()>>,
    }

    impl Server {
        /// Serves [`routes`] on 127.0.0.1, over TLS when `tls` is given.
        fn start(tls: Option<Arc<rustls::ServerConfig>>) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            let thread = std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if flag.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(tcp) = conn else { continue };
                    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                    let _ = tcp.set_write_timeout(Some(Duration::from_secs(5)));
                    match &tls {
                        Some(config) => {
                            let Ok(conn) = rustls::ServerConnection::new(Arc::clone(config)) else {
                                continue;
                            };
                            let mut stream = rustls::StreamOwned::new(conn, tcp);
                            if serve(&mut stream, &flag) {
                                // A clean TLS end, so that a short body is
                                // caught by its Content-Length, not by a
                                // missing close_notify.
                                stream.conn.send_close_notify();
                                let _ = stream.flush();
                            }
                        }
                        None => {
                            let mut tcp = tcp;
                            serve(&mut tcp, &flag);
                        }
                    }
                }
            });
            Server {
                addr,
                stop,
                thread: Some(thread),
            }
        }

        fn url(&self, scheme: &str) -> String {
            format!("{scheme}://{}/repo", self.addr)
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            // Wake the accept loop (our own listener on 127.0.0.1).
            let _ = TcpStream::connect(self.addr);
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }

    /// Answers one request; false if the connection failed (e.g. the client
    /// refused our certificate).
    fn serve<S: Read + Write>(s: &mut S, stop: &AtomicBool) -> bool {
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return false,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
            if req.len() > 16_384 {
                return false;
            }
        }
        let text = String::from_utf8_lossy(&req);
        let path = text.split(' ').nth(1).unwrap_or("").to_owned();
        let written = match routes(&path) {
            Reply::Raw(bytes) => s.write_all(&bytes),
            Reply::Stall(prefix) => {
                let _ = s.write_all(&prefix).and_then(|()| s.flush());
                while !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return false;
            }
            Reply::Chunked(total) => (|| {
                s.write_all(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                )?;
                let mut left = total;
                while left > 0 {
                    let n = left.min(1000);
                    s.write_all(format!("{n:x}\r\n").as_bytes())?;
                    s.write_all(&vec![b'y'; n])?;
                    s.write_all(b"\r\n")?;
                    left -= n;
                }
                s.write_all(b"0\r\n\r\n")
            })(),
            Reply::CloseDelimited(total) => s
                .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                .and_then(|()| s.write_all(&vec![b'z'; total])),
        };
        written.and_then(|()| s.flush()).is_ok()
    }

    fn client(server: &Server, pki: &Pki) -> HttpsTransport {
        let mut config = HttpsConfig::new(
            &server.url("https"),
            CaBundle::Pem(pki.ca_pem.clone().into_bytes()),
        );
        config.overall_timeout = Duration::from_secs(20);
        HttpsTransport::new(&config).unwrap()
    }

    fn read_all(t: &HttpsTransport, path: &str, max_len: u64) -> Result<Vec<u8>, TufError> {
        let mut r = t.fetch(path, max_len)?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)
            .map_err(|e| io_error_to_tuf(e, path))?;
        Ok(out)
    }

    #[test]
    fn fetches_with_the_right_ca() {
        let pki = throwaway_pki();
        let server = Server::start(Some(Arc::clone(&pki.server)));
        let t = client(&server, &pki);
        assert_eq!(read_all(&t, "root.json", 1000).unwrap(), b"{\"signed\":{}}");
        assert_eq!(
            fetch_bytes(&t, "root.json", 1000).unwrap(),
            b"{\"signed\":{}}"
        );
        // Exactly the bound is fine, also through the caller's limiter.
        assert_eq!(fetch_bytes(&t, "exact.json", 100).unwrap(), [b'x'; 100]);
        assert_eq!(read_all(&t, "small-chunked.json", 50).unwrap(), [b'y'; 50]);
    }

    #[test]
    fn a_ca_bundle_from_a_file_and_a_trailing_slash_work() {
        let pki = throwaway_pki();
        let server = Server::start(Some(Arc::clone(&pki.server)));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, &pki.ca_pem).unwrap();
        let config = HttpsConfig::new(
            &format!("{}/", server.url("https")),
            CaBundle::PemFile(file),
        );
        let t = HttpsTransport::new(&config).unwrap();
        assert_eq!(t.base_url(), server.url("https"));
        assert_eq!(read_all(&t, "root.json", 1000).unwrap(), b"{\"signed\":{}}");
    }

    #[test]
    fn an_unknown_ca_is_a_certificate_error() {
        let pki = throwaway_pki();
        // Another CA under the same name (the signature does not check) and
        // under another name (no issuer known at all).
        for other in [
            throwaway_pki(),
            throwaway_pki_named("another throw-away CA"),
        ] {
            let server = Server::start(Some(Arc::clone(&pki.server)));
            let t = client(&server, &other);
            let err = read_all(&t, "root.json", 1000).unwrap_err();
            let url = format!("{}/root.json", server.url("https"));
            assert!(
                matches!(&err, TufError::Certificate { url: u, .. } if *u == url),
                "{err:?}"
            );
            let text = err.to_string();
            assert!(
                text.contains("certificate") && text.contains(&url),
                "{text}"
            );
        }
    }

    #[test]
    fn a_truncated_response_fails() {
        let pki = throwaway_pki();
        let server = Server::start(Some(Arc::clone(&pki.server)));
        let t = client(&server, &pki);
        let err = read_all(&t, "truncated.json", 1000).unwrap_err();
        assert!(
            matches!(&err, TufError::Io { message, .. } if message.contains("truncated")),
            "{err:?}"
        );
        assert!(fetch_bytes(&t, "truncated.json", 1000).is_err());
        // The same without TLS, where no close_notify is involved.
        let plain = Server::start(None);
        let t = HttpsTransport::new(&HttpsConfig::insecure_http_for_test_rigs(
            &plain.url("http"),
        ))
        .unwrap();
        assert!(matches!(
            read_all(&t, "truncated.json", 1000),
            Err(TufError::Io { message, .. }) if message.contains("truncated")
        ));
    }

    #[test]
    fn a_content_length_above_the_bound_is_refused_before_reading() {
        let pki = throwaway_pki();
        let server = Server::start(Some(Arc::clone(&pki.server)));
        let t = client(&server, &pki);
        let err = t.fetch("big-length.json", 100).err().unwrap();
        assert_eq!(
            err,
            TufError::TooLarge {
                path: "big-length.json".into(),
                limit: 100
            }
        );
    }

    #[test]
    fn a_stream_past_the_bound_fails_while_reading() {
        let pki = throwaway_pki();
        let server = Server::start(Some(Arc::clone(&pki.server)));
        let t = client(&server, &pki);
        for path in ["endless-chunked.json", "endless-close.json"] {
            // The transport's own bound, without the caller's limiter…
            let too_large = TufError::TooLarge {
                path: path.into(),
                limit: 1000,
            };
            assert_eq!(read_all(&t, path, 1000).unwrap_err(), too_large, "{path}");
            // …and through it.
            assert_eq!(
                fetch_bytes(&t, path, 1000).unwrap_err(),
                too_large,
                "{path}"
            );
        }
    }

    #[test]
    fn statuses_map_to_not_found_or_an_error_naming_url_and_status() {
        let pki = throwaway_pki();
        let server = Server::start(Some(Arc::clone(&pki.server)));
        let t = client(&server, &pki);
        assert_eq!(
            read_all(&t, "2.root.json", 1000).unwrap_err(),
            TufError::NotFound {
                path: "2.root.json".into()
            }
        );
        let base = server.url("https");
        let err = read_all(&t, "error.json", 1000).unwrap_err();
        assert_eq!(
            err,
            TufError::HttpStatus {
                url: format!("{base}/error.json"),
                status: 500
            }
        );
        assert!(err.to_string().contains("500") && err.to_string().contains(&base));
        // Redirects are not followed, whatever the target.
        assert_eq!(
            read_all(&t, "moved.json", 1000).unwrap_err(),
            TufError::HttpStatus {
                url: format!("{base}/moved.json"),
                status: 302
            }
        );
    }

    #[test]
    fn plain_http_is_refused_unless_configured() {
        let pki = throwaway_pki();
        let server = Server::start(None);
        let url = server.url("http");
        let err = HttpsTransport::new(&HttpsConfig::new(
            &url,
            CaBundle::Pem(pki.ca_pem.clone().into_bytes()),
        ))
        .unwrap_err();
        assert!(
            matches!(&err, TufError::Io { path, .. } if *path == url),
            "{err:?}"
        );
        assert!(err.to_string().contains("allow_insecure_http"), "{err}");

        let t = HttpsTransport::new(&HttpsConfig::insecure_http_for_test_rigs(&url)).unwrap();
        assert_eq!(read_all(&t, "root.json", 1000).unwrap(), b"{\"signed\":{}}");
        assert!(matches!(
            read_all(&t, "nope.json", 1000),
            Err(TufError::NotFound { .. })
        ));
    }

    #[test]
    fn https_needs_a_ca_bundle_and_a_usable_one() {
        let mut config = HttpsConfig::insecure_http_for_test_rigs("https://127.0.0.1:1/repo");
        assert!(HttpsTransport::new(&config).is_err());
        for bad in [
            &b""[..],
            b"not pem",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            config.ca_bundle = Some(CaBundle::Pem(bad.to_vec()));
            assert!(HttpsTransport::new(&config).is_err(), "{bad:?}");
        }
        config.ca_bundle = Some(CaBundle::PemFile("/nonexistent/ca.pem".into()));
        assert!(HttpsTransport::new(&config).is_err());
        for url in [
            "ftp://127.0.0.1/x",
            "https:///x",
            "https://127.0.0.1/x?a=b",
            "https://127.0.0.1/x#f",
            "127.0.0.1/x",
        ] {
            config.base_url = url.to_owned();
            config.ca_bundle = Some(CaBundle::Pem(throwaway_pki().ca_pem.into_bytes()));
            assert!(HttpsTransport::new(&config).is_err(), "{url}");
        }
    }

    #[test]
    fn an_oversized_ca_bundle_file_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("huge.pem");
        std::fs::write(
            &p,
            vec![b'#'; usize::try_from(MAX_CA_BUNDLE_BYTES).unwrap() + 1],
        )
        .unwrap();
        let e = read_ca_file(&p).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
    }

    #[test]
    fn a_stalled_server_times_out() {
        let pki = throwaway_pki();
        let server = Server::start(Some(Arc::clone(&pki.server)));
        let mut config = HttpsConfig::new(
            &server.url("https"),
            CaBundle::Pem(pki.ca_pem.clone().into_bytes()),
        );
        config.read_timeout = Duration::from_millis(300);
        config.overall_timeout = Duration::from_secs(10);
        let t = HttpsTransport::new(&config).unwrap();
        // No response headers at all, and a body that stops half-way.
        assert!(matches!(
            read_all(&t, "stall-headers.json", 1000),
            Err(TufError::Io { .. })
        ));
        assert!(matches!(
            read_all(&t, "stall-body.json", 1000),
            Err(TufError::Io { .. })
        ));
    }

    #[test]
    fn paths_are_encoded_once() {
        let pki = throwaway_pki();
        let server = Server::start(Some(Arc::clone(&pki.server)));
        let t = client(&server, &pki);
        for (path, wire) in [
            ("echo/1.root.json", "/repo/echo/1.root.json"),
            ("echo/a%2Fb.json", "/repo/echo/a%2Fb.json"),
            ("echo/a b?c#d.json", "/repo/echo/a%20b%3Fc%23d.json"),
            ("echo/100%.tar", "/repo/echo/100%25.tar"),
        ] {
            assert_eq!(read_all(&t, path, 1000).unwrap(), wire.as_bytes(), "{path}");
        }
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for p in [
            "",
            "/etc/passwd",
            "a//b",
            "../x",
            "a/./b",
            "%2e%2E/x",
            "a\nb",
            "a\0b",
        ] {
            assert!(
                matches!(encode_path(p), Err(TufError::UnsafeName { .. })),
                "{p:?}"
            );
        }
        assert_eq!(encode_path("targets/é.bin").unwrap(), "targets/%C3%A9.bin");
    }
}
