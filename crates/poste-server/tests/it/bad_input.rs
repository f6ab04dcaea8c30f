//! Bad input gets a JSON `error` (or a clean close for abuse) and disturbs nobody else.

use std::time::Duration;

use poste_testkit::{TestServer, WsClient};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::REPLY;

#[tokio::test]
async fn malformed_messages_get_precise_errors_and_the_connection_goes_on() {
    let server = TestServer::start().await;
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    let cases = [
        ("{not json", "json_invalide"),
        ("[1, 2, 3]", "json_invalide"),
        ("\"text\"", "json_invalide"),
        (r#"{"code": "ABC123"}"#, "message_invalide"),
        (r#"{"type": "reboot_server"}"#, "type_inconnu"),
        (r#"{"type": "start_session"}"#, "message_invalide"),
        (
            r#"{"type": "get_time", "session_id": "un"}"#,
            "message_invalide",
        ),
        (
            r#"{"type": "get_time", "session_id": 1.5}"#,
            "message_invalide",
        ),
        (
            r#"{"type": "validate_code", "code": 123456}"#,
            "message_invalide",
        ),
        (r#"{"type": "hello", "poste": ""}"#, "message_invalide"),
        (
            r#"{"type": "hello", "poste": "x\u0000y"}"#,
            "message_invalide",
        ),
    ];
    for (text, code) in cases {
        ws.send_text(text).await;
        let reply = ws.next(REPLY).await.unwrap();
        assert_eq!(reply["type"], "error", "{text} → {reply}");
        assert_eq!(reply["code"], code, "{text} → {reply}");
        assert!(!reply["message"].as_str().unwrap().is_empty());
    }
    ws.send_message(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(ws.next(REPLY).await.unwrap()["code"], "message_invalide");
    // Still usable.
    assert_eq!(
        ws.request(json!({"type": "heartbeat"})).await["type"],
        "heartbeat_ack"
    );
}

#[tokio::test]
async fn an_oversized_message_closes_only_that_connection() {
    let server = TestServer::start_with(|c| c.limits.max_message_bytes = 4096).await;
    let (_, code) = server.create_session(json!({"duree": "1h"})).await;
    let mut bystander = WsClient::connect(&server.ws_url()).await.unwrap();
    bystander.start_with_code(&code, "192.168.1.130").await;

    let mut abuser = WsClient::connect(&server.ws_url()).await.unwrap();
    let huge = format!(
        r#"{{"type":"heartbeat","pad":"{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    let _ = abuser.send_message(Message::Text(huge.into())).await;
    let code = abuser.closed(REPLY).await.unwrap();
    assert!(code.is_none() || code == Some(1009), "close code {code:?}");

    assert_eq!(
        bystander.request(json!({"type": "heartbeat"})).await["type"],
        "heartbeat_ack"
    );
}

#[tokio::test]
async fn a_flood_is_refused_then_closed_without_harming_others() {
    let server = TestServer::start_with(|c| {
        c.limits.messages_per_sec = 5;
        c.limits.message_burst = 10;
    })
    .await;
    let (id, code) = server.create_session(json!({"duree": "1h"})).await;
    let mut bystander = WsClient::connect(&server.ws_url()).await.unwrap();
    bystander.start_with_code(&code, "192.168.1.131").await;

    let mut flooder = WsClient::connect(&server.ws_url()).await.unwrap();
    for _ in 0..200 {
        if flooder
            .send_message(Message::Text(r#"{"type":"heartbeat"}"#.into()))
            .await
            .is_err()
        {
            break;
        }
    }
    // Some acks, then `trop_de_messages`, then the close (policy violation). The flooder's
    // unread messages may still sit in the server's receive buffer when it closes, and then
    // TCP answers with a reset, which can also drop the last replies on their way: the refusal
    // is only required when the close is clean.
    let mut saw_refusal = false;
    let reset = loop {
        match flooder.next(REPLY).await {
            Ok(reply) => {
                if reply["code"] == "trop_de_messages" {
                    saw_refusal = true;
                }
            }
            Err(err) => {
                let err = err.to_string();
                assert!(err.contains("closed") || err.contains("reset"), "{err}");
                break err.contains("reset");
            }
        }
    };
    assert!(saw_refusal || reset);
    let update = bystander
        .request(json!({"type": "get_time", "session_id": id}))
        .await;
    assert_eq!(update["type"], "time_update");
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let server = TestServer::start_with(|c| {
        c.limits.idle_timeout_secs = 1;
        c.limits.ping_interval_secs = 1;
    })
    .await;
    // A client that stops reading never answers the server's pings (pongs are sent while
    // reading), so it looks dead and is closed with 1001 (going away).
    let mut silent = WsClient::connect(&server.ws_url()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(silent.closed(REPLY).await.unwrap(), Some(1001));
    // A client that keeps talking stays.
    let mut ws = WsClient::connect(&server.ws_url()).await.unwrap();
    for _ in 0..6 {
        assert_eq!(
            ws.request(json!({"type": "heartbeat"})).await["type"],
            "heartbeat_ack"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
