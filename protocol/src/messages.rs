//! The message envelope: `{protocol, command, payload, secret?, requestId?}` in,
//! `{protocol, command, payload, responseTo?}` out.

use serde::Serialize;
use serde_json::{Map, Value as Json};

/// The sub-protocols a client may name.
pub const PROTOCOLS: [&str; 5] = ["runtime", "graph", "component", "network", "trace"];

/// A parsed client message. The secret is taken out of the payload (and the top
/// level) so it can never be echoed back.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub protocol: String,
    pub command: String,
    pub payload: Map<String, Json>,
    /// From the top level or `payload.secret`; an empty string counts as none.
    pub secret: Option<String>,
    pub request_id: Option<String>,
}

/// Why a frame is not a valid message.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParseErrorKind {
    #[error("message is not valid JSON: {0}")]
    Json(String),
    #[error("message must be a JSON object with protocol, command and payload")]
    NotAnObject,
    #[error("message has no string \"{0}\"")]
    Missing(&'static str),
    #[error("unknown protocol {0:?} (expected one of runtime, graph, component, network, trace)")]
    UnknownProtocol(String),
    #[error("payload of {0} must be an object")]
    PayloadNotAnObject(String),
}

/// A parse failure, with the protocol to answer on when the message named one.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{kind}")]
pub struct ParseError {
    pub protocol: Option<String>,
    pub kind: ParseErrorKind,
}

impl ParseError {
    /// The `<protocol>:error` message answering this failure (`runtime:error`
    /// when the protocol is unknown).
    pub fn reply(&self) -> Message {
        Message::error(self.protocol.as_deref().unwrap_or("runtime"), &self.kind.to_string())
    }
}

impl Request {
    pub fn new(protocol: &str, command: &str, payload: Json) -> Request {
        let payload = match payload {
            Json::Object(m) => m,
            _ => Map::new(),
        };
        Request { protocol: protocol.into(), command: command.into(), payload, secret: None, request_id: None }
    }

    /// Parses one text frame.
    pub fn parse(text: &str) -> Result<Request, ParseError> {
        let value: Json = serde_json::from_str(text)
            .map_err(|e| ParseError { protocol: None, kind: ParseErrorKind::Json(e.to_string()) })?;
        Request::from_value(value)
    }

    pub fn from_value(value: Json) -> Result<Request, ParseError> {
        let err = |protocol: Option<&str>, kind| ParseError { protocol: protocol.map(str::to_string), kind };
        let Json::Object(mut top) = value else { return Err(err(None, ParseErrorKind::NotAnObject)) };
        let protocol = match top.remove("protocol") {
            Some(Json::String(p)) => p,
            _ => return Err(err(None, ParseErrorKind::Missing("protocol"))),
        };
        if !PROTOCOLS.contains(&protocol.as_str()) {
            return Err(err(None, ParseErrorKind::UnknownProtocol(protocol)));
        }
        let command = match top.remove("command") {
            Some(Json::String(c)) => c,
            _ => return Err(err(Some(&protocol), ParseErrorKind::Missing("command"))),
        };
        let mut payload = match top.remove("payload") {
            None | Some(Json::Null) => Map::new(),
            Some(Json::Object(m)) => m,
            Some(_) => {
                let name = format!("{protocol}:{command}");
                return Err(err(Some(&protocol), ParseErrorKind::PayloadNotAnObject(name)));
            }
        };
        let nonempty = |v: Option<Json>| match v {
            Some(Json::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let inner_secret = nonempty(payload.remove("secret"));
        let secret = nonempty(top.remove("secret")).or(inner_secret);
        let request_id = nonempty(top.remove("requestId"));
        Ok(Request { protocol, command, payload, secret, request_id })
    }

    /// `protocol:command`, for messages and logs.
    pub fn topic(&self) -> String {
        format!("{}:{}", self.protocol, self.command)
    }

    /// The payload's `graph`, if it is a string.
    pub fn graph(&self) -> Option<&str> {
        self.payload.get("graph").and_then(Json::as_str)
    }
}

/// A message from the runtime.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    pub protocol: String,
    pub command: String,
    pub payload: Json,
    #[serde(rename = "responseTo", skip_serializing_if = "Option::is_none")]
    pub response_to: Option<String>,
}

impl Message {
    pub fn new(protocol: &str, command: &str, payload: Json) -> Message {
        Message { protocol: protocol.into(), command: command.into(), payload, response_to: None }
    }

    /// `<protocol>:error {message}`.
    pub fn error(protocol: &str, message: &str) -> Message {
        Message::new(protocol, "error", serde_json::json!({ "message": message }))
    }

    pub fn topic(&self) -> String {
        format!("{}:{}", self.protocol, self.command)
    }

    /// The JSON text sent in a frame.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a message always serialises")
    }

    /// Whether the schema lets this message carry `responseTo` (the output schemas
    /// of `runtime:packet` and `network:edges` reuse the input ones, which forbid it).
    pub fn may_respond(&self) -> bool {
        !matches!((self.protocol.as_str(), self.command.as_str()), ("runtime", "packet") | ("network", "edges"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_taken_out() {
        let r =
            Request::parse(r#"{"protocol":"graph","command":"clear","payload":{"id":"a","secret":"s"},"secret":""}"#)
                .unwrap();
        assert_eq!(r.secret.as_deref(), Some("s"));
        assert!(!r.payload.contains_key("secret"));
        let r = Request::parse(r#"{"protocol":"runtime","command":"getruntime","requestId":"7"}"#).unwrap();
        assert_eq!((r.secret, r.request_id.as_deref()), (None, Some("7")));
    }

    #[test]
    fn errors_are_clear() {
        let e = Request::parse("{nope").unwrap_err();
        assert!(e.to_string().starts_with("message is not valid JSON"), "{e}");
        assert_eq!(e.reply().topic(), "runtime:error");
        let e = Request::parse(r#"{"protocol":"graph","payload":{}}"#).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Missing("command"));
        assert_eq!(e.reply().topic(), "graph:error");
        let e = Request::parse(r#"{"protocol":"graph","command":"clear","payload":[]}"#).unwrap_err();
        assert_eq!(e.to_string(), "payload of graph:clear must be an object");
        assert!(matches!(
            Request::parse(r#"{"protocol":"x","command":"y"}"#).unwrap_err().kind,
            ParseErrorKind::UnknownProtocol(_)
        ));
        assert!(matches!(Request::parse("[1]").unwrap_err().kind, ParseErrorKind::NotAnObject));
    }

    #[test]
    fn response_to_is_only_written_when_set() {
        let mut m = Message::new("graph", "clear", json!({"id": "a"}));
        assert_eq!(m.to_text(), r#"{"protocol":"graph","command":"clear","payload":{"id":"a"}}"#);
        m.response_to = Some("1".into());
        assert!(m.to_text().ends_with(r#","responseTo":"1"}"#));
    }
}
