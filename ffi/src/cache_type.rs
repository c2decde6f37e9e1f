//! [`edge_cache_type`]: the element type of a context's KV cache, and how a value that
//! came from C becomes the runtime's [`CacheType`].

use edge_runtime::llm::CacheType;

use crate::boundary::Failure;

/// The element type of one side (keys or values) of a context's KV cache, as llama.cpp's
/// `--cache-type-k` / `--cache-type-v`. Set in `edge_context_params.type_k` and
/// `edge_context_params.type_v` (as `int32_t`; any other value is refused with
/// `EDGE_ERR_INVALID_ARGUMENT`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum edge_cache_type {
    /// 16-bit floats, 2 bytes per value (the default, as llama.cpp's).
    EDGE_CACHE_F16 = 0,
    /// q8_0: blocks of 32 8-bit values with an f16 scale, about half the memory of f16.
    /// Needs a model whose attention head width is a multiple of 32.
    EDGE_CACHE_Q8_0 = 1,
}

impl edge_cache_type {
    /// Every type, in the order of their values.
    const ALL: [edge_cache_type; 2] = [
        edge_cache_type::EDGE_CACHE_F16,
        edge_cache_type::EDGE_CACHE_Q8_0,
    ];

    /// The runtime's type.
    pub(crate) fn runtime(self) -> CacheType {
        match self {
            edge_cache_type::EDGE_CACHE_F16 => CacheType::F16,
            edge_cache_type::EDGE_CACHE_Q8_0 => CacheType::Q8_0,
        }
    }

    /// The C type of a runtime type (`None` for one the C ABI does not have yet).
    pub(crate) fn from_runtime(ty: CacheType) -> Option<edge_cache_type> {
        edge_cache_type::ALL.into_iter().find(|t| t.runtime() == ty)
    }

    /// The name of the constant, e.g. `"EDGE_CACHE_Q8_0"`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            edge_cache_type::EDGE_CACHE_F16 => "EDGE_CACHE_F16",
            edge_cache_type::EDGE_CACHE_Q8_0 => "EDGE_CACHE_Q8_0",
        }
    }

    /// The value of a field `field` of a C structure, or `EDGE_ERR_INVALID_ARGUMENT`
    /// naming the field when it is not one of the enum's values.
    pub(crate) fn from_c(value: i32, field: &str) -> Result<edge_cache_type, Failure> {
        edge_cache_type::ALL
            .into_iter()
            .find(|&t| t as i32 == value)
            .ok_or_else(|| {
                let known = edge_cache_type::ALL
                    .map(|t| format!("{} = {}", t.name(), t as i32))
                    .join(", ");
                Failure::invalid(format!(
                    "{field} = {value} is not an edge_cache_type ({known})"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::edge_status;

    #[test]
    fn every_value_maps_and_others_are_refused() {
        assert_eq!(
            edge_cache_type::from_c(0, "type_k").map(edge_cache_type::runtime),
            Ok(CacheType::F16)
        );
        assert_eq!(
            edge_cache_type::from_c(1, "type_k").map(edge_cache_type::runtime),
            Ok(CacheType::Q8_0)
        );
        // Every runtime type is reachable from C.
        for t in CacheType::ALL {
            let c = edge_cache_type::from_runtime(t).unwrap();
            assert_eq!(c.runtime(), t);
            assert_eq!(c.name(), format!("EDGE_CACHE_{}", t.name().to_uppercase()));
        }
        for bad in [-1, 2, 7, i32::MIN, i32::MAX] {
            let e = edge_cache_type::from_c(bad, "type_v").unwrap_err();
            assert_eq!(e.status, edge_status::EDGE_ERR_INVALID_ARGUMENT);
            assert!(
                e.message.starts_with(&format!("type_v = {bad} ")),
                "{}",
                e.message
            );
        }
    }
}
