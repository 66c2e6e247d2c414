//! Code lists of the DVCQG dossier format (DOMAIN §2.4): processing status
//! (`TrangThaiHoSo`) and submission channel (`KenhThucHien`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value that is not in a code list. Ingestion reports it with the record
/// it came from; it is never guessed or dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {list} code {value:?} (known: {known})")]
pub struct UnknownCode {
    /// The code list, e.g. `TrangThaiHoSo`.
    pub list: &'static str,
    /// The value as received.
    pub value: String,
    /// The values the list accepts, for the error message.
    pub known: &'static str,
}

/// Processing status of a dossier, codes 1–10 of `TrangThaiHoSo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i16", into = "i16")]
pub enum Status {
    /// 1 — Mới đăng ký: submitted online, not yet received.
    Submitted,
    /// 2 — Được tiếp nhận: received, in progress.
    Received,
    /// 3 — Không được tiếp nhận: refused at reception.
    Refused,
    /// 4 — Đang xử lý: in progress.
    Processing,
    /// 5 — Yêu cầu bổ sung giấy tờ: waiting for the citizen's supplement.
    AwaitingSupplement,
    /// 6 — Yêu cầu thực hiện nghĩa vụ tài chính: waiting for payment.
    AwaitingPayment,
    /// 7 — Công dân yêu cầu rút hồ sơ: withdrawn.
    Withdrawn,
    /// 8 — Dừng xử lý: stopped.
    Stopped,
    /// 9 — Đã xử lý xong: processing finished.
    Processed,
    /// 10 — Đã trả kết quả: result delivered.
    Delivered,
}

const STATUS_KNOWN: &str = "1-10, or receiving, new, denied, processing, waiting, paying, cancelled, unresolved, releasing, done";

impl Status {
    /// Every status, in code order.
    pub const ALL: [Status; 10] = [
        Status::Submitted,
        Status::Received,
        Status::Refused,
        Status::Processing,
        Status::AwaitingSupplement,
        Status::AwaitingPayment,
        Status::Withdrawn,
        Status::Stopped,
        Status::Processed,
        Status::Delivered,
    ];

    /// The numeric `TrangThaiHoSo` code.
    pub fn code(self) -> i16 {
        match self {
            Status::Submitted => 1,
            Status::Received => 2,
            Status::Refused => 3,
            Status::Processing => 4,
            Status::AwaitingSupplement => 5,
            Status::AwaitingPayment => 6,
            Status::Withdrawn => 7,
            Status::Stopped => 8,
            Status::Processed => 9,
            Status::Delivered => 10,
        }
    }

    /// The status with numeric code `code`.
    pub fn from_code(code: i64) -> Result<Status, UnknownCode> {
        Status::ALL
            .into_iter()
            .find(|s| i64::from(s.code()) == code)
            .ok_or_else(|| unknown_status(code.to_string()))
    }

    /// Parses a code as the DVCQG payloads send it: the number as text
    /// (`"10"`), or the English word of the national portal (`"done"`).
    pub fn parse_dvcqg(raw: &str) -> Result<Status, UnknownCode> {
        let raw = raw.trim();
        if let Ok(code) = raw.parse::<i64>() {
            return Status::from_code(code);
        }
        let status = match raw.to_ascii_lowercase().as_str() {
            "receiving" => Status::Submitted,
            "new" => Status::Received,
            "denied" => Status::Refused,
            "processing" => Status::Processing,
            "waiting" => Status::AwaitingSupplement,
            "paying" => Status::AwaitingPayment,
            "cancelled" => Status::Withdrawn,
            "unresolved" => Status::Stopped,
            "releasing" => Status::Processed,
            "done" => Status::Delivered,
            _ => return Err(unknown_status(raw.to_owned())),
        };
        Ok(status)
    }

    /// Processing has ended with a result (9 or 10).
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Processed | Status::Delivered)
    }

    /// Withdrawn or stopped (7 or 8): neither pending nor finished.
    pub fn is_stopped(self) -> bool {
        matches!(self, Status::Withdrawn | Status::Stopped)
    }

    /// A received dossier in this status can be pending: it is not refused,
    /// withdrawn or stopped.
    pub fn can_be_pending(self) -> bool {
        !matches!(self, Status::Refused | Status::Withdrawn | Status::Stopped)
    }

    /// The dossier is not (yet) received: submitted online only, or refused.
    pub fn is_unreceived(self) -> bool {
        matches!(self, Status::Submitted | Status::Refused)
    }
}

fn unknown_status(value: String) -> UnknownCode {
    UnknownCode {
        list: "TrangThaiHoSo",
        value,
        known: STATUS_KNOWN,
    }
}

impl TryFrom<i16> for Status {
    type Error = UnknownCode;
    fn try_from(code: i16) -> Result<Self, Self::Error> {
        Status::from_code(i64::from(code))
    }
}

impl From<Status> for i16 {
    fn from(status: Status) -> i16 {
        status.code()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// How a dossier was submitted (`KenhThucHien`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// 1 — Trực tiếp: in person at a one-stop desk.
    Direct,
    /// 2 — Trực tuyến: online.
    Online,
    /// 3 — Bưu chính công ích: through the public postal service.
    Postal,
}

impl Channel {
    /// Every channel, in code order.
    pub const ALL: [Channel; 3] = [Channel::Direct, Channel::Online, Channel::Postal];

    /// The name used by ioc's API and store: `direct`, `online`, `postal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Direct => "direct",
            Channel::Online => "online",
            Channel::Postal => "postal",
        }
    }

    /// Parses a DVCQG `KenhThucHien` code; a missing (empty) code means direct.
    pub fn parse_dvcqg(raw: &str) -> Result<Channel, UnknownCode> {
        match raw.trim() {
            "" | "1" => Ok(Channel::Direct),
            "2" => Ok(Channel::Online),
            "3" => Ok(Channel::Postal),
            other => Err(UnknownCode {
                list: "KenhThucHien",
                value: other.to_owned(),
                known: "1 (direct), 2 (online), 3 (postal), or empty for direct",
            }),
        }
    }
}

impl FromStr for Channel {
    type Err = UnknownCode;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == raw)
            .ok_or_else(|| UnknownCode {
                list: "channel",
                value: raw.to_owned(),
                known: "direct, online, postal",
            })
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::from_code(i64::from(status.code())), Ok(status));
            assert_eq!(Status::parse_dvcqg(&status.code().to_string()), Ok(status));
        }
    }

    #[test]
    fn dvcqg_status_words_map_to_codes() {
        let words = [
            ("receiving", 1),
            ("new", 2),
            ("denied", 3),
            ("processing", 4),
            ("waiting", 5),
            ("paying", 6),
            ("cancelled", 7),
            ("unresolved", 8),
            ("releasing", 9),
            ("done", 10),
        ];
        for (word, code) in words {
            assert_eq!(
                Status::parse_dvcqg(word).map(Status::code),
                Ok(code),
                "{word}"
            );
        }
    }

    #[test]
    fn unknown_status_is_reported_with_its_value() {
        for raw in ["0", "11", "-3", "interoperating", "posting", ""] {
            let err = Status::parse_dvcqg(raw).unwrap_err();
            assert_eq!(err.list, "TrangThaiHoSo");
            assert_eq!(err.value, raw);
            assert!(err.to_string().contains("1-10"), "{err}");
        }
    }

    #[test]
    fn status_groups_follow_metrics_md() {
        let finished: Vec<i16> = Status::ALL
            .into_iter()
            .filter(|s| s.is_finished())
            .map(Status::code)
            .collect();
        let stopped: Vec<i16> = Status::ALL
            .into_iter()
            .filter(|s| s.is_stopped())
            .map(Status::code)
            .collect();
        let unreceived: Vec<i16> = Status::ALL
            .into_iter()
            .filter(|s| s.is_unreceived())
            .map(Status::code)
            .collect();
        assert_eq!(finished, [9, 10]);
        assert_eq!(stopped, [7, 8]);
        assert_eq!(unreceived, [1, 3]);
    }

    #[test]
    fn channel_codes() {
        assert_eq!(Channel::parse_dvcqg(""), Ok(Channel::Direct));
        assert_eq!(Channel::parse_dvcqg("1"), Ok(Channel::Direct));
        assert_eq!(Channel::parse_dvcqg("2"), Ok(Channel::Online));
        assert_eq!(Channel::parse_dvcqg(" 3 "), Ok(Channel::Postal));
        let err = Channel::parse_dvcqg("4").unwrap_err();
        assert_eq!((err.list, err.value.as_str()), ("KenhThucHien", "4"));
        assert_eq!("online".parse::<Channel>(), Ok(Channel::Online));
        assert!("Online".parse::<Channel>().is_err());
    }
}
