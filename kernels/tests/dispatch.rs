//! Tier selection: each available tier can be forced, an unavailable or unknown one is an
//! error (never a silent fallback), and the environment variable is honoured.

mod common;

use edge_kernels::{cpu, select_tier, KernelError, KernelTable, Tier};

/// The `flags` (x86) or `Features` (arm) words of the first CPU in /proc/cpuinfo.
fn cpuinfo_flags() -> Vec<String> {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("flags") || l.starts_with("Features"))
                .map(|l| l.split_whitespace().map(str::to_owned).collect())
        })
        .unwrap_or_default()
}

/// The SIMD tests iterate over `common::available_tables()`; a tier silently missing from
/// it would make them vacuous. On a CPU whose /proc/cpuinfo lists AVX-512 (F, BW, VL,
/// VNNI), the scalar, AVX2 and AVX-512 tables must all be there, and so on.
#[test]
fn tests_exercise_every_tier_the_cpu_has() {
    let tiers: Vec<Tier> = common::available_tables()
        .iter()
        .map(|t| t.tier())
        .collect();
    assert_eq!(tiers.first(), Some(&Tier::Scalar));
    let flags = cpuinfo_flags();
    let has = |f: &str| flags.iter().any(|w| w == f);
    #[cfg(target_arch = "x86_64")]
    {
        if ["avx2", "fma", "f16c"].iter().all(|f| has(f)) {
            assert!(
                tiers.contains(&Tier::Avx2),
                "AVX2 CPU, tiers tested: {tiers:?}"
            );
        }
        if ["avx512f", "avx512bw", "avx512vl", "avx512_vnni"]
            .iter()
            .all(|f| has(f))
        {
            assert!(
                tiers.contains(&Tier::Avx512),
                "/proc/cpuinfo lists AVX-512 + VNNI but the avx512 tier is not tested: {tiers:?}"
            );
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        // qemu-user shows the host's /proc/cpuinfo, so the tier list is checked against
        // the run-time feature detection instead; NEON is part of every aarch64 CPU.
        let _ = has;
        assert!(tiers.contains(&Tier::Neon), "tiers tested: {tiers:?}");
        if std::arch::is_aarch64_feature_detected!("dotprod") {
            assert!(
                tiers.contains(&Tier::NeonDotprod),
                "tiers tested: {tiers:?}"
            );
        }
    }
    eprintln!("tiers tested: {tiers:?}");
}

#[test]
fn every_available_tier_can_be_forced() {
    let mut available = 0;
    for tier in Tier::ALL {
        match cpu::parse_tier(tier.name()) {
            Ok(t) => {
                assert_eq!(t, tier);
                assert_eq!(KernelTable::for_tier(t).unwrap().tier(), tier);
                available += 1;
            }
            Err(e) => {
                assert!(
                    matches!(e, KernelError::TierUnavailable { tier: t, .. } if t == tier),
                    "{e}"
                );
                assert!(KernelTable::for_tier(tier).is_err());
            }
        }
    }
    assert!(available >= 1, "scalar is always available");
    assert_eq!(cpu::parse_tier(" SCALAR ").unwrap(), Tier::Scalar);
}

#[test]
fn best_tier_matches_this_cpu() {
    let best = cpu::best_tier();
    assert_eq!(KernelTable::best().tier(), best);
    #[cfg(target_arch = "x86_64")]
    {
        let avx512 = ["avx512f", "avx512bw", "avx512vl", "avx512vnni"];
        let has = |f: &str| {
            std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|s| {
                s.lines().find(|l| l.starts_with("flags")).is_some_and(|l| {
                    l.split_whitespace()
                        .any(|w| w == f.replace("avx512vnni", "avx512_vnni"))
                })
            })
        };
        if avx512.iter().all(|f| has(f)) {
            assert_eq!(best, Tier::Avx512);
        } else if has("avx2") && has("fma") && has("f16c") {
            assert_eq!(best, Tier::Avx2);
        }
        assert!(matches!(
            cpu::parse_tier("neon"),
            Err(KernelError::TierUnavailable {
                tier: Tier::Neon,
                ..
            })
        ));
    }
}

#[test]
fn unknown_tier_is_an_error() {
    let e = cpu::parse_tier("avx9000").unwrap_err();
    assert_eq!(e, KernelError::UnknownTier("avx9000".into()));
    assert!(e.to_string().contains("avx9000"));
}

/// The only test in this binary that touches the environment.
#[test]
fn env_var_forces_or_refuses() {
    std::env::set_var(cpu::TIER_ENV, "scalar");
    assert_eq!(select_tier().unwrap(), Tier::Scalar);
    assert_eq!(KernelTable::from_env().unwrap().tier(), Tier::Scalar);
    std::env::set_var(cpu::TIER_ENV, "nonsense");
    assert!(matches!(select_tier(), Err(KernelError::UnknownTier(_))));
    #[cfg(target_arch = "x86_64")]
    {
        std::env::set_var(cpu::TIER_ENV, "neon");
        assert!(matches!(
            select_tier(),
            Err(KernelError::TierUnavailable { .. })
        ));
    }
    std::env::remove_var(cpu::TIER_ENV);
    assert_eq!(select_tier().unwrap(), cpu::best_tier());
}
