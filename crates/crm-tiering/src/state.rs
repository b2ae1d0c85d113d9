//! A customer's tier standing between monthly evaluations.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::code::TierCode;
use crate::error::{StateError, TieringError};
use crate::money::{from_fen, parse_amount, to_fen};
use crate::month::Month;

/// The state schema version written by this library. Reading any other version is an error.
pub const STATE_SCHEMA_VERSION: u32 = 1;

/// Where a customer stands in VIP management.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 未纳入: not in VIP management (never entered, or fully exited).
    #[default]
    NotEnrolled,
    /// 已评级: rated at a tier.
    Rated,
    /// 已退未评级: exited, kept for the former manager during the retention months.
    Retained,
}

impl Status {
    /// Every status, in order (for bindings that list or encode them).
    pub const ALL: [Status; 3] = [Status::NotEnrolled, Status::Rated, Status::Retained];

    /// The code used in files: `not_enrolled`, `rated` or `retained`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotEnrolled => "not_enrolled",
            Status::Rated => "rated",
            Status::Retained => "retained",
        }
    }

    /// The Chinese display name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Status::NotEnrolled => "未纳入",
            Status::Rated => "已评级",
            Status::Retained => "已退未评级",
        }
    }
}

/// A downgrade watch (关注) in progress: consecutive months short of the current tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Watch {
    /// First short month of the watch.
    pub since: Month,
    /// Consecutive short months so far.
    #[serde(deserialize_with = "month_count::deserialize")]
    pub short_months: u16,
    /// Highest tier qualified in the watch's months (none when every month was below entry).
    pub best_tier: Option<TierCode>,
    /// Highest AUM in the watch's months, in fen (AUMs are whole fen, SPEC §16); written
    /// `peak_aum` as a decimal string in JSON. See [`Watch::peak_aum`].
    #[serde(rename = "peak_aum", with = "fen_text")]
    pub peak_aum_fen: i64,
}

impl Watch {
    /// Highest AUM in the watch's months.
    pub fn peak_aum(&self) -> Decimal {
        from_fen(self.peak_aum_fen)
    }
}

/// A run of consecutive months below the entry threshold while rated (the exit counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BelowEntryRun {
    /// First month of the run.
    pub since: Month,
    /// Consecutive months so far.
    #[serde(deserialize_with = "month_count::deserialize")]
    pub months: u16,
    /// Highest AUM in the run, in fen; written `peak_aum` as a decimal string in JSON. See
    /// [`BelowEntryRun::peak_aum`].
    #[serde(rename = "peak_aum", with = "fen_text")]
    pub peak_aum_fen: i64,
}

impl BelowEntryRun {
    /// Highest AUM in the run.
    pub fn peak_aum(&self) -> Decimal {
        from_fen(self.peak_aum_fen)
    }
}

/// A special VIP (特殊VIP) designation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialVip {
    /// The designated tier.
    pub tier: TierCode,
    /// First month the designation is effective.
    pub first_month: Month,
    /// Last month the designation is effective.
    pub last_month: Month,
}

impl SpecialVip {
    /// Whether the designation is effective in a month.
    pub fn is_active_in(&self, month: Month) -> bool {
        self.first_month <= month && month <= self.last_month
    }
}

/// A customer's standing, effective for the month after the last evaluated one.
///
/// States are plain `Copy` values with no allocation, at most 64 bytes (tier codes are 2-byte
/// interned handles, month counts `u16`, peaks whole fen), so ten million of them fit in
/// 640 MB. They serialize (serde) with a
/// `schema_version`; see [`CustomerState::to_json`] and [`CustomerState::from_json`].
///
/// ```
/// use crm_tiering::{CustomerState, Status};
/// let s = CustomerState::default();
/// assert_eq!(s.status, Status::NotEnrolled);
/// let back = CustomerState::from_json(&s.to_json())?;
/// assert_eq!(back, s);
/// # Ok::<(), crm_tiering::TieringError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CustomerState {
    /// Status in VIP management.
    pub status: Status,
    /// The earned tier: the current tier when rated, the last tier when retained, none otherwise.
    pub tier: Option<TierCode>,
    /// The effective tier: the higher of the earned tier (when rated) and an active special VIP
    /// designation's tier; none when neither applies.
    pub effective_tier: Option<TierCode>,
    /// The downgrade watch in progress.
    pub watch: Option<Watch>,
    /// The run of months below entry while rated (the exit counter).
    pub below_entry: Option<BelowEntryRun>,
    /// Months of retention left (status retained only).
    pub retention_months_left: u16,
    /// The special VIP designation, while it lasts.
    pub special: Option<SpecialVip>,
    /// The last month evaluated; the state is effective for the month after it.
    pub last_month: Option<Month>,
}

impl CustomerState {
    /// The month this state is effective for (the month after the last evaluated one).
    pub fn effective_month(&self) -> Option<Month> {
        self.last_month.map(Month::next)
    }

    /// Consecutive short months of the watch in progress (0 when none).
    pub fn watch_months(&self) -> u32 {
        self.watch.map_or(0, |w| u32::from(w.short_months))
    }

    /// Consecutive months below entry while rated, the exit counter (0 when none).
    pub fn below_entry_months(&self) -> u32 {
        self.below_entry.map_or(0, |r| u32::from(r.months))
    }

    /// Whether the customer counts as a VIP in statistics (rated, or an active special VIP).
    pub fn is_vip(&self) -> bool {
        self.effective_tier.is_some()
    }

    /// Serializes the state to JSON with its schema version.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a state written by [`CustomerState::to_json`].
    ///
    /// # Errors
    /// [`StateError::SchemaVersion`] for another schema version, [`StateError::Malformed`]
    /// for anything that is not a state.
    pub fn from_json(text: &str) -> Result<Self, TieringError> {
        #[derive(Deserialize)]
        struct Probe {
            schema_version: Option<u32>,
        }
        let probe: Probe = serde_json::from_str(text).map_err(|e| StateError::Malformed(e.to_string()))?;
        match probe.schema_version {
            Some(STATE_SCHEMA_VERSION) => {}
            Some(found) => {
                return Err(StateError::SchemaVersion { found, supported: STATE_SCHEMA_VERSION }.into());
            }
            None => return Err(StateError::Malformed("missing field `schema_version`".into()).into()),
        }
        serde_json::from_str(text).map_err(|e| StateError::Malformed(e.to_string()).into())
    }
}

/// The serialized form: the state's fields after a `schema_version`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateRepr {
    schema_version: u32,
    status: Status,
    #[serde(default)]
    tier: Option<TierCode>,
    #[serde(default)]
    effective_tier: Option<TierCode>,
    #[serde(default)]
    watch: Option<Watch>,
    #[serde(default)]
    below_entry: Option<BelowEntryRun>,
    #[serde(default, deserialize_with = "month_count::deserialize")]
    retention_months_left: u16,
    #[serde(default)]
    special: Option<SpecialVip>,
    #[serde(default)]
    last_month: Option<Month>,
}

impl Serialize for CustomerState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StateRepr {
            schema_version: STATE_SCHEMA_VERSION,
            status: self.status,
            tier: self.tier,
            effective_tier: self.effective_tier,
            watch: self.watch,
            below_entry: self.below_entry,
            retention_months_left: self.retention_months_left,
            special: self.special,
            last_month: self.last_month,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CustomerState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let r = StateRepr::deserialize(deserializer)?;
        if r.schema_version != STATE_SCHEMA_VERSION {
            return Err(serde::de::Error::custom(StateError::SchemaVersion {
                found: r.schema_version,
                supported: STATE_SCHEMA_VERSION,
            }));
        }
        Ok(CustomerState {
            status: r.status,
            tier: r.tier,
            effective_tier: r.effective_tier,
            watch: r.watch,
            below_entry: r.below_entry,
            retention_months_left: r.retention_months_left,
            special: r.special,
            last_month: r.last_month,
        })
    }
}

// Ten million states in at most 640 MB: checked when the crate is built.
const _: () = assert!(std::mem::size_of::<CustomerState>() <= 64);

/// Month counts in JSON: a whole number of months up to 65535.
mod month_count {
    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        let n = i64::deserialize(d)?;
        u16::try_from(n)
            .map_err(|_| serde::de::Error::custom(format!("month count {n} is not a whole number from 0 to 65535")))
    }
}

/// An amount in fen written as a decimal string in yuan (`"700000.00"`); reading refuses
/// more decimals than fen.
mod fen_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{from_fen, parse_amount, to_fen};

    pub(super) fn serialize<S: Serializer>(fen: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&from_fen(*fen))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        let amount = parse_amount(&text).map_err(serde::de::Error::custom)?;
        to_fen(amount).ok_or_else(|| serde::de::Error::custom(format!("peak AUM {text} is not a whole number of fen")))
    }
}
