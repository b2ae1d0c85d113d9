//! Reading back the codes the outputs write: a lineage line's kind, as a store or a file keeps
//! it.

use crate::lineage::LineKind;

impl LineKind {
    /// Every kind, in lineage order.
    pub const ALL: [LineKind; 7] = [
        LineKind::InterestAsset,
        LineKind::InterestLiability,
        LineKind::Fee,
        LineKind::AllocatedCost,
        LineKind::DirectCost,
        LineKind::RiskCost,
        LineKind::CapitalCharge,
    ];

    /// Reads a code as [`LineKind::as_str`] writes it (`interest_asset`, ..., `capital_charge`).
    #[must_use]
    pub fn parse(code: &str) -> Option<LineKind> {
        LineKind::ALL.into_iter().find(|k| k.as_str() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back() {
        for k in LineKind::ALL {
            assert_eq!(LineKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(LineKind::parse("interest"), None);
        for r in [crate::Role::Lead, crate::Role::Assisting] {
            assert_eq!((crate::Role::parse(r.as_str()), crate::Role::parse(r.name_zh())), (Some(r), Some(r)));
        }
    }
}
