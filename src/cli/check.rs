//! `imgflo graphs check <dir>`.

use std::path::Path;
use std::process::ExitCode;

use imgflo_runtime::eval::Network;
use imgflo_runtime::graph::file;
use imgflo_runtime::Registry;

pub fn run(dir: &Path) -> anyhow::Result<ExitCode> {
    let files = file::list_dir(dir).map_err(|e| anyhow::anyhow!("cannot list {}: {e}", dir.display()))?;
    let (mut ok, mut failed) = (0, 0);
    for (name, path) in files {
        let graph = match file::load(&path) {
            Ok(g) => g,
            Err(e) => {
                println!("FAIL {name}: {e}");
                failed += 1;
                continue;
            }
        };
        match graph.runtime_type() {
            None | Some("imgflo" | "noflo-browser" | "noflo-nodejs") => {
                match Network::new(graph, Registry::builtin()) {
                    Ok(net) => {
                        println!("ok   {name}: {} nodes", net.graph().nodes.len());
                        for w in net.warnings() {
                            println!("     warning: {w}");
                        }
                        ok += 1;
                    }
                    Err(e) => {
                        println!("FAIL {name}: {e}");
                        failed += 1;
                    }
                }
            }
            Some(other) => {
                println!("ok   {name}: loads; runtime {other:?} is not an image-processing graph, not validated");
                ok += 1;
            }
        }
    }
    println!("{ok} passed, {failed} failed");
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
