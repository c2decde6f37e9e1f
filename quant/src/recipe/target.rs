//! What the user asked `quantize` for: a llama.cpp file type (a mix) or one tensor type.

use super::{FileType, RecipeError};
use edge_formats::GgmlType;
use std::fmt;

/// The target of a quantization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuantTarget {
    /// Every quantizable weight gets this type (like `llama-quantize --pure`), except where
    /// its row length forces a fallback. Only the k-quant block types that llama.cpp has no
    /// file type of their own for (`q3_k`, `q4_k`, `q5_k`) parse to this; every other name
    /// is a [`FileType`].
    Single(GgmlType),
    /// A llama.cpp file type with its per-tensor rules, as `llama-quantize` applies them.
    Mix(FileType),
}

/// Block types that parse as [`QuantTarget::Single`]. llama-quantize reads these names as
/// aliases of the `_m` mixes; edge gives them their literal meaning, and the mixes keep
/// their own names.
const SINGLE_TYPES: [GgmlType; 3] = [GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K];

/// llama-quantize targets that edge cannot produce (yet): named so that the error says
/// "not supported" rather than "unknown".
const UNSUPPORTED_MIXES: [&str; 14] = [
    "q2_k_s",
    "iq2_xxs",
    "iq2_xs",
    "iq2_s",
    "iq2_m",
    "iq1_s",
    "iq1_m",
    "iq3_xxs",
    "iq3_xs",
    "iq3_s",
    "iq3_m",
    "tq1_0",
    "tq2_0",
    "mxfp4_moe",
];

impl QuantTarget {
    /// Parses a target name, case-insensitively: a file type name (`q4_k_m`, `q8_0`,
    /// `f16`, …; `q2_k` and `q6_k` are the file types) or `q3_k` / `q4_k` / `q5_k`.
    pub fn parse(name: &str) -> Result<QuantTarget, RecipeError> {
        let name = name.trim();
        if let Some(ft) = FileType::from_name(name) {
            return Ok(QuantTarget::Mix(ft));
        }
        if let Some(ty) = GgmlType::from_name(name) {
            if SINGLE_TYPES.contains(&ty) {
                return Ok(QuantTarget::Single(ty));
            }
            if matches!(ty, GgmlType::Q8_1 | GgmlType::Q8_K) {
                return Err(RecipeError::IntermediateType(ty));
            }
            return Err(RecipeError::UnsupportedTarget(name.to_ascii_lowercase()));
        }
        if UNSUPPORTED_MIXES
            .iter()
            .any(|m| m.eq_ignore_ascii_case(name))
        {
            return Err(RecipeError::UnsupportedTarget(name.to_ascii_lowercase()));
        }
        Err(RecipeError::UnknownTarget(name.to_string()))
    }

    /// Every name [`QuantTarget::parse`] accepts, lower-case, for help and error texts.
    pub fn valid_names() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = FileType::ALL.iter().map(|t| t.name()).collect();
        names.extend(["q3_k", "q4_k", "q5_k"]);
        names
    }

    /// The type most weights get.
    pub fn default_type(self) -> GgmlType {
        match self {
            QuantTarget::Single(ty) => ty,
            QuantTarget::Mix(ft) => ft.default_type(),
        }
    }

    /// The `general.file_type` to record. For a single k-quant type this is the `_M` mix of
    /// that type: what `llama-quantize --pure` records, and what llama.cpp guesses for a
    /// file whose tensors are mostly of that type.
    pub fn file_type(self) -> FileType {
        match self {
            QuantTarget::Mix(ft) => ft,
            QuantTarget::Single(GgmlType::Q3_K) => FileType::Q3_K_M,
            QuantTarget::Single(GgmlType::Q5_K) => FileType::Q5_K_M,
            QuantTarget::Single(_) => FileType::Q4_K_M,
        }
    }
}

impl fmt::Display for QuantTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantTarget::Single(ty) => write!(f, "{}", ty.name().to_ascii_lowercase()),
            QuantTarget::Mix(ft) => f.write_str(ft.name()),
        }
    }
}

impl std::str::FromStr for QuantTarget {
    type Err = RecipeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        QuantTarget::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_type_names_win_over_type_names() {
        // q2_k and q6_k are both a block type and a llama.cpp file type: the file type wins.
        assert_eq!(
            QuantTarget::parse("q2_k"),
            Ok(QuantTarget::Mix(FileType::Q2_K))
        );
        assert_eq!(
            QuantTarget::parse("Q6_K"),
            Ok(QuantTarget::Mix(FileType::Q6_K))
        );
        assert_eq!(
            QuantTarget::parse("q4_0"),
            Ok(QuantTarget::Mix(FileType::Q4_0))
        );
        assert_eq!(
            QuantTarget::parse("IQ4_XS"),
            Ok(QuantTarget::Mix(FileType::IQ4_XS))
        );
        assert_eq!(
            QuantTarget::parse("f16"),
            Ok(QuantTarget::Mix(FileType::F16))
        );
        assert_eq!(
            QuantTarget::parse("Q4_K_M"),
            Ok(QuantTarget::Mix(FileType::Q4_K_M))
        );
    }

    #[test]
    fn bare_k_types_are_single() {
        assert_eq!(
            QuantTarget::parse("q4_k"),
            Ok(QuantTarget::Single(GgmlType::Q4_K))
        );
        assert_eq!(
            QuantTarget::parse("Q3_K"),
            Ok(QuantTarget::Single(GgmlType::Q3_K))
        );
        assert_eq!(
            QuantTarget::parse("q5_K"),
            Ok(QuantTarget::Single(GgmlType::Q5_K))
        );
        assert_eq!(
            QuantTarget::Single(GgmlType::Q4_K).file_type(),
            FileType::Q4_K_M
        );
    }

    #[test]
    fn rejects_intermediate_unsupported_and_unknown() {
        assert_eq!(
            QuantTarget::parse("q8_1"),
            Err(RecipeError::IntermediateType(GgmlType::Q8_1))
        );
        assert_eq!(
            QuantTarget::parse("Q8_K"),
            Err(RecipeError::IntermediateType(GgmlType::Q8_K))
        );
        assert_eq!(
            QuantTarget::parse("iq2_xxs"),
            Err(RecipeError::UnsupportedTarget("iq2_xxs".into()))
        );
        assert_eq!(
            QuantTarget::parse("Q2_K_S"),
            Err(RecipeError::UnsupportedTarget("q2_k_s".into()))
        );
        assert_eq!(
            QuantTarget::parse("q4_k_x"),
            Err(RecipeError::UnknownTarget("q4_k_x".into()))
        );
        assert!(QuantTarget::parse("").is_err());
    }

    #[test]
    fn every_valid_name_parses() {
        for name in QuantTarget::valid_names() {
            let t = QuantTarget::parse(name).unwrap();
            assert_eq!(t.to_string(), name);
        }
    }
}
