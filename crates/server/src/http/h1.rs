//! HTTP/1.1 for the plain requests pages, tokens and balancers send, served here rather than by
//! hyper because of what a waiting connection costs. hyper keeps a read and a write buffer of
//! 8 KiB each for as long as a connection is open, whatever it carries; a long-poll holds its
//! connection for up to 30 s, so 10 000 waiting pages cost 160 MB in buffers alone. Here a
//! connection holds no buffer while its request is answered: the head is parsed, copied into
//! the request and its buffer freed before the router is called.
//!
//! Only requests this reader understands completely are served here: HTTP/1.1, a head of at
//! most [`MAX_HEAD_BYTES`] with at most [`MAX_HEADERS`] fields, no body or one of a single
//! `Content-Length` within [`crate::MAX_BODY_BYTES`], and none of `Transfer-Encoding`,
//! `Expect` or `Upgrade`, nor `HEAD` or `CONNECT`. Anything else (and HTTP/2) is handed to hyper
//! with the bytes read so far, so hyper's parser and limits still decide about it, and the
//! connection stays with hyper from then on.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, Request, Response, StatusCode, Uri, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tower::ServiceExt;

/// The longest request head served here; a longer one (a very large cookie) goes to hyper.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;

/// The most header fields a request served here may have.
pub const MAX_HEADERS: usize = 48;

/// Why a connection left this reader.
pub(super) enum Ending {
    /// Closed: by the client, by a timeout, after `Connection: close`, or at shutdown.
    Closed,
    /// A request this reader does not serve: hyper takes the connection, reading `read` first.
    HandOff { stream: TcpStream, read: Vec<u8> },
}

/// What the reader knows of a connection between its requests.
pub(super) struct Connection {
    pub(super) stream: TcpStream,
    pub(super) peer: SocketAddr,
    pub(super) header_timeout: Duration,
    /// Becomes true when the server shuts down: an idle connection closes, a request in flight
    /// is answered first.
    pub(super) stopping: watch::Receiver<bool>,
}

/// A request head taken apart, with the body's length.
struct Head {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body_length: usize,
    close: bool,
    length: usize,
}

/// A request this reader leaves to hyper.
#[derive(Debug)]
struct NotForUs;

/// Serves requests on `connection` until it closes or hands a request to hyper.
pub(super) async fn serve(mut connection: Connection, router: &Router) -> Ending {
    // Bytes read beyond the requests served so far: empty, and holding no memory, while a
    // request is answered, unless the client sends its next request before the answer.
    let mut read: Vec<u8> = Vec::new();
    loop {
        let deadline = Instant::now() + connection.header_timeout;
        let head = loop {
            match parse(&read) {
                Ok(Some(head)) => break head,
                Ok(None) if read.len() < MAX_HEAD_BYTES => {}
                Ok(None) | Err(NotForUs) => {
                    return Ending::HandOff {
                        stream: connection.stream,
                        read,
                    };
                }
            }
            if read.capacity() - read.len() < 512 {
                read.reserve(1024);
            }
            let idle = read.is_empty();
            let received = tokio::select! {
                received = tokio::time::timeout_at(deadline, connection.stream.read_buf(&mut read)) => received,
                _ = connection.stopping.wait_for(|stopping| *stopping), if idle => return Ending::Closed,
            };
            match received {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return Ending::Closed,
                Ok(Ok(_)) => {}
            }
        };
        read.drain(..head.length);
        while read.len() < head.body_length {
            read.reserve(head.body_length - read.len());
            match tokio::time::timeout_at(deadline, connection.stream.read_buf(&mut read)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return Ending::Closed,
                Ok(Ok(_)) => {}
            }
        }
        let body: Vec<u8> = read.drain(..head.body_length).collect();
        if read.is_empty() {
            read = Vec::new();
        } else {
            read.shrink_to_fit();
        }
        let close = head.close;
        let request = request(head, body, connection.peer);
        let Some(response) = answer(&mut connection.stream, &mut read, router, request).await
        else {
            return Ending::Closed;
        };
        if write(&mut connection.stream, response, close)
            .await
            .is_err()
            || close
        {
            return Ending::Closed;
        }
    }
}

/// Takes the head at the start of `read` apart, if it is one this reader serves; `None` while
/// it is incomplete.
fn parse(read: &[u8]) -> Result<Option<Head>, NotForUs> {
    if read.is_empty() {
        return Ok(None);
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut fields);
    let length = match parsed.parse(read) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(NotForUs),
    };
    if parsed.version != Some(1) {
        return Err(NotForUs);
    }
    let Some(method) = parsed
        .method
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .filter(|m| *m != Method::HEAD && *m != Method::CONNECT)
    else {
        return Err(NotForUs);
    };
    let Some(uri) = parsed.path.and_then(|p| p.parse::<Uri>().ok()) else {
        return Err(NotForUs);
    };
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    let mut body_length = None;
    let mut close = false;
    for field in parsed.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(field.name.as_bytes()),
            HeaderValue::from_bytes(field.value),
        ) else {
            return Err(NotForUs);
        };
        if name == header::TRANSFER_ENCODING || name == header::EXPECT || name == header::UPGRADE {
            return Err(NotForUs);
        }
        if name == header::CONTENT_LENGTH {
            let length = value.to_str().ok().and_then(|v| {
                (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| v.parse::<usize>().ok())
                    .flatten()
            });
            match (body_length, length) {
                (None, Some(length)) if length <= crate::MAX_BODY_BYTES => {
                    body_length = Some(length)
                }
                _ => return Err(NotForUs),
            }
        }
        if name == header::CONNECTION {
            let Ok(options) = value.to_str() else {
                return Err(NotForUs);
            };
            for option in options.split(',').map(str::trim) {
                if option.eq_ignore_ascii_case("close") {
                    close = true;
                } else if option.eq_ignore_ascii_case("upgrade") {
                    return Err(NotForUs);
                }
            }
        }
        headers.append(name, value);
    }
    Ok(Some(Head {
        method,
        uri,
        headers,
        body_length: body_length.unwrap_or(0),
        close,
        length,
    }))
}

fn request(head: Head, body: Vec<u8>, peer: SocketAddr) -> Request<Body> {
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = head.method;
    *request.uri_mut() = head.uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = head.headers;
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

/// The router's answer to `request`, or `None` when the client goes away before it: a page that
/// leaves ends its long-poll at once. Bytes the client sends meanwhile (its next request) are
/// kept in `read`.
async fn answer(
    stream: &mut TcpStream,
    read: &mut Vec<u8>,
    router: &Router,
    request: Request<Body>,
) -> Option<Response<Body>> {
    let answering = router.clone().oneshot(request);
    tokio::pin!(answering);
    loop {
        tokio::select! {
            answered = &mut answering => return answered.ok(),
            received = stream.read_buf(read), if read.len() < MAX_HEAD_BYTES => match received {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            },
        }
    }
}

/// Writes `response` with its length; a body without one (compressed on the fly) is collected
/// first, which every answer of this server is small enough for.
async fn write(stream: &mut TcpStream, response: Response<Body>, close: bool) -> io::Result<()> {
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(io::Error::other)?;
    let status = parts.status;
    let bodiless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let close = close
        || parts
            .headers
            .get(header::CONNECTION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
    let mut head = Vec::with_capacity(
        256 + if body.len() <= 16 * 1024 {
            body.len()
        } else {
            0
        },
    );
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &parts.headers {
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::CONNECTION
        {
            continue;
        }
        field(&mut head, name.as_str(), value.as_bytes());
    }
    if !parts.headers.contains_key(header::DATE) {
        field(
            &mut head,
            "date",
            httpdate::fmt_http_date(std::time::SystemTime::now()).as_bytes(),
        );
    }
    if !bodiless {
        field(
            &mut head,
            "content-length",
            body.len().to_string().as_bytes(),
        );
    }
    if close {
        field(&mut head, "connection", b"close");
    }
    head.extend_from_slice(b"\r\n");
    if bodiless {
        stream.write_all(&head).await?;
    } else if head.capacity() - head.len() >= body.len() {
        head.extend_from_slice(&body);
        stream.write_all(&head).await?;
    } else {
        stream.write_all(&head).await?;
        stream.write_all(&body).await?;
    }
    stream.flush().await
}

fn field(head: &mut Vec<u8>, name: &str, value: &[u8]) {
    head.extend_from_slice(name.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

/// A connection handed to hyper: the bytes already read come first, then the socket.
pub(super) struct Rewound {
    read: Vec<u8>,
    at: usize,
    stream: TcpStream,
}

impl Rewound {
    pub(super) fn new(stream: TcpStream, read: Vec<u8>) -> Self {
        Rewound {
            read,
            at: 0,
            stream,
        }
    }
}

impl AsyncRead for Rewound {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.read.len() {
            let n = (this.read.len() - this.at).min(buf.remaining());
            buf.put_slice(&this.read[this.at..this.at + n]);
            this.at += n;
            if this.at == this.read.len() {
                this.read = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewound {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Result<Option<Head>, NotForUs> {
        parse(raw.as_bytes())
    }

    #[test]
    fn a_plain_request_is_served_here_with_its_body_length_and_connection() {
        let Ok(Some(h)) = head(
            "POST /api/v1/logins HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nConnection: keep-alive, close\r\n\r\n{\"x\":1}",
        ) else {
            panic!("not parsed");
        };
        assert_eq!(h.method, Method::POST);
        assert_eq!(h.uri.path(), "/api/v1/logins");
        assert_eq!(h.body_length, 12);
        assert!(h.close);
        assert_eq!(h.headers["host"], "a");
    }

    #[test]
    fn an_unfinished_head_waits_for_more() {
        assert!(matches!(
            head("GET /api/v1/live HTTP/1.1\r\nHost: a\r\n"),
            Ok(None)
        ));
    }

    #[test]
    fn what_this_reader_does_not_fully_understand_goes_to_hyper() {
        for raw in [
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
            "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            "HEAD / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.0\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "GET /\x7f HTTP/1.1\r\n\r\n",
        ] {
            assert!(head(raw).is_err(), "{raw:?}");
        }
        let many: String = (0..MAX_HEADERS + 1)
            .map(|i| format!("X-{i}: 1\r\n"))
            .collect();
        assert!(head(&format!("GET / HTTP/1.1\r\n{many}\r\n")).is_err());
    }
}
