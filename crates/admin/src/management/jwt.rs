//! Access tokens of the Management API: compact JWS (`header.claims.signature`, RFC 7515/7519)
//! signed with HMAC-SHA256 under a per-process random key.
//!
//! MI signs each token with a fresh RSA key that it throws away and then only looks tokens up in
//! its store (`JWTTokenGenerator`, `JWTInMemoryTokenStore` in wso2/micro-integrator
//! `management.apis/.../security/handler/`). Conflux verifies the signature and the `exp` claim of
//! every bearer token before the store lookup, so a forged or stale string is refused even if it
//! collided with a store key. A restart changes the key and so invalidates every token, as in MI.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};

/// Longest bearer token examined; ours are about 300 bytes.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// Header of every token Conflux issues; verification accepts only `alg` HS256.
const HEADER_JSON: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The claims Conflux puts in a token (MI's are `sub`, `iss`, `exp`, `scope`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub subject: String,
    /// `admin` or `default`, as MI's `scope` claim.
    pub scope: String,
    pub issued_at: u64,
    pub expires_at: u64,
    /// Random id: the token store's key.
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("token longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("token is not three base64url parts")]
    Malformed,
    #[error("token signature does not verify")]
    BadSignature,
    #[error("token header is not {{\"alg\":\"HS256\"}}")]
    WrongAlgorithm,
    #[error("token expired at {0}")]
    Expired(u64),
    #[error("cannot generate a random value")]
    Random,
}

/// Signs and verifies tokens with one key.
pub struct JwtKey {
    key: hmac::Key,
    rng: SystemRandom,
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKey(..)")
    }
}

impl JwtKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, JwtError> {
        let rng = SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng).map_err(|_| JwtError::Random)?;
        Ok(JwtKey { key, rng })
    }

    /// A random token id (128 bits, hex).
    pub fn new_id(&self) -> Result<String, JwtError> {
        let mut bytes = [0u8; 16];
        self.rng.fill(&mut bytes).map_err(|_| JwtError::Random)?;
        Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let body = json!({
            "sub": claims.subject,
            "iss": "conflux",
            "scope": claims.scope,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
            "jti": claims.id,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER_JSON),
            URL_SAFE_NO_PAD.encode(body.to_string())
        );
        let tag = hmac::sign(&self.key, signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// Checks the signature (in constant time), the algorithm and `exp` against `now` (seconds
    /// since the epoch).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, JwtError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwtError::TooLong);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(body), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| JwtError::Malformed)?;
        let signing_input = &token[..header.len() + 1 + body.len()];
        hmac::verify(&self.key, signing_input.as_bytes(), &signature)
            .map_err(|_| JwtError::BadSignature)?;
        let header: Value = decode_json(header)?;
        if header.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err(JwtError::WrongAlgorithm);
        }
        let body: Value = decode_json(body)?;
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        let number = |k: &str| body.get(k).and_then(Value::as_u64);
        let (Some(subject), Some(scope), Some(id), Some(issued_at), Some(expires_at)) = (
            text("sub"),
            text("scope"),
            text("jti"),
            number("iat"),
            number("exp"),
        ) else {
            return Err(JwtError::Malformed);
        };
        if now >= expires_at {
            return Err(JwtError::Expired(expires_at));
        }
        Ok(Claims {
            subject,
            scope,
            issued_at,
            expires_at,
            id,
        })
    }
}

fn decode_json(part: &str) -> Result<Value, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            subject: "admin".into(),
            scope: "admin".into(),
            issued_at: 100,
            expires_at: exp,
            id: "abc".into(),
        }
    }

    #[test]
    fn signed_tokens_verify_until_they_expire() {
        let key = JwtKey::generate().unwrap();
        let token = key.sign(&claims(200));
        assert_eq!(key.verify(&token, 150).unwrap(), claims(200));
        assert_eq!(key.verify(&token, 200), Err(JwtError::Expired(200)));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let key = JwtKey::generate().unwrap();
        let other = JwtKey::generate().unwrap();
        let token = key.sign(&claims(200));
        assert_eq!(other.verify(&token, 150), Err(JwtError::BadSignature));
        let (head, rest) = token.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged_body = URL_SAFE_NO_PAD
            .encode(r#"{"sub":"admin","scope":"admin","iat":1,"exp":99999999999,"jti":"abc"}"#);
        let forged = format!("{head}.{forged_body}.{sig}");
        assert_eq!(key.verify(&forged, 150), Err(JwtError::BadSignature));
        assert_eq!(key.verify("a.b", 150), Err(JwtError::Malformed));
        assert_eq!(key.verify("a.b.c.d", 150), Err(JwtError::Malformed));
    }

    #[test]
    fn token_length_limit_plus_one_is_refused() {
        let key = JwtKey::generate().unwrap();
        let long = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(key.verify(&long, 0), Err(JwtError::TooLong));
        let at_limit = "a".repeat(MAX_TOKEN_BYTES);
        assert_eq!(key.verify(&at_limit, 0), Err(JwtError::Malformed));
    }

    #[test]
    fn ids_are_random() {
        let key = JwtKey::generate().unwrap();
        assert_ne!(key.new_id().unwrap(), key.new_id().unwrap());
        assert_eq!(key.new_id().unwrap().len(), 32);
    }
}
