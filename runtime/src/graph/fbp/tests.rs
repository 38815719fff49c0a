use serde_json::json;

use super::*;
use crate::graph::{json as graph_json, Connection, PortRef};

fn ok(text: &str) -> Graph {
    parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn err(text: &str) -> (usize, usize, String) {
    match parse(text) {
        Ok(g) => panic!("{text:?} should fail, parsed to {g:?}"),
        Err(e) => (e.line, e.column, e.message),
    }
}

/// The connections as short strings: `a.out -> b.in` or `<data> -> b.in`.
fn conns(g: &Graph) -> Vec<String> {
    g.connections
        .iter()
        .map(|c| match c {
            Connection::Edge { src, tgt, .. } => format!("{src} -> {tgt}"),
            Connection::Iip { data, tgt, .. } => format!("{data} -> {tgt}"),
        })
        .collect()
}

fn components(g: &Graph) -> Vec<(String, String)> {
    g.nodes.iter().map(|(k, n)| (k.clone(), n.component.clone())).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn one_edge_with_declarations() {
    let g = ok("Read(fs/ReadFile) OUT -> IN Show(core/Output)");
    assert_eq!(components(&g), pairs(&[("Read", "fs/ReadFile"), ("Show", "core/Output")]));
    assert_eq!(conns(&g), ["Read.out -> Show.in"]);
    assert!(!g.case_sensitive);
    assert!(g.properties.is_empty() && g.inports.is_empty() && g.groups.is_empty());
}

#[test]
fn chains_keep_source_order() {
    let g = ok("a(x/A) OUT -> IN b(x/B) RESULT -> DATA c(x/C) OUT -> IN d(x/D)\nd ERR -> IN a");
    assert_eq!(conns(&g), ["a.out -> b.in", "b.result -> c.data", "c.out -> d.in", "d.err -> a.in"]);
    assert_eq!(g.nodes.keys().collect::<Vec<_>>(), ["a", "b", "c", "d"]);
}

#[test]
fn nodes_are_ordered_by_first_use_and_declared_later() {
    let g = ok("up -> r(Redirect)\np(Check) NO -> q(Queue)\nup(Upload) X -> IN q()");
    assert_eq!(components(&g), pairs(&[("up", "Upload"), ("r", "Redirect"), ("p", "Check"), ("q", "Queue")]));
    assert_eq!(conns(&g), ["up.out -> r.in", "p.no -> q.in", "up.x -> q.in"]);
}

#[test]
fn names_with_dashes_underscores_and_dotted_ports() {
    let g = ok("'x' -> IN_2 my-node_42(my-pkg/Comp_15) OUT.a -> in.b other_1(C)");
    assert_eq!(conns(&g), ["\"x\" -> my-node_42.in_2", "my-node_42.out.a -> other_1.in.b"]);
    assert_eq!(g.nodes["my-node_42"].component, "my-pkg/Comp_15");
}

#[test]
fn no_spaces_around_arrows() {
    let g = ok("a(A)->b(B) ->c(C)-> d(D)->e(E)");
    assert_eq!(conns(&g), ["a.out -> b.in", "b.out -> c.in", "c.out -> d.in", "d.out -> e.in"]);
    let g = ok("a(A) X->Y b(B)");
    assert_eq!(conns(&g), ["a.x -> b.y"]);
}

#[test]
fn anonymous_nodes_are_numbered_per_component() {
    let g = ok("(core/Kick) OUT -> IN (core/Split) OUT -> IN (core/Kick)\n'go' -> IN (Drop)");
    assert_eq!(
        components(&g),
        pairs(&[
            ("_core_Kick_1", "core/Kick"),
            ("_core_Split_1", "core/Split"),
            ("_core_Kick_2", "core/Kick"),
            ("_Drop_1", "Drop"),
        ])
    );
    assert_eq!(
        conns(&g),
        ["_core_Kick_1.out -> _core_Split_1.in", "_core_Split_1.out -> _core_Kick_2.in", "\"go\" -> _Drop_1.in"]
    );
}

#[test]
fn node_metadata() {
    let g = ok("a(c/A:x=17,y=-4.5,label=hello,foo,bar) -> b(B:baz=/foo/bar)\nb(:x=3) -> c(C:)");
    assert_eq!(
        serde_json::Value::Object(g.nodes["a"].metadata.clone()),
        json!({"x": 17, "y": -4.5, "label": "hello", "routes": ["foo", "bar"]})
    );
    assert_eq!(serde_json::Value::Object(g.nodes["b"].metadata.clone()), json!({"baz": "/foo/bar", "x": 3}));
    assert_eq!(g.nodes["b"].component, "B");
    assert!(g.nodes["c"].metadata.is_empty());
}

#[test]
fn array_ports() {
    let g = ok("'t1' -> IN[0] mux(Mux) OUT[1] -> IN[12] show(Out)\nmux OUT[2] -> IN show");
    assert_eq!(conns(&g), ["\"t1\" -> mux.in[0]", "mux.out[1] -> show.in[12]", "mux.out[2] -> show.in"]);
    let Connection::Edge { src, tgt, .. } = &g.connections[1] else { panic!("an edge") };
    assert_eq!((src.index, tgt.index), (Some(1), Some(12)));
}

#[test]
fn default_ports_and_their_statements() {
    let g = ok("(A) -> (B) -> IN (C)\nDEFAULT_INPORT=INPUT\nDEFAULT_OUTPORT=OUTPUT\n(A) -> (B)\na(A) X -> b(B)");
    assert_eq!(
        conns(&g),
        ["_A_1.out -> _B_1.in", "_B_1.out -> _C_1.in", "_A_2.output -> _B_2.input", "a.x -> b.input"]
    );
}

#[test]
fn iips_of_every_kind() {
    let text = r#"'it' -> A n(N)
'it\'s \\ \n' -> B n
'' -> C n
'# not a comment, -> nor an arrow' -> D n
300 -> E n
-1.5 -> F n
2e3 -> G n
true -> H n
false -> I n
null -> J n
{"a": [1, {"b": null}], "c": "x}"} -> K n
[1,2] -> L n
"dq \" \u0041" -> M n
'two
lines' -> N n
{"m":
  1} -> O n"#;
    let g = ok(text);
    let data: Vec<_> = g.iips().map(|(d, _)| d.clone()).collect();
    assert_eq!(
        data,
        [
            json!("it"),
            json!("it's \\ \\n"),
            json!(""),
            json!("# not a comment, -> nor an arrow"),
            json!(300),
            json!(-1.5),
            json!(2000.0),
            json!(true),
            json!(false),
            json!(null),
            json!({"a": [1, {"b": null}], "c": "x}"}),
            json!([1, 2]),
            json!("dq \" A"),
            json!("two\nlines"),
            json!({"m": 1}),
        ]
    );
    let ports: Vec<_> = g.iips().map(|(_, t)| t.port.clone()).collect();
    assert_eq!(ports[..3], ["a", "b", "c"]);
}

#[test]
fn adjacent_quotes_are_not_one_string() {
    // `'it''s'` is two tokens; the second one is unexpected.
    let (line, column, message) = err("'it''s' -> A n(N)");
    assert_eq!((line, column), (1, 5), "{message}");
}

#[test]
fn iip_starts_a_chain_and_keywords_can_be_node_names() {
    let g = ok("'x' -> IN a(A) OUT -> IN b(B)\ntrue(T) OUT -> IN null(N)\n5 -> IN true");
    assert_eq!(conns(&g), ["\"x\" -> a.in", "a.out -> b.in", "true.out -> null.in", "5 -> true.in"]);
}

#[test]
fn exports() {
    let g = ok("INPORT=crop.INPUT:INPUT\nINPORT=crop.X[0]:CropX\nOUTPORT=nop.OUTPUT:Out\n\
                INPORT=crop.Y:CropX\ncrop(gegl/crop) OUTPUT -> INPUT nop(gegl/nop)");
    let ins: Vec<_> = g.inports.iter().map(|(k, p)| format!("{k}={}.{}", p.node, p.port)).collect();
    assert_eq!(ins, ["input=crop.input", "cropx=crop.y"]);
    assert_eq!(g.outports["out"].port, "output");
    assert!(g.inports.values().all(|p| p.metadata.is_empty()));
}

#[test]
fn case_sensitive_keeps_port_and_public_names() {
    let text = "INPORT=Foo.inPut:Public\n'Hello' -> in Foo(Component), Foo outPut -> Data Bar(Other)\nFoo -> Bar";
    let g = parse_with(text, true).unwrap();
    assert!(g.case_sensitive);
    assert_eq!(conns(&g), ["\"Hello\" -> Foo.in", "Foo.outPut -> Bar.Data", "Foo.OUT -> Bar.IN"]);
    assert_eq!(g.inports["Public"].port, "inPut");
    let g = parse(text).unwrap();
    assert_eq!(conns(&g), ["\"Hello\" -> Foo.in", "Foo.output -> Bar.data", "Foo.out -> Bar.in"]);
    assert_eq!(g.inports["public"].port, "input");
}

#[test]
fn annotations() {
    let g = ok("# @runtime imgflo\n  #@name My graph.v2  \n# @description  crops, then blurs\n\
                # @icon crop\n# !runtime msgflo\na(A) -> b(B) # @author nobody\n# @runtime\n# @x a/b");
    assert_eq!(g.runtime_type(), Some("imgflo"));
    assert_eq!(g.name(), Some("My graph.v2"));
    assert_eq!(
        serde_json::Value::Object(g.properties.clone()),
        json!({"environment": {"type": "imgflo"}, "name": "My graph.v2", "icon": "crop"})
    );
}

#[test]
fn comments_blank_lines_commas_and_crlf() {
    let text = "# first\r\n\r\n  a(A) OUT -> IN b(B), b OUT -> IN c(C) , # trailing\r\n\t\n,,\nc -> d(D) # done\r";
    let g = ok(text);
    assert_eq!(conns(&g), ["a.out -> b.in", "b.out -> c.in", "c.out -> d.in"]);
    assert!(parse("").unwrap().nodes.is_empty());
    assert!(parse("# only a comment").unwrap().connections.is_empty());
}

#[test]
fn lone_node_declaration() {
    let g = ok("INPORT=exist.IN:works\nexist(foo/Bar)\nother(x/Y:x=1)");
    assert_eq!(components(&g), pairs(&[("exist", "foo/Bar"), ("other", "x/Y")]));
    assert!(g.connections.is_empty());
}

#[test]
fn positions_count_lines_and_characters() {
    assert_eq!(err("a(A) -> b(B)\r\n  c(C) X -> $"), (2, 13, "unexpected character '$'".into()));
    assert_eq!(err("'é' -> IN x(X) ~").0, 1);
    assert_eq!(err("'é' -> IN x(X) ~").1, 16);
    assert_eq!(err("'a\nbc' -> IN x(X) ~"), (2, 16, "unexpected character '~'".into()));
}

#[test]
fn syntax_errors() {
    let cases: &[(&str, usize, usize, &str)] = &[
        ("a(A) OUT ->", 1, 10, "expected a port or node after '->'"),
        ("a(A) OUT -> , b(B)", 1, 10, "expected a port or node after '->'"),
        ("a(A) OUT -> 'x'", 1, 13, "expected a port or node after '->', found a data value"),
        ("\n'x' -> IN[0]", 2, 8, "port 'IN[0]' has no node after it"),
        ("a(A) -> X[1]\n", 1, 9, "port 'X[1]' has no node after it"),
        ("OUT[0] -> IN b(B)", 1, 1, "port 'OUT' has no node: a connection starts with a node or with data"),
        ("-> IN b(B)", 1, 1, "'->' needs a source before it: a node or data"),
        ("FOO=bar", 1, 1, "unknown statement 'FOO=' (expected INPORT=, OUTPORT=, DEFAULT_INPORT= or DEFAULT_OUTPORT=)"),
        ("a(A)\n  'abc -> IN a", 2, 3, "unterminated string: missing closing '"),
        ("{\"a\": [1, 2} -> IN a(A)", 1, 12, "invalid JSON value: expected `,` or `]`"),
        ("{\"a\": [1, 2]\n -> IN a(A)", 1, 1, "unterminated JSON value: a closing bracket is missing"),
        ("\"abc -> IN a(A)", 1, 1, "unterminated string: missing closing \""),
        ("1.2.3 -> IN a(A)", 1, 4, "invalid JSON value: trailing characters"),
        ("a(A) OUT -> IN b(B) OUT", 1, 24, "expected '->' after port 'OUT', found the end of the file"),
        ("a(A) OUT -> IN b(B) OUT[3]\n", 1, 27, "expected '->' after port 'OUT[3]', found the end of the line"),
        ("'x' IN a(A)", 1, 5, "expected '->' after the data, found 'IN'"),
        ("a(A) OUT IN -> b(B)", 1, 10, "expected '->' after port 'OUT', found 'IN'"),
        ("a(A) b(B)", 1, 7, "expected '->' after port 'b', found '(B)'"),
        ("a(foo.bar) -> b(B)", 1, 6, "unexpected '.' in component name (allowed: letters, digits, '/', '-', '_')"),
        ("a(foo/bar -> b(B)", 1, 10, "unexpected ' ' in component name (allowed: letters, digits, '/', '-', '_')"),
        ("a(foo:x=1 -> b\n", 1, 2, "unterminated component: missing ')'"),
        ("a(A:label=1, x=abc) -> b(B)", 1, 14, "metadata 'x' must be a number, not 'abc'"),
        ("a(A:=1) -> b(B)", 1, 5, "metadata entry '=1' has no key"),
        ("() -> b(B)", 1, 1, "an anonymous node needs a component, like (core/Kick)"),
        ("a(A) -> b.c(B)", 1, 9, "invalid node name 'b.c'"),
        ("a(A) my-port -> b(B)", 1, 6, "invalid port name 'my-port'"),
        ("a(A) OUT[x] -> b(B)", 1, 9, "expected an array port index like [0]"),
        ("a(A) OUT [1] -> b(B)", 1, 10, "expected '->' after port 'OUT', found a data value"),
        ("INPORT=crop:X", 1, 8, "expected node.PORT after 'INPORT=', found 'crop'"),
        ("OUTPORT=", 1, 1, "expected node.PORT after 'OUTPORT=', found the end of the file"),
        ("INPORT=a.IN X", 1, 13, "expected ':' and a public port name after 'a.IN', found 'X'"),
        ("INPORT=a.IN:", 1, 12, "expected a port name after ':', found the end of the file"),
        ("INPORT=a.1N:X", 1, 8, "invalid port name '1N' after 'a.'"),
        ("DEFAULT_INPORT=\n", 1, 1, "expected a port name after 'DEFAULT_INPORT=', found the end of the line"),
        ("a(A) -> b(B) =", 1, 14, "unexpected '=' after the statement"),
        (":", 1, 1, "unexpected ':': expected a node, data or a statement"),
        ("a(A) -> b(B) ; c", 1, 14, "unexpected character ';'"),
    ];
    for &(text, line, column, message) in cases {
        assert_eq!(err(text), (line, column, message.to_string()), "for {text:?}");
    }
}

#[test]
fn semantic_errors() {
    let cases: &[(&str, usize, usize, &str)] = &[
        ("a(A) OUT -> IN", 1, 13, "node 'IN' has no component"),
        ("'localhost' -> IN server", 1, 19, "node 'server' has no component"),
        ("a(A)->b(B)\n  x -> c(C)\nb -> y", 2, 3, "node 'x' has no component"),
        ("a(A) -> b(B)\nb(C) -> c(C)", 2, 2, "node 'b' is already declared as 'B', cannot redeclare it as 'C'"),
        ("a(A) -> b()", 1, 9, "node 'b' has no component"),
        (
            "INPORT=exist.IN:works\nOUTPORT=noexist.OUT:broken\nexist(foo/Bar)",
            2,
            9,
            "outport 'broken' refers to node 'noexist', which is never declared",
        ),
        ("y -> IN b(B)\nINPORT=nothere.IN:X", 1, 1, "node 'y' has no component"),
    ];
    for &(text, line, column, message) in cases {
        assert_eq!(err(text), (line, column, message.to_string()), "for {text:?}");
    }
    // Display is "line L, column C: message".
    let e = parse("a(A) -> b(B)\nb(C) -> c(C)").unwrap_err();
    assert!(e.to_string().starts_with("line 2, column 2: node 'b'"), "{e}");
}

#[test]
fn round_trips_through_json() {
    let text = "# @runtime imgflo\n# @name rt\nINPORT=a.IN:IN\nOUTPORT=c.OUT[1]:RESULT\n\
                '5' -> X a(gegl/a:x=1,y=2,lbl) OUT[2] -> IN[0] (gegl/b) -> c(gegl/c)\n\
                {\"k\": [1, 2.5, null]} -> OPTS c";
    for case_sensitive in [false, true] {
        let g = parse_with(text, case_sensitive).unwrap();
        let back = graph_json::from_value(&graph_json::to_value(&g)).unwrap();
        assert_eq!(g, back);
        assert_eq!(g.case_sensitive, case_sensitive);
    }
    let g = ok(text);
    assert_eq!(
        g.edges().next().map(|(s, _)| s.clone()),
        Some(PortRef { node: "a".into(), port: "out".into(), index: Some(2) })
    );
}

const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/fbp");
const ORIGINALS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/original-graphs");

/// The `.fbp` files of a directory, sorted.
fn fbp_files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "fbp"))
        .collect();
    files.sort();
    files
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn data_files_parse_to_their_json() {
    let files = fbp_files(DATA_DIR);
    assert!(files.len() >= 12, "expected at least 12 cases in {DATA_DIR}");
    for fbp in files {
        let expected: serde_json::Value = serde_json::from_str(&read(&fbp.with_extension("json")))
            .unwrap_or_else(|e| panic!("{}: bad expected JSON: {e}", fbp.display()));
        let g = parse(&read(&fbp)).unwrap_or_else(|e| panic!("{}: {e}", fbp.display()));
        assert_eq!(graph_json::to_value(&g), expected, "{}", fbp.display());
        let back = graph_json::from_value(&graph_json::to_value(&g)).unwrap();
        assert_eq!(back, g, "{} does not round-trip", fbp.display());
    }
}

#[test]
fn data_files_fail_with_their_message() {
    let files = fbp_files(&format!("{DATA_DIR}/errors"));
    assert!(files.len() >= 6, "expected at least 6 error cases");
    for fbp in files {
        let expected = read(&fbp.with_extension("err"));
        match parse(&read(&fbp)) {
            Ok(_) => panic!("{} should not parse", fbp.display()),
            Err(e) => assert_eq!(e.to_string(), expected.trim_end_matches(['\n', '\r']), "{}", fbp.display()),
        }
    }
}

#[test]
fn original_graphs_parse() {
    if !std::path::Path::new(ORIGINALS).is_dir() {
        println!("skipped: {ORIGINALS} does not exist");
        return;
    }
    let mut graphs = std::collections::HashMap::new();
    for path in fbp_files(ORIGINALS) {
        let g = parse(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        graphs.insert(path.file_name().unwrap().to_string_lossy().into_owned(), g);
    }

    let crop = &graphs["crop.fbp"];
    let ins: Vec<_> = crop.inports.iter().map(|(k, p)| (k.as_str(), p.node.as_str(), p.port.as_str())).collect();
    assert_eq!(
        ins,
        [
            ("input", "crop", "input"),
            ("x", "crop", "x"),
            ("y", "crop", "y"),
            ("cropheight", "crop", "height"),
            ("cropwidth", "crop", "width"),
        ]
    );
    let outs: Vec<_> = crop.outports.iter().map(|(k, p)| format!("{k}={}.{}", p.node, p.port)).collect();
    assert_eq!(outs, ["output=nop.output"]);
    assert_eq!(conns(crop), ["crop.output -> nop.input"]);
    assert_eq!(components(crop), pairs(&[("crop", "gegl/crop"), ("nop", "gegl/nop")]));

    assert_eq!(graphs["performance.fbp"].runtime_type(), Some("none"));
    let server = &graphs["imgflo-server.fbp"];
    assert_eq!(server.runtime_type(), None, "'# !runtime' is a plain comment");
    assert_eq!(server.connections.len(), 11);
    let desaturate = &graphs["desaturate.fbp"];
    assert_eq!(desaturate.inports.keys().collect::<Vec<_>>(), ["input", "grainsize", "samples"]);
}
