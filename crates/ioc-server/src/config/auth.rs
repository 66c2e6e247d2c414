//! `[auth]`: who may read.

use super::reader::Reader;

/// `[auth]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// Read endpoints need no token.
    pub public_read: bool,
}

impl AuthSettings {
    /// Reads `[auth]`.
    pub(super) fn read(reader: &mut Reader) -> AuthSettings {
        AuthSettings {
            public_read: reader.boolean("auth.public_read", false),
        }
    }
}
