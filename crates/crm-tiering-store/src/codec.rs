//! The fixed 64-byte encoding of a stored customer-month (everything but the customer id).
//!
//! Big-endian, so that the SQL views can decode it with plain byte arithmetic:
//!
//! | offset | size | field |
//! |---:|---:|---|
//! | 0 | 1 | encoding version (1) |
//! | 1 | 1 | status: 0 not_enrolled, 1 rated, 2 retained |
//! | 2 | 1 | customer kind: 0 personal, 1 corporate |
//! | 3 | 1 | flags: 1 watch, 2 below_entry, 4 special, 8 last_month, 16 has_record, 32 evaluated, 64 history |
//! | 4 | 1 | tier (index into `tier_codes`, 0 none) |
//! | 5 | 1 | effective tier (index, 0 none) |
//! | 6 | 1 | watch best tier (index, 0 none) |
//! | 7 | 1 | special VIP tier (index, 0 none) |
//! | 8 | 4 | legal entity (index into `legal_entities`, 0 none) |
//! | 12 | 4 | last month evaluated, yyyymm (0 none) |
//! | 16 | 8 | the month's AUM in fen (i64; 0 when the customer was held, flag 32 clear) |
//! | 24 | 2 | retention months left |
//! | 26 | 2 | watch short months |
//! | 28 | 4 | watch since, yyyymm |
//! | 32 | 8 | watch peak AUM in fen |
//! | 40 | 4 | below-entry run since, yyyymm |
//! | 44 | 2 | below-entry run months |
//! | 46 | 2 | reserved (0) |
//! | 48 | 8 | below-entry run peak AUM in fen |
//! | 56 | 4 | special VIP first month, yyyymm |
//! | 60 | 4 | special VIP last month, yyyymm |
//!
//! Flag 64 says that the customer has a history (SPEC §19.5), stored beside the state
//! ([`crate::layout`]): a history missing where the flag says there is one, or there where it
//! says none, is damage, never an empty history.

use crm_tiering::{
    BelowEntryRun, CustomerIdentity, CustomerKind, CustomerRef, CustomerState, Decimal, History, Month, SpecialVip,
    Status, TierCode, Watch, from_fen, to_fen,
};
use rustc_hash::FxHashMap;

use crate::StoreError;

/// The size of an encoded state.
pub const STATE_BYTES: usize = 64;
/// The version byte written at offset 0.
pub const STATE_ENCODING: u8 = 1;

pub(crate) const F_WATCH: u8 = 1;
pub(crate) const F_BELOW: u8 = 2;
pub(crate) const F_SPECIAL: u8 = 4;
pub(crate) const F_LAST: u8 = 8;
pub(crate) const F_HAS_RECORD: u8 = 16;
pub(crate) const F_EVALUATED: u8 = 32;
pub(crate) const F_HISTORY: u8 = 64;

/// Checks that a stored history is there exactly when the stored state says it is.
///
/// # Errors
/// [`StoreError::Corrupt`] naming the customer.
pub(crate) fn check_history(id: &str, row: &[u8], history: Option<&str>) -> Result<(), StoreError> {
    let flagged = row.get(3).is_some_and(|f| f & F_HISTORY != 0);
    match (flagged, history.is_some()) {
        (true, false) => Err(StoreError::Corrupt(format!(
            "the stored state of customer {id} has a history but none is stored with it: histories were deleted"
        ))),
        (false, true) => Err(StoreError::Corrupt(format!(
            "a history is stored with customer {id} whose stored state has none: histories were added or edited"
        ))),
        _ => Ok(()),
    }
}

/// Tier codes and legal entities as small indexes, as stored in `tier_codes` and
/// `legal_entities`. Index 0 means none; new entries are inserted with the month.
#[derive(Debug, Default, Clone)]
pub(crate) struct Dictionaries {
    /// The tier codes by index - 1 (a few, at most 255: found by a scan).
    tiers: Vec<TierCode>,
    entities: Vec<String>,
    /// Each legal entity's index (FxHash: looked up for every customer written).
    entity_index: FxHashMap<String, u32>,
    /// Entries added since loading: (index, code).
    pub(crate) new_tiers: Vec<(i64, String)>,
    pub(crate) new_entities: Vec<(i64, String)>,
}

impl Dictionaries {
    /// Builds from stored rows (index, code).
    pub(crate) fn load(tiers: Vec<(i64, String)>, entities: Vec<(i64, String)>) -> Result<Self, StoreError> {
        let mut d = Dictionaries::default();
        for (i, code) in tiers {
            let t = TierCode::new(&code).map_err(|e| StoreError::Corrupt(format!("tier_codes row {i}: {e}")))?;
            if i != d.tiers.len() as i64 + 1 {
                return Err(StoreError::Corrupt(format!("tier_codes: index {i} out of sequence")));
            }
            d.tiers.push(t);
        }
        for (i, code) in entities {
            if i != d.entities.len() as i64 + 1 {
                return Err(StoreError::Corrupt(format!("legal_entities: index {i} out of sequence")));
            }
            d.entity_index.insert(code.clone(), i as u32);
            d.entities.push(code);
        }
        Ok(d)
    }

    fn tier(&mut self, t: Option<TierCode>) -> Result<u8, StoreError> {
        let Some(t) = t else { return Ok(0) };
        if let Some(at) = self.tiers.iter().position(|&x| x == t) {
            // At most 255 codes are kept (below): the index fits.
            return Ok(u8::try_from(at + 1).unwrap_or(u8::MAX));
        }
        let i = u8::try_from(self.tiers.len() + 1)
            .map_err(|_| StoreError::Input("more than 255 distinct tier codes in one store".into()))?;
        self.tiers.push(t);
        self.new_tiers.push((i64::from(i), t.as_str().to_string()));
        Ok(i)
    }

    fn entity(&mut self, e: Option<&str>) -> Result<u32, StoreError> {
        let Some(e) = e else { return Ok(0) };
        if let Some(&i) = self.entity_index.get(e) {
            return Ok(i);
        }
        let i = u32::try_from(self.entities.len() + 1)
            .map_err(|_| StoreError::Input("too many distinct legal entities in one store".into()))?;
        self.entities.push(e.to_string());
        self.entity_index.insert(e.to_string(), i);
        self.new_entities.push((i64::from(i), e.to_string()));
        Ok(i)
    }

    fn tier_at(&self, i: u8) -> Result<Option<TierCode>, StoreError> {
        if i == 0 {
            return Ok(None);
        }
        self.tiers
            .get(usize::from(i) - 1)
            .copied()
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt(format!("tier index {i} is not in tier_codes")))
    }

    fn entity_at(&self, i: u32) -> Result<Option<&str>, StoreError> {
        if i == 0 {
            return Ok(None);
        }
        self.entities
            .get(i as usize - 1)
            .map(|e| Some(e.as_str()))
            .ok_or_else(|| StoreError::Corrupt(format!("legal entity index {i} is not in legal_entities")))
    }

    /// Encodes a customer-month. `evaluated` is the month's AUM and whether the customer had a
    /// record, when it was evaluated (none when it was held); `history` whether a history is
    /// stored with it.
    pub(crate) fn encode(
        &mut self,
        customer: impl CustomerIdentity,
        s: &CustomerState,
        evaluated: Option<(Decimal, bool)>,
        history: bool,
    ) -> Result<[u8; STATE_BYTES], StoreError> {
        let mut b = [0u8; STATE_BYTES];
        let who = || customer.id().to_string();
        b[0] = STATE_ENCODING;
        b[1] = match s.status {
            Status::NotEnrolled => 0,
            Status::Rated => 1,
            Status::Retained => 2,
        };
        b[2] = match customer.kind() {
            CustomerKind::Personal => 0,
            CustomerKind::Corporate => 1,
        };
        let mut flags = if history { F_HISTORY } else { 0 };
        b[4] = self.tier(s.tier)?;
        b[5] = self.tier(s.effective_tier)?;
        put_u32(&mut b, 8, self.entity(customer.legal_entity())?);
        if let Some(m) = s.last_month {
            flags |= F_LAST;
            put_month(&mut b, 12, m);
        }
        if let Some((aum, has_record)) = evaluated {
            flags |= F_EVALUATED;
            if has_record {
                flags |= F_HAS_RECORD;
            }
            put_i64(&mut b, 16, fen(aum, who)?);
        }
        put_u16(&mut b, 24, s.retention_months_left);
        if let Some(w) = &s.watch {
            flags |= F_WATCH;
            b[6] = self.tier(w.best_tier)?;
            put_u16(&mut b, 26, w.short_months);
            put_month(&mut b, 28, w.since);
            put_i64(&mut b, 32, w.peak_aum_fen);
        }
        if let Some(r) = &s.below_entry {
            flags |= F_BELOW;
            put_month(&mut b, 40, r.since);
            put_u16(&mut b, 44, r.months);
            put_i64(&mut b, 48, r.peak_aum_fen);
        }
        if let Some(sp) = &s.special {
            flags |= F_SPECIAL;
            b[7] = self.tier(Some(sp.tier))?;
            put_month(&mut b, 56, sp.first_month);
            put_month(&mut b, 60, sp.last_month);
        }
        b[3] = flags;
        Ok(b)
    }

    /// Decodes what [`Dictionaries::encode`] wrote, with the history stored beside it.
    pub(crate) fn decode<'a>(
        &'a self,
        id: &'a str,
        b: &[u8],
        history: Option<&str>,
    ) -> Result<Decoded<'a>, StoreError> {
        let bad = |why: &str| StoreError::Corrupt(format!("the stored state of customer {id}: {why}"));
        if b.len() != STATE_BYTES {
            return Err(bad(&format!("{} bytes instead of {STATE_BYTES}", b.len())));
        }
        check_history(id, b, history)?;
        let history = match history {
            Some(text) => History::from_json(text).map_err(|e| {
                StoreError::Corrupt(format!("the stored history of customer {id} does not read back: {e}"))
            })?,
            None => History::new(),
        };
        if b[0] != STATE_ENCODING {
            return Err(bad(&format!("encoding version {} is not supported", b[0])));
        }
        let status = match b[1] {
            0 => Status::NotEnrolled,
            1 => Status::Rated,
            2 => Status::Retained,
            x => return Err(bad(&format!("status byte {x}"))),
        };
        let kind = match b[2] {
            0 => CustomerKind::Personal,
            1 => CustomerKind::Corporate,
            x => return Err(bad(&format!("customer kind byte {x}"))),
        };
        let flags = b[3];
        let month = |o: usize| -> Result<Month, StoreError> {
            let v = get_u32(b, o);
            Month::from_yyyymm(i64::from(v)).map_err(|_| bad(&format!("month {v} at offset {o}")))
        };
        let state = CustomerState {
            status,
            tier: self.tier_at(b[4])?,
            effective_tier: self.tier_at(b[5])?,
            watch: if flags & F_WATCH != 0 {
                Some(Watch {
                    since: month(28)?,
                    short_months: get_u16(b, 26),
                    best_tier: self.tier_at(b[6])?,
                    peak_aum_fen: get_i64(b, 32),
                })
            } else {
                None
            },
            below_entry: if flags & F_BELOW != 0 {
                Some(BelowEntryRun { since: month(40)?, months: get_u16(b, 44), peak_aum_fen: get_i64(b, 48) })
            } else {
                None
            },
            retention_months_left: get_u16(b, 24),
            special: if flags & F_SPECIAL != 0 {
                let tier = self.tier_at(b[7])?.ok_or_else(|| bad("special VIP without a tier"))?;
                Some(SpecialVip { tier, first_month: month(56)?, last_month: month(60)? })
            } else {
                None
            },
            last_month: if flags & F_LAST != 0 { Some(month(12)?) } else { None },
        };
        let customer = CustomerRef { id, legal_entity: self.entity_at(get_u32(b, 8))?, kind };
        let evaluated = (flags & F_EVALUATED != 0).then(|| (from_fen(get_i64(b, 16)), flags & F_HAS_RECORD != 0));
        Ok(Decoded { customer, state, evaluated, history })
    }
}

/// A decoded customer-month.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decoded<'a> {
    pub(crate) customer: CustomerRef<'a>,
    pub(crate) state: CustomerState,
    pub(crate) evaluated: Option<(Decimal, bool)>,
    /// The history after the month (empty when none is stored).
    pub(crate) history: History,
}

fn fen(a: Decimal, who: impl Fn() -> String) -> Result<i64, StoreError> {
    to_fen(a)
        .ok_or_else(|| StoreError::Input(format!("customer {}: the amount {a} is not a whole number of fen", who())))
}

fn put_u16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_be_bytes());
}
fn put_u32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_be_bytes());
}
fn put_i64(b: &mut [u8], o: usize, v: i64) {
    b[o..o + 8].copy_from_slice(&v.to_be_bytes());
}
fn put_month(b: &mut [u8], o: usize, m: Month) {
    put_u32(b, o, m.yyyymm() as u32);
}
fn get_u16(b: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([b[o], b[o + 1]])
}
fn get_u32(b: &[u8], o: usize) -> u32 {
    u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
fn get_i64(b: &[u8], o: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[o..o + 8]);
    i64::from_be_bytes(a)
}

/// SQL that decodes the encoding, for the people's JSON view: each dialect
/// ([`crate::dialect`]) gives the byte access and the text functions.
pub(crate) trait ViewSql {
    /// The unsigned byte at offset `o` of column `state`.
    fn byte(&self, o: usize) -> String;
    /// A month (yyyymm integer expression) as `YYYY-MM` text.
    fn month_text(&self, e: &str) -> String;
    /// An amount in fen (integer expression) as decimal text with two decimals.
    fn amount_text(&self, e: &str) -> String;
    /// A JSON object from (key, SQL value) pairs; `json` marks values that are JSON already.
    fn object(&self, pairs: &[(&str, String, bool)]) -> String;
    /// The JSON null-or-object for a flag.
    fn when(&self, flag: u8, object: String) -> String {
        format!("CASE WHEN {} THEN {object} END", self.flag(flag))
    }
    /// A tier code from an index expression (null for 0).
    fn tier(&self, e: &str) -> String {
        format!("(SELECT code FROM tier_codes WHERE idx = ({e}))")
    }
    /// A legal entity from an index expression.
    fn entity(&self, e: &str) -> String {
        format!("(SELECT code FROM legal_entities WHERE idx = ({e}))")
    }

    fn unsigned(&self, o: usize, n: usize) -> String {
        let mut parts = Vec::new();
        for k in 0..n {
            let shift = 8 * (n - 1 - k);
            parts.push(format!("({}) * {}", self.byte(o + k), 1u64 << shift));
        }
        format!("({})", parts.join(" + "))
    }

    fn signed64(&self, o: usize) -> String {
        let b0 = self.byte(o);
        let hi = format!("(({b0}) - CASE WHEN ({b0}) >= 128 THEN 256 ELSE 0 END) * {}", 1u64 << 56);
        let mut parts = vec![hi];
        for k in 1..8 {
            parts.push(format!("({}) * {}", self.byte(o + k), 1u64 << (8 * (7 - k))));
        }
        format!("({})", parts.join(" + "))
    }

    fn flag(&self, f: u8) -> String {
        format!("(({}) / {f}) % 2 = 1", self.byte(3))
    }

    /// The JSON of the state, shaped as `CustomerState::to_json`.
    fn state_json(&self) -> String {
        let m = |o| self.month_text(&self.unsigned(o, 4));
        let watch = self.object(&[
            ("since", m(28), false),
            ("short_months", self.unsigned(26, 2), false),
            ("best_tier", self.tier(&self.byte(6)), false),
            ("peak_aum", self.amount_text(&self.signed64(32)), false),
        ]);
        let below = self.object(&[
            ("since", m(40), false),
            ("months", self.unsigned(44, 2), false),
            ("peak_aum", self.amount_text(&self.signed64(48)), false),
        ]);
        let special = self.object(&[
            ("tier", self.tier(&self.byte(7)), false),
            ("first_month", m(56), false),
            ("last_month", m(60), false),
        ]);
        let status =
            format!("CASE {} WHEN 0 THEN 'not_enrolled' WHEN 1 THEN 'rated' WHEN 2 THEN 'retained' END", self.byte(1));
        self.object(&[
            ("schema_version", "1".into(), false),
            ("status", status, false),
            ("tier", self.tier(&self.byte(4)), false),
            ("effective_tier", self.tier(&self.byte(5)), false),
            ("watch", self.when(F_WATCH, watch), true),
            ("below_entry", self.when(F_BELOW, below), true),
            ("retention_months_left", self.unsigned(24, 2), false),
            ("special", self.when(F_SPECIAL, special), true),
            ("last_month", format!("CASE WHEN {} THEN {} END", self.flag(F_LAST), m(12)), false),
        ])
    }

    /// The `states_json` view: one row per stored customer-month, readable by people.
    fn view_sql(&self) -> String {
        format!(
            "CREATE VIEW states_json AS SELECT s.month AS month, s.customer_id AS customer_id, \
             {entity} AS legal_entity, CASE {kind} WHEN 0 THEN 'personal' ELSE 'corporate' END AS customer_kind, \
             CASE WHEN {evaluated} THEN {aum} END AS aum, \
             CASE WHEN {evaluated} THEN ({has_record}) END AS has_record, \
             {json} AS state FROM states s",
            entity = self.entity(&self.unsigned(8, 4)),
            kind = self.byte(2),
            evaluated = self.flag(F_EVALUATED),
            aum = self.amount_text(&self.signed64(16)),
            has_record = self.flag(F_HAS_RECORD),
            json = self.state_json(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_full_state() -> Result<(), Box<dyn std::error::Error>> {
        let gold: TierCode = "gold".parse()?;
        let plat: TierCode = "platinum".parse()?;
        let s = CustomerState {
            status: Status::Rated,
            tier: Some(plat),
            effective_tier: Some(plat),
            watch: Some(Watch {
                since: "2024-02".parse()?,
                short_months: 2,
                best_tier: Some(gold),
                peak_aum_fen: 43_210_007,
            }),
            below_entry: Some(BelowEntryRun { since: "2024-03".parse()?, months: 1, peak_aum_fen: -550 }),
            retention_months_left: 0,
            special: Some(SpecialVip { tier: gold, first_month: "2024-01".parse()?, last_month: "2024-12".parse()? }),
            last_month: Some("2024-03".parse()?),
        };
        let c =
            crm_tiering::Customer { id: "c1".into(), legal_entity: Some("le01".into()), kind: CustomerKind::Corporate };
        let mut d = Dictionaries::default();
        let aum = crm_tiering::parse_amount("999999999999999.99")?;
        let b = d.encode(&c, &s, Some((aum, true)), false)?;
        let back = d.decode("c1", &b, None)?;
        assert_eq!(back.state, s);
        assert_eq!(back.customer, c.borrowed());
        assert_eq!(back.evaluated, Some((aum, true)));
        let empty = d.encode(crm_tiering::Customer::personal("c2"), &CustomerState::default(), None, false)?;
        let back = d.decode("c2", &empty, None)?;
        assert_eq!(back.state, CustomerState::default());
        assert_eq!(back.evaluated, None);
        assert!(back.history.is_empty());
        Ok(())
    }

    #[test]
    fn a_history_decodes_with_its_state_and_is_never_silently_lost() -> Result<(), Box<dyn std::error::Error>> {
        let mut d = Dictionaries::default();
        let s = CustomerState::default();
        let mut h = History::new();
        h.set_months("aum".parse()?, &[Some(crm_tiering::parse_amount("6100000")?), None])?;
        let text = h.to_json();
        let with = d.encode(crm_tiering::Customer::personal("c1"), &s, None, true)?;
        let without = d.encode(crm_tiering::Customer::personal("c1"), &s, None, false)?;
        assert_eq!(with[3], without[3] | F_HISTORY);
        assert_eq!(d.decode("c1", &with, Some(&text))?.history, h);
        // Missing, unexpected and damaged histories are errors naming the customer.
        for (row, history) in [(&with, None), (&without, Some(text.as_str())), (&with, Some(r#"{"aum":["x"]}"#))] {
            match d.decode("c1", row, history) {
                Err(e) => assert!(e.to_string().contains("customer c1"), "{e}"),
                Ok(x) => panic!("decoded {x:?}"),
            }
        }
        Ok(())
    }
}
