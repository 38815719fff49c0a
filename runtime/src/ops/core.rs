//! Pass-through and message components: `gegl/nop`, imgflo's `Processor` pseudo
//! component, and noflo's `core/Repeat` and `core/Drop` (used by the FBP protocol
//! conformance suite).

use super::{filter_spec, ComponentSpec, FnOp, Outputs, Registry};
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec("gegl/nop", "No operation (can be used as a routing point)", vec![]),
        run: |inputs, _| Ok(Outputs::shared(inputs.require_image("input")?.clone())),
    });
    reg.add(FnOp {
        spec: ComponentSpec {
            name: "Processor",
            description: "Renders the node connected to it (imgflo's processing trigger; evaluation is on demand here, so it only marks a target)",
            icon: "spinner",
            inports: vec![PortSpec::buffer("input")],
            outports: vec![],
        },
        run: |_, _| Ok(Outputs::none()),
    });
    reg.add(FnOp {
        spec: ComponentSpec {
            name: "core/Repeat",
            description: "Forwards packets and brackets from inport to outport",
            icon: "forward",
            inports: vec![PortSpec::message("in", "Packet to forward")],
            outports: vec![PortSpec::message("out", "Forwarded packet")],
        },
        run: |inputs, _| {
            Ok(match inputs.get("in") {
                Some(v) => Outputs(vec![("out", v.clone())]),
                None => Outputs::none(),
            })
        },
    });
    reg.add(FnOp {
        spec: ComponentSpec {
            name: "core/Drop",
            description: "Drops every packet it receives",
            icon: "trash-o",
            inports: vec![PortSpec::message("in", "Packet to drop")],
            outports: vec![],
        },
        run: |_, _| Ok(Outputs::none()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Inputs, OpError, RunContext};
    use crate::pixels::Image;
    use crate::value::Value;
    use std::sync::Arc;

    #[test]
    fn nop_shares_its_input() {
        let op = Registry::builtin().get("gegl/nop").unwrap();
        let img = Arc::new(Image::from_rgb8(1, 1, vec![1, 2, 3]).unwrap());
        let mut inputs = Inputs::new();
        inputs.set("input", Value::Image(img.clone()));
        let out = op.run(&inputs, &RunContext::default()).unwrap();
        assert!(Arc::ptr_eq(out.get("output").unwrap().as_image().unwrap(), &img));
        assert!(matches!(op.run(&Inputs::new(), &RunContext::default()), Err(OpError::MissingInput("input"))));
    }

    #[test]
    fn repeat_forwards_and_drop_swallows() {
        let reg = Registry::builtin();
        let mut inputs = Inputs::new();
        inputs.set("in", Value::Json(serde_json::json!({"a": 1})));
        let out = reg.get("core/Repeat").unwrap().run(&inputs, &RunContext::default()).unwrap();
        assert_eq!(out.get("out").unwrap().to_json(), serde_json::json!({"a": 1}));
        let out = reg.get("core/Drop").unwrap().run(&inputs, &RunContext::default()).unwrap();
        assert!(out.0.is_empty());
    }
}
