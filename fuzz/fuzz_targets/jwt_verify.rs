//! Management API bearer tokens (`JwtKey::verify`): arbitrary strings never verify, tokens signed
//! by the key round-trip their claims, and any change of one byte of a valid token is refused
//! (tampered header, claims or signature, stripped parts).

#![no_main]

use std::sync::LazyLock;

use conflux_admin::management::jwt::{Claims, JwtKey};
use libfuzzer_sys::fuzz_target;

static KEY: LazyLock<JwtKey> = LazyLock::new(|| JwtKey::generate().expect("key"));

const NOW: u64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&[mode, position, flip], rest)) = data.split_first_chunk::<3>().map(|(h, r)| (h, r))
    else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if mode % 2 == 0 {
        // A string from outside: only a token this key signed can verify, and none was signed.
        assert!(
            KEY.verify(&text, NOW).is_err(),
            "forged token verified: {text:?}"
        );
        return;
    }
    let (subject, scope) = text.split_once('\n').unwrap_or((&text, "admin"));
    let claims = Claims {
        subject: subject.to_owned(),
        scope: scope.to_owned(),
        issued_at: NOW,
        expires_at: NOW + 1 + u64::from(mode),
        id: "fuzz".to_owned(),
    };
    let token = KEY.sign(&claims);
    let verified = KEY.verify(&token, NOW);
    if token.len() <= conflux_admin::management::jwt::MAX_TOKEN_BYTES {
        assert_eq!(verified.as_ref(), Ok(&claims));
    } else {
        assert!(verified.is_err());
    }
    let mut tampered = token.into_bytes();
    let index = usize::from(position) * tampered.len() / 256;
    tampered[index] ^= flip.max(1);
    let tampered = String::from_utf8_lossy(&tampered);
    assert!(
        KEY.verify(&tampered, NOW).is_err(),
        "a token with byte {index} changed still verified"
    );
});
