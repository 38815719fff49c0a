//! `imgflo compare`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use imgflo_runtime::codec::{self, DecodeOptions};
use imgflo_runtime::compare;

#[derive(clap::Args, Debug)]
pub struct Args {
    a: PathBuf,
    b: PathBuf,
    /// Largest allowed per-pixel ΔE.
    #[arg(long, default_value_t = 1.5)]
    tolerance: f64,
}

fn read(path: &PathBuf) -> anyhow::Result<imgflo_runtime::Image> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let opts = DecodeOptions { auto_orient: false, ..DecodeOptions::default() };
    Ok(codec::decode(&bytes, &opts).with_context(|| format!("cannot decode {}", path.display()))?.image)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (a, b) = (read(&args.a)?, read(&args.b)?);
    let d = match compare::compare(&a, &b) {
        Ok(d) => d,
        Err(e) => {
            println!("FAIL: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let verdict = if d.max <= args.tolerance { "OK" } else { "FAIL" };
    println!(
        "{verdict}: max ΔE {:.3}, mean ΔE {:.4}, {} of {} pixels over 1.0 (tolerance {})",
        d.max, d.mean, d.over_one, d.pixels, args.tolerance
    );
    Ok(if d.max <= args.tolerance { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
