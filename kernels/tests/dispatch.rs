//! Tier selection: each available tier can be forced, an unavailable or unknown one is an
//! error (never a silent fallback), and the environment variable is honoured.

use edge_kernels::{cpu, select_tier, KernelError, KernelTable, Tier};

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
