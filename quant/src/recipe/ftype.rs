//! llama.cpp's file types (`LLAMA_FTYPE_*`): the number a quantized GGUF records in
//! `general.file_type`, naming the recipe that produced it.

use edge_formats::GgmlType;
use std::fmt;

/// A llama.cpp quantization recipe that edge can produce, identified by its
/// `LLAMA_FTYPE_*` number.
///
/// A file type fixes a default tensor type, and for the k-quant mixes a set of rules that
/// give some tensors more bits (see [`super::plan_tensors`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum FileType {
    /// Every weight f32.
    F32,
    /// Every weight f16.
    F16,
    /// Every weight bf16.
    BF16,
    /// Mostly q4_0.
    Q4_0,
    /// Mostly q4_1.
    Q4_1,
    /// Mostly q5_0.
    Q5_0,
    /// Mostly q5_1.
    Q5_1,
    /// Mostly q8_0.
    Q8_0,
    /// Mostly q2_K, with q3_K/q4_K where it matters.
    Q2_K,
    /// q3_K, small.
    Q3_K_S,
    /// q3_K, medium.
    Q3_K_M,
    /// q3_K, large.
    Q3_K_L,
    /// q4_K, small.
    Q4_K_S,
    /// q4_K, medium.
    Q4_K_M,
    /// q5_K, small.
    Q5_K_S,
    /// q5_K, medium.
    Q5_K_M,
    /// Mostly q6_K.
    Q6_K,
    /// Mostly iq4_nl.
    IQ4_NL,
    /// Mostly iq4_xs.
    IQ4_XS,
}

impl FileType {
    /// Every file type edge can produce.
    pub const ALL: [FileType; 19] = [
        FileType::F32,
        FileType::F16,
        FileType::BF16,
        FileType::Q4_0,
        FileType::Q4_1,
        FileType::Q5_0,
        FileType::Q5_1,
        FileType::Q8_0,
        FileType::Q2_K,
        FileType::Q3_K_S,
        FileType::Q3_K_M,
        FileType::Q3_K_L,
        FileType::Q4_K_S,
        FileType::Q4_K_M,
        FileType::Q5_K_S,
        FileType::Q5_K_M,
        FileType::Q6_K,
        FileType::IQ4_NL,
        FileType::IQ4_XS,
    ];

    /// The `LLAMA_FTYPE_*` number, as stored in `general.file_type`.
    pub fn id(self) -> u32 {
        use FileType::*;
        match self {
            F32 => 0,
            F16 => 1,
            Q4_0 => 2,
            Q4_1 => 3,
            Q8_0 => 7,
            Q5_0 => 8,
            Q5_1 => 9,
            Q2_K => 10,
            Q3_K_S => 11,
            Q3_K_M => 12,
            Q3_K_L => 13,
            Q4_K_S => 14,
            Q4_K_M => 15,
            Q5_K_S => 16,
            Q5_K_M => 17,
            Q6_K => 18,
            IQ4_NL => 25,
            IQ4_XS => 30,
            BF16 => 32,
        }
    }

    /// The name `llama-quantize` accepts for it, lower-cased: `q4_k_m`, `f16`, …
    pub fn name(self) -> &'static str {
        use FileType::*;
        match self {
            F32 => "f32",
            F16 => "f16",
            BF16 => "bf16",
            Q4_0 => "q4_0",
            Q4_1 => "q4_1",
            Q5_0 => "q5_0",
            Q5_1 => "q5_1",
            Q8_0 => "q8_0",
            Q2_K => "q2_k",
            Q3_K_S => "q3_k_s",
            Q3_K_M => "q3_k_m",
            Q3_K_L => "q3_k_l",
            Q4_K_S => "q4_k_s",
            Q4_K_M => "q4_k_m",
            Q5_K_S => "q5_k_s",
            Q5_K_M => "q5_k_m",
            Q6_K => "q6_k",
            IQ4_NL => "iq4_nl",
            IQ4_XS => "iq4_xs",
        }
    }

    /// The file type named `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<FileType> {
        FileType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// The tensor type most weights get.
    pub fn default_type(self) -> GgmlType {
        use FileType::*;
        match self {
            F32 => GgmlType::F32,
            F16 => GgmlType::F16,
            BF16 => GgmlType::BF16,
            Q4_0 => GgmlType::Q4_0,
            Q4_1 => GgmlType::Q4_1,
            Q5_0 => GgmlType::Q5_0,
            Q5_1 => GgmlType::Q5_1,
            Q8_0 => GgmlType::Q8_0,
            Q2_K => GgmlType::Q2_K,
            Q3_K_S | Q3_K_M | Q3_K_L => GgmlType::Q3_K,
            Q4_K_S | Q4_K_M => GgmlType::Q4_K,
            Q5_K_S | Q5_K_M => GgmlType::Q5_K,
            Q6_K => GgmlType::Q6_K,
            IQ4_NL => GgmlType::IQ4_NL,
            IQ4_XS => GgmlType::IQ4_XS,
        }
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The llama-quantize name of any `LLAMA_FTYPE_*` number, including those edge cannot
/// produce, so that `info` can describe files made elsewhere. `None` for numbers llama.cpp
/// never assigned or has removed.
pub fn file_type_name(id: u32) -> Option<&'static str> {
    Some(match id {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        4 => "Q4_1_SOME_F16",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        39 => "NVFP4",
        40 => "Q1_0",
        41 => "Q2_0",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_llama_cpp_numbers() {
        // Numbers from llama.h's `enum llama_ftype`.
        assert_eq!(FileType::F32.id(), 0);
        assert_eq!(FileType::Q8_0.id(), 7);
        assert_eq!(FileType::Q5_0.id(), 8);
        assert_eq!(FileType::Q2_K.id(), 10);
        assert_eq!(FileType::Q4_K_M.id(), 15);
        assert_eq!(FileType::Q6_K.id(), 18);
        assert_eq!(FileType::IQ4_NL.id(), 25);
        assert_eq!(FileType::IQ4_XS.id(), 30);
        assert_eq!(FileType::BF16.id(), 32);
    }

    #[test]
    fn names_round_trip_and_agree_with_file_type_name() {
        for t in FileType::ALL {
            assert_eq!(FileType::from_name(t.name()), Some(t));
            assert_eq!(FileType::from_name(&t.name().to_uppercase()), Some(t));
            assert_eq!(
                file_type_name(t.id()),
                Some(t.name().to_uppercase().as_str())
            );
        }
        assert_eq!(file_type_name(5), None);
        assert_eq!(file_type_name(1024), None);
    }
}
