//! Unit codes: ioc's own stable code of a unit and the other code systems
//! in which a unit may be known.

use std::fmt;

use serde::Serialize;

/// Longest unit code accepted.
pub const MAX_CODE_LEN: usize = 32;

/// The stable code of a unit, e.g. the GSO code `25432`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, pattern = "^[A-Za-z0-9._-]{1,32}$", example = "25432")
)]
#[serde(transparent)]
pub struct UnitCode(String);

impl UnitCode {
    /// Parses a code: 1 to 32 characters of `A-Z a-z 0-9 . _ -`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::try_from(raw.to_owned())
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UnitCode {
    type Error = String;

    /// Takes `raw` when it is valid, without copying it.
    fn try_from(raw: String) -> Result<UnitCode, String> {
        if raw.is_empty() {
            return Err("is empty".to_owned());
        }
        if raw.len() > MAX_CODE_LEN {
            return Err(format!("{raw:?} is longer than {MAX_CODE_LEN} characters"));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!(
                "{raw:?} contains {bad:?}; a unit code is made of letters, digits, '.', '_' and '-'"
            ));
        }
        Ok(Self(raw))
    }
}

impl<'de> serde::Deserialize<'de> for UnitCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<UnitCode, D::Error> {
        let raw = <String as serde::Deserialize>::deserialize(d)?;
        UnitCode::try_from(raw).map_err(serde::de::Error::custom)
    }
}

impl PartialEq<&str> for UnitCode {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for UnitCode {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A code system other than ioc's own in which a unit is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AliasSystem {
    /// DVCQG agency code, e.g. `H44.07`.
    Dvcqg,
    /// E-government identifier (`MaDinhDanh`), e.g. `000.00.01.H22`.
    MaDinhDanh,
    /// The code of the province's one-stop-shop software.
    Local,
}

impl AliasSystem {
    /// Every alias system.
    pub const ALL: [AliasSystem; 3] = [
        AliasSystem::Dvcqg,
        AliasSystem::MaDinhDanh,
        AliasSystem::Local,
    ];

    /// Name used in files and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            AliasSystem::Dvcqg => "dvcqg",
            AliasSystem::MaDinhDanh => "ma_dinh_danh",
            AliasSystem::Local => "local",
        }
    }

    /// Parses the name used in files and the store.
    pub fn parse(raw: &str) -> Result<Self, String> {
        AliasSystem::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                format!("unknown alias system {raw:?} (expected dvcqg, ma_dinh_danh or local)")
            })
    }
}
