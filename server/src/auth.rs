//! API keys: each a name, the blake3 hash of its secret (the secret itself
//! is never stored) and its scopes. `write` implies `read`.

use crate::error::{ApiError, ServerError};
use serde::{Deserialize, Serialize};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Context, search, traces, reading documents.
    Read,
    /// Upserting and deleting documents (and reading).
    Write,
}

impl Scope {
    /// `read` or `write`.
    pub fn parse(s: &str) -> Option<Scope> {
        match s.trim() {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            _ => None,
        }
    }
}

/// One API key as configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Key {
    /// A name for logs (never the secret).
    pub name: String,
    /// blake3 of the secret, 64 hex digits.
    pub hash: String,
    /// Its scopes.
    pub scopes: Vec<Scope>,
}

impl Key {
    /// A key for `secret`, hashed now.
    pub fn from_secret(name: &str, secret: &str, scope: Scope) -> Key {
        Key {
            name: name.to_string(),
            hash: hash_secret(secret),
            scopes: vec![scope],
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ServerError> {
        if blake3::Hash::from_hex(&self.hash).is_err() {
            return Err(ServerError::Config(format!(
                "key {:?}: hash must be 64 hex digits (blake3 of the secret; bubble key makes one)",
                self.name
            )));
        }
        if self.scopes.is_empty() {
            return Err(ServerError::Config(format!(
                "key {:?} has no scopes",
                self.name
            )));
        }
        Ok(())
    }

    fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
            || (scope == Scope::Read && self.scopes.contains(&Scope::Write))
    }
}

/// blake3 of a secret, as the config stores it.
pub fn hash_secret(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

/// The configured keys, checked per request.
#[derive(Debug, Clone, Default)]
pub struct Keys(Vec<(blake3::Hash, Key)>);

impl Keys {
    /// Keys already validated by [`crate::Config::validate`].
    pub fn new(keys: &[Key]) -> Keys {
        Keys(
            keys.iter()
                .filter_map(|k| Some((blake3::Hash::from_hex(&k.hash).ok()?, k.clone())))
                .collect(),
        )
    }

    /// Whether any key is configured (without, everything is allowed,
    /// and the server binds loopback only).
    pub fn enabled(&self) -> bool {
        !self.0.is_empty()
    }

    /// Checks the `Authorization: Bearer <key>` (or `X-Api-Key`) value
    /// for `scope`; returns the key's name.
    pub fn check(&self, presented: Option<&str>, scope: Scope) -> Result<Option<String>, ApiError> {
        if !self.enabled() {
            return Ok(None);
        }
        let Some(secret) = presented else {
            return Err(ApiError::unauthorized(
                "an API key is required (Authorization: Bearer <key>)",
            ));
        };
        // blake3::Hash compares in constant time.
        let hash = blake3::hash(secret.as_bytes());
        let Some((_, key)) = self.0.iter().find(|(h, _)| *h == hash) else {
            return Err(ApiError::unauthorized("unknown API key"));
        };
        if !key.allows(scope) {
            return Err(ApiError::forbidden(&format!(
                "key {:?} lacks the {} scope",
                key.name,
                match scope {
                    Scope::Read => "read",
                    Scope::Write => "write",
                }
            )));
        }
        Ok(Some(key.name.clone()))
    }
}
