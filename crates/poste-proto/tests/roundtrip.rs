//! Property tests: whatever the client sends that encodes, decodes back to itself, and the
//! decoder never panics on arbitrary text; a server message of an extension reads as documented.

use poste_proto::{ClientMessage, Hello, SessionId, decode_client_message};
use proptest::prelude::*;

fn any_client_message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        (any::<String>(), proptest::option::of(any::<String>()))
            .prop_map(|(code, ip_address)| ClientMessage::ValidateCode { code, ip_address }),
        any::<i64>().prop_map(|id| ClientMessage::StartSession {
            session_id: SessionId(id)
        }),
        any::<i64>().prop_map(|id| ClientMessage::GetTime {
            session_id: SessionId(id)
        }),
        Just(ClientMessage::Heartbeat),
        (
            any::<String>(),
            proptest::option::of(any::<String>()),
            proptest::option::of(any::<u32>())
        )
            .prop_map(|(poste, mac, protocole)| ClientMessage::Hello(Hello {
                poste,
                mac,
                ip_address: None,
                version: None,
                protocole,
                secret: None,
            })),
    ]
}

proptest! {
    #[test]
    fn client_messages_round_trip(message in any_client_message()) {
        let text = serde_json::to_string(&message).expect("encode");
        prop_assert_eq!(decode_client_message(&text), Ok(message));
    }

    #[test]
    fn decoder_never_panics(text in any::<String>()) {
        let _ = decode_client_message(&text);
    }

    #[test]
    fn decoder_never_panics_on_typed_objects(kind in "[a-z_]{0,16}", body in any::<String>()) {
        let text = format!(r#"{{"type":"{kind}","code":{body:?},"session_id":{body:?}}}"#);
        let _ = decode_client_message(&text);
    }
}

#[test]
fn wake_reads_as_the_protocol_says() {
    let text = r#"{"type": "wake", "mac": ["52:54:00:0a:0b:07", "52:54:00:0a:0b:08"]}"#;
    let message: poste_proto::ServerMessage = serde_json::from_str(text).unwrap();
    let poste_proto::ServerMessage::Wake(relay) = &message else {
        panic!("{message:?}");
    };
    assert_eq!(relay.mac.len(), 2);
    let back = serde_json::to_value(&message).unwrap();
    assert_eq!(back["type"], "wake");
    assert_eq!(back["mac"][1], "52:54:00:0a:0b:08");
}

#[test]
fn lock_reads_as_the_protocol_says() {
    let text = r#"{"type": "lock", "verrouille": true, "message": "Regardez l'animateur"}"#;
    let message: poste_proto::ServerMessage = serde_json::from_str(text).unwrap();
    let poste_proto::ServerMessage::Lock(lock) = &message else {
        panic!("{message:?}");
    };
    assert!(lock.verrouille);
    assert_eq!(lock.message.as_deref(), Some("Regardez l'animateur"));
    let unlock: poste_proto::ServerMessage =
        serde_json::from_str(r#"{"type": "lock", "verrouille": false}"#).unwrap();
    let back = serde_json::to_value(&unlock).unwrap();
    assert_eq!(
        back,
        serde_json::json!({"type": "lock", "verrouille": false})
    );
}
