//! The seed's JSON examples decode into our types, and what we send carries every field the
//! seed names with the same JSON type: a client written to the seed reads our messages unchanged.

use poste_proto::{ClientMessage, ServerMessage, decode_client_message};
use serde_json::Value;

fn golden(name: &str) -> String {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// Every key of `seed` is in `ours`, with a value of the same JSON type (recursively), and
/// scalar values are equal.
fn assert_superset(seed: &Value, ours: &Value, at: &str) {
    match (seed, ours) {
        (Value::Object(seed), Value::Object(ours)) => {
            for (key, seed_value) in seed {
                let ours_value = ours
                    .get(key)
                    .unwrap_or_else(|| panic!("{at}.{key} missing in {ours:?}"));
                assert_superset(seed_value, ours_value, &format!("{at}.{key}"));
            }
        }
        (seed, ours) => assert_eq!(seed, ours, "at {at}"),
    }
}

#[test]
fn seed_client_messages_decode() {
    for name in [
        "c_validate_code.json",
        "c_start_session.json",
        "c_get_time.json",
        "c_heartbeat.json",
    ] {
        let text = golden(name);
        let message = decode_client_message(&text).unwrap_or_else(|err| panic!("{name}: {err}"));
        let reencoded = serde_json::to_value(&message).expect("encode");
        let seed: Value = serde_json::from_str(&text).expect("golden is JSON");
        assert_superset(&seed, &reencoded, name);
    }
    assert!(matches!(
        decode_client_message(&golden("c_validate_code.json")),
        Ok(ClientMessage::ValidateCode { code, ip_address: Some(ip) })
            if code == "ABC123" && ip == "192.168.1.101"
    ));
}

#[test]
fn seed_server_messages_round_trip_with_every_field() {
    for name in [
        "s_code_valid.json",
        "s_code_invalid.json",
        "s_session_started.json",
        "s_time_update.json",
        "s_session_terminated.json",
        "s_warning.json",
    ] {
        let text = golden(name);
        let message: ServerMessage =
            serde_json::from_str(&text).unwrap_or_else(|err| panic!("{name}: {err}"));
        let reencoded: Value = serde_json::from_str(&message.to_json()).expect("encode");
        let seed: Value = serde_json::from_str(&text).expect("golden is JSON");
        assert_superset(&seed, &reencoded, name);
        // Extensions left empty are not sent at all: exactly the seed's keys come back.
        assert_eq!(seed, reencoded, "{name}");
    }
}

#[test]
fn unknown_status_and_level_still_decode() {
    let message: ServerMessage = serde_json::from_str(
        r#"{"type":"time_update","temps_restant":5,"temps_restant_minutes":0,"pourcentage_utilise":99,"statut":"en_pause"}"#,
    )
    .expect("decode");
    assert!(
        matches!(message, ServerMessage::TimeUpdate(t) if t.statut == poste_proto::Statut::Autre)
    );
    let message: ServerMessage = serde_json::from_str(
        r#"{"type":"warning","level":"info","message":"x","temps_restant":600}"#,
    )
    .expect("decode");
    assert!(
        matches!(message, ServerMessage::Warning(w) if w.level == poste_proto::WarningLevel::Autre)
    );
}

#[test]
fn unknown_end_reason_still_decodes() {
    let message: ServerMessage = serde_json::from_str(
        r#"{"type":"session_terminated","raison":"panne_de_courant","message":"x"}"#,
    )
    .expect("decode");
    assert!(matches!(
        message,
        ServerMessage::SessionTerminated(t) if t.raison == poste_proto::EndReason::Autre
    ));
}
