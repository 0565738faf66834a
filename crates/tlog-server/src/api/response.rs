//! Response builders: JSON bodies, Rekor's error body `{"code": N, "message": "..."}`.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use serde::Serialize;

/// The response type of every handler.
pub type Resp = Response<Full<Bytes>>;

/// Rekor's error model.
#[derive(Serialize)]
struct ErrorBody<'a> {
    code: u16,
    message: &'a str,
}

/// A response with `body` and a content type.
pub fn bytes(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Resp {
    match serde_json::to_vec(value) {
        Ok(mut body) => {
            body.push(b'\n');
            bytes(status, "application/json", body)
        }
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("encoding the response: {e}"),
        ),
    }
}

/// An error response in Rekor's shape.
pub fn error(status: StatusCode, message: &str) -> Resp {
    let body = serde_json::to_vec(&ErrorBody {
        code: status.as_u16(),
        message,
    })
    .unwrap_or_default();
    bytes(status, "application/json", body)
}

/// 400 with a message.
pub fn bad_request(message: &str) -> Resp {
    error(StatusCode::BAD_REQUEST, message)
}

/// 404 (`Not Found`).
pub fn not_found() -> Resp {
    error(StatusCode::NOT_FOUND, "Not Found")
}

/// 500 with a message.
pub fn internal(message: &str) -> Resp {
    error(StatusCode::INTERNAL_SERVER_ERROR, message)
}

/// Adds a header whose value came from our own formatting (hex, paths).
pub fn with_header(mut resp: Resp, name: hyper::header::HeaderName, value: &str) -> Resp {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
    resp
}
