//! The set of components a graph may use, by name.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use super::{ComponentSpec, Operation};

/// Components by name (`gegl/crop`), listed in name order.
#[derive(Clone, Default)]
pub struct Registry {
    ops: BTreeMap<&'static str, Arc<dyn Operation>>,
}

impl Registry {
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// Every built-in component. Built once and shared.
    pub fn builtin() -> &'static Registry {
        static REG: OnceLock<Registry> = OnceLock::new();
        REG.get_or_init(|| {
            let mut reg = Registry::empty();
            super::core::register(&mut reg);
            super::io::register(&mut reg);
            super::geometry::register(&mut reg);
            super::resize::register(&mut reg);
            super::blur::register(&mut reg);
            super::canvas::register(&mut reg);
            super::color::register(&mut reg);
            super::gradient::register(&mut reg);
            super::blend::register(&mut reg);
            super::filters::register(&mut reg);
            super::retro::register(&mut reg);
            super::draw::register(&mut reg);
            super::helpers::register(&mut reg);
            reg
        })
    }

    /// Adds a component; a later one with the same name replaces the earlier.
    pub fn add(&mut self, op: impl Operation) {
        self.ops.insert(op.spec().name, Arc::new(op));
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Operation>> {
        self.ops.get(name)
    }

    pub fn spec(&self, name: &str) -> Option<&ComponentSpec> {
        self.get(name).map(|op| op.spec())
    }

    pub fn specs(&self) -> impl Iterator<Item = &ComponentSpec> {
        self.ops.values().map(|op| op.spec())
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::PortType;

    #[test]
    fn every_component_is_well_formed() {
        let reg = Registry::builtin();
        assert!(reg.len() > 40, "only {} components", reg.len());
        for spec in reg.specs() {
            assert!(spec.name.contains('/') || spec.name == "Processor", "{}", spec.name);
            assert!(!spec.description.is_empty(), "{} has no description", spec.name);
            let mut names: Vec<_> = spec.inports.iter().map(|p| p.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), spec.inports.len(), "{} repeats an inport", spec.name);
            for p in &spec.inports {
                assert!(!p.description.is_empty(), "{}.{} has no description", spec.name, p.name);
                if p.ty == PortType::Enum {
                    let d = p.default.as_ref().map(|d| d.to_string());
                    assert!(d.is_none_or(|d| p.values.contains(&d.as_str())), "{}.{}", spec.name, p.name);
                }
                if let (Some(lo), Some(hi)) = (p.minimum, p.maximum) {
                    assert!(lo <= hi, "{}.{} range", spec.name, p.name);
                }
            }
        }
    }

    #[test]
    fn has_the_components_the_original_graphs_use() {
        let reg = Registry::builtin();
        for name in [
            "gegl/nop",
            "gegl/crop",
            "gegl/scale-size-keepaspect",
            "gegl/rotate-on-center",
            "gegl/rotate",
            "gegl/gaussian-blur",
            "gegl/c2g",
            "gegl/gray",
            "gegl/grey",
            "gegl/gradient-map",
            "gegl/opacity",
            "gegl/edge-sobel",
            "gegl/motion-blur-linear",
            "gegl/brightness-contrast",
            "gegl/noise-reduction",
            "gegl/noise-cie-lch",
            "svg/src-over",
            "svg/screen",
            "svg/color-dodge",
            "svg/multiply",
            "imgflo/example",
            "imgfloextra/retro-curve",
            "gegl/load",
            "gegl/png-save",
            "gegl/jpg-save",
            "core/Repeat",
            "core/Drop",
            "Processor",
        ] {
            assert!(reg.get(name).is_some(), "missing {name}");
        }
    }
}
