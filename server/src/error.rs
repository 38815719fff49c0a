//! Every failure of a request, mapped to one HTTP status and a JSON body in one place.

use serde_json::{json, Value};

/// A request failure. `status()` and `body()` define the response.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("unknown graph {0:?}")]
    UnknownGraph(String),
    #[error("forbidden")]
    Forbidden,
    #[error("requested size is over the limit of {limit_megapixels} megapixels")]
    SizeLimit { limit_megapixels: f64 },
    #[error("unknown parameter {name:?}")]
    UnknownParameter { name: String, valid: Value },
    #[error("Unsupported image type: {ext}")]
    UnsupportedType { ext: String, supported: Vec<String> },
    #[error("invalid value for parameter {name:?}: {message}")]
    InvalidParameter { name: String, message: String, allowed: Option<Value> },
    #[error("Failed to download input {input}: {reason}")]
    InputFetch { input: String, reason: String },
    #[error("input {input} is not a supported image: {reason}")]
    InputImage { input: String, reason: String },
    #[error("processing queue is full")]
    QueueFull { retry_after_secs: u64 },
    #[error("processing took longer than {secs} s")]
    Deadline { secs: f64 },
    #[error("processing failed: {0}")]
    Processing(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("{0}")]
    NotImplemented(String),
    #[error("method {0} not allowed")]
    MethodNotAllowed(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::NotFound(_) | ApiError::UnknownGraph(_) => 404,
            ApiError::BadRequest(_) => 400,
            ApiError::Forbidden => 403,
            ApiError::SizeLimit { .. } | ApiError::InvalidParameter { .. } | ApiError::InputImage { .. } => 422,
            ApiError::UnknownParameter { .. } | ApiError::UnsupportedType { .. } => 449,
            ApiError::InputFetch { .. } | ApiError::Deadline { .. } => 504,
            ApiError::QueueFull { .. } => 503,
            ApiError::Processing(_) | ApiError::Internal(_) => 500,
            ApiError::NotImplemented(_) => 501,
            ApiError::MethodNotAllowed(_) => 405,
        }
    }

    /// The JSON body: always `error` (a message) and `code` (the status), plus details.
    pub fn body(&self) -> Value {
        let mut body = json!({"error": self.to_string(), "code": self.status()});
        match self {
            ApiError::UnknownParameter { valid, .. } => body["parameters"] = valid.clone(),
            ApiError::UnsupportedType { supported, .. } => body["supported"] = json!(supported),
            ApiError::InvalidParameter { name, allowed, .. } => {
                body["parameter"] = json!(name);
                if let Some(a) = allowed {
                    body["allowed"] = a.clone();
                }
            }
            ApiError::InputFetch { input, .. } | ApiError::InputImage { input, .. } => body["input"] = json!(input),
            ApiError::SizeLimit { limit_megapixels } => body["limit_megapixels"] = json!(limit_megapixels),
            _ => {}
        }
        body
    }

    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::QueueFull { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_bodies() {
        let e = ApiError::UnsupportedType { ext: "svg".into(), supported: vec!["jpg".into(), "png".into()] };
        assert_eq!(e.status(), 449);
        assert_eq!(e.body()["supported"], json!(["jpg", "png"]));
        assert_eq!(e.body()["error"], json!("Unsupported image type: svg"));
        let e = ApiError::InputFetch { input: "http://x/a.jpg".into(), reason: "HTTP error 404".into() };
        assert_eq!((e.status(), e.body()["code"].clone()), (504, json!(504)));
        assert!(e.body()["error"].as_str().unwrap().contains("404"));
        assert_eq!(ApiError::QueueFull { retry_after_secs: 2 }.retry_after(), Some(2));
    }
}
