//! The fbp-spec suite format: a YAML document is a suite or a list of suites; a
//! file may hold several documents. Input and expectation maps keep their order
//! (inputs are sent in key order).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value as Json};

/// Why suites could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
}

/// A fixture graph: `type: fbp` (DSL text) or `type: json` (an FBP JSON graph).
#[derive(Clone, Debug, Deserialize)]
pub struct Fixture {
    #[serde(rename = "type")]
    pub kind: String,
    pub data: String,
}

/// One suite.
#[derive(Clone, Debug)]
pub struct Suite {
    pub name: String,
    pub topic: String,
    pub fixture: Option<Fixture>,
    pub cases: Vec<Case>,
    /// Milliseconds for setup and (by default) each case.
    pub timeout: Option<u64>,
    pub skip: Option<String>,
    /// The file it came from.
    pub file: PathBuf,
}

/// One case: a sequence of steps (usually one).
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub assertion: String,
    pub steps: Vec<Step>,
    pub timeout: Option<u64>,
    pub skip: Option<String>,
}

/// Packets to send (exported inport → value, in order) and what must come out
/// (exported outport → expectations, each a map of `path` and operators).
#[derive(Clone, Debug, Default)]
pub struct Step {
    pub inputs: Map<String, Json>,
    pub expect: Vec<(String, Vec<Map<String, Json>>)>,
}

#[derive(Deserialize)]
struct RawSuite {
    name: Option<String>,
    topic: Option<String>,
    fixture: Option<Fixture>,
    #[serde(default)]
    cases: Vec<RawCase>,
    timeout: Option<u64>,
    skip: Option<String>,
}

#[derive(Deserialize)]
struct RawCase {
    name: Option<String>,
    assertion: Option<String>,
    #[serde(default)]
    inputs: Json,
    #[serde(default)]
    expect: Json,
    timeout: Option<u64>,
    skip: Option<String>,
}

/// Suites from a file, or from every `.yaml`/`.yml` file of a directory (sorted).
pub fn load_path(path: &Path) -> Result<Vec<Suite>, SuiteError> {
    let io = |source| SuiteError::Io { path: path.to_path_buf(), source };
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        let mut suites = Vec::new();
        for f in files {
            suites.extend(load_file(&f)?);
        }
        return Ok(suites);
    }
    load_file(path)
}

fn load_file(path: &Path) -> Result<Vec<Suite>, SuiteError> {
    let text = std::fs::read_to_string(path).map_err(|source| SuiteError::Io { path: path.to_path_buf(), source })?;
    parse(&text, path)
}

/// Parses the suites of one YAML text.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Suite>, SuiteError> {
    let err = |message: String| SuiteError::Format { path: path.to_path_buf(), message };
    let mut suites = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(text) {
        let value = Json::deserialize(doc).map_err(|e| err(e.to_string()))?;
        let raws = match value {
            Json::Null => continue,
            Json::Array(items) => items,
            other => vec![other],
        };
        for raw in raws {
            let raw: RawSuite = serde_json::from_value(raw).map_err(|e| err(format!("not a suite: {e}")))?;
            suites.push(suite(raw, path).map_err(err)?);
        }
    }
    Ok(suites)
}

fn suite(raw: RawSuite, path: &Path) -> Result<Suite, String> {
    let topic = raw.topic.unwrap_or_default();
    let name = raw.name.unwrap_or_else(|| topic.clone());
    if topic.is_empty() && raw.fixture.is_none() {
        return Err(format!("suite {name:?} has neither a topic nor a fixture"));
    }
    let mut cases = Vec::new();
    for (i, c) in raw.cases.into_iter().enumerate() {
        let case_name = c.name.unwrap_or_else(|| format!("case {}", i + 1));
        let steps = steps(c.inputs, c.expect).map_err(|e| format!("{name} / {case_name}: {e}"))?;
        cases.push(Case {
            name: case_name,
            assertion: c.assertion.unwrap_or_default(),
            steps,
            timeout: c.timeout,
            skip: c.skip,
        });
    }
    Ok(Suite { name, topic, fixture: raw.fixture, cases, timeout: raw.timeout, skip: raw.skip, file: path.into() })
}

/// Pairs inputs and expectations into steps: one map each, or equal-length lists.
fn steps(inputs: Json, expect: Json) -> Result<Vec<Step>, String> {
    let as_list = |v: Json| match v {
        Json::Array(items) => (items, true),
        Json::Null => (vec![], false),
        other => (vec![other], false),
    };
    let (inputs, in_seq) = as_list(inputs);
    let (expects, ex_seq) = as_list(expect);
    let n = inputs.len().max(expects.len()).max(1);
    if in_seq && ex_seq && inputs.len() != expects.len() {
        return Err(format!("{} input steps but {} expectation steps", inputs.len(), expects.len()));
    }
    let mut steps = Vec::with_capacity(n);
    for i in 0..n {
        let inputs = match inputs.get(i) {
            Some(Json::Object(m)) => m.clone(),
            None => Map::new(),
            Some(other) => return Err(format!("inputs must be a map of port to value, not {other}")),
        };
        let expect = match expects.get(i) {
            Some(Json::Object(m)) => m
                .iter()
                .map(|(port, e)| {
                    let list = match e {
                        Json::Array(items) => items.clone(),
                        other => vec![other.clone()],
                    };
                    let maps = list
                        .into_iter()
                        .map(|x| match x {
                            Json::Object(m) => Ok(m),
                            other => Err(format!("expectation for {port} must be a map, not {other}")),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((port.clone(), maps))
                })
                .collect::<Result<Vec<_>, String>>()?,
            None => vec![],
            Some(other) => return Err(format!("expect must be a map of port to expectations, not {other}")),
        };
        steps.push(Step { inputs, expect });
    }
    Ok(steps)
}

impl Suite {
    /// Cases that will run (not skipped), counting each case once.
    pub fn case_count(&self) -> usize {
        self.cases.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_suites_lists_and_sequences() {
        let text = r#"
name: "one"
topic: gegl/crop
cases:
- name: a
  assertion: works
  inputs: { input: x.png, width: 3 }
  expect: { output: { path: "$.width", equals: 3 } }
- name: seq
  assertion: two steps
  inputs: [ { width: 1 }, { width: 2 } ]
  expect: [ { output: [ { type: object }, { path: "$.width", equals: 1 } ] }, { output: { path: "$.width", equals: 2 } } ]
---
- topic: gegl/nop
  cases: []
"#;
        let suites = parse(text, Path::new("t.yaml")).unwrap();
        assert_eq!(suites.len(), 2);
        assert_eq!(suites[1].name, "gegl/nop");
        let a = &suites[0].cases[0];
        assert_eq!(a.steps.len(), 1);
        let keys: Vec<_> = a.steps[0].inputs.keys().collect();
        assert_eq!(keys, ["input", "width"], "input order is kept");
        let seq = &suites[0].cases[1];
        assert_eq!(seq.steps.len(), 2);
        assert_eq!(seq.steps[0].expect[0].1.len(), 2);
    }

    #[test]
    fn mismatched_sequences_and_bad_shapes_are_errors() {
        let bad = "topic: x\ncases:\n- name: a\n  inputs: [ {a: 1}, {a: 2} ]\n  expect: [ {b: {equals: 1}} ]\n";
        assert!(parse(bad, Path::new("t.yaml")).unwrap_err().to_string().contains("2 input steps but 1"));
        let bad = "topic: x\ncases:\n- name: a\n  expect: { b: 3 }\n";
        assert!(parse(bad, Path::new("t.yaml")).is_err());
        assert!(parse("name: x\n", Path::new("t.yaml")).is_err());
        assert!(parse("topic: [unclosed\n", Path::new("t.yaml")).is_err());
    }
}
