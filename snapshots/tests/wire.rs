//! The wire bytes of every message variant, pinned. A change to the encoding of
//! any message shows up here as a snapshot diff in review; `docs/PROTOCOL.md`
//! quotes these bytes as its examples.

use game_core::protocol::{
    encode_frame, examples, ClientMsg, ServerMsg, FRAME_HEADER_LEN, MAX_SERVER_PAYLOAD,
};
use std::fmt::{Debug, Write};

/// `length | payload` as hex, split after the 4-byte prefix.
fn hex_frame<T: serde::Serialize + Debug>(msg: &T) -> String {
    let mut bytes = Vec::new();
    encode_frame(msg, MAX_SERVER_PAYLOAD, &mut bytes).unwrap();
    let hex = |b: &[u8]| {
        b.iter().fold(String::new(), |mut s, x| {
            let _ = write!(s, "{x:02x} ");
            s
        })
    };
    format!(
        "{msg:?}\n{}| {}",
        hex(&bytes[..FRAME_HEADER_LEN]),
        hex(&bytes[FRAME_HEADER_LEN..]).trim_end()
    )
}

#[test]
fn client_messages_on_the_wire() {
    let dump: Vec<String> = examples::client_messages().iter().map(hex_frame).collect();
    insta::assert_snapshot!("client_messages", dump.join("\n\n"));
}

#[test]
fn server_messages_on_the_wire() {
    let dump: Vec<String> = examples::server_messages().iter().map(hex_frame).collect();
    insta::assert_snapshot!("server_messages", dump.join("\n\n"));
}

#[test]
fn every_example_round_trips() {
    for m in examples::client_messages() {
        let mut bytes = Vec::new();
        encode_frame(&m, MAX_SERVER_PAYLOAD, &mut bytes).unwrap();
        assert_eq!(ClientMsg::decode(&bytes[FRAME_HEADER_LEN..]), Ok(m));
    }
    for m in examples::server_messages() {
        let mut bytes = Vec::new();
        encode_frame(&m, MAX_SERVER_PAYLOAD, &mut bytes).unwrap();
        assert_eq!(ServerMsg::decode(&bytes[FRAME_HEADER_LEN..]), Ok(m));
    }
}

const DOC: &str = "../docs/PROTOCOL.md";
const BEGIN: &str = "<!-- every message: generated from game_core::protocol::examples -->";
const END: &str = "<!-- end of every message -->";

/// `docs/PROTOCOL.md` shows the bytes of every example message, generated from
/// the same list; `UPDATE_PROTOCOL_DOC=1` rewrites them after a change.
#[test]
fn the_protocol_doc_shows_every_example_as_it_is_encoded() {
    let mut block = format!("{BEGIN}\n\nClient to server:\n\n```\n");
    let client: Vec<String> = examples::client_messages().iter().map(hex_frame).collect();
    block += &client.join("\n\n");
    block += "\n```\n\nServer to client:\n\n```\n";
    let server: Vec<String> = examples::server_messages().iter().map(hex_frame).collect();
    block += &server.join("\n\n");
    block += &format!("\n```\n\n{END}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    let doc = std::fs::read_to_string(&path).expect("docs/PROTOCOL.md");
    let (Some(start), Some(end)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("docs/PROTOCOL.md lacks the markers {BEGIN:?} and {END:?}");
    };
    let current = &doc[start..end + END.len()];
    if std::env::var_os("UPDATE_PROTOCOL_DOC").is_some() {
        let updated = format!("{}{block}{}", &doc[..start], &doc[end + END.len()..]);
        std::fs::write(&path, updated).expect("write docs/PROTOCOL.md");
        return;
    }
    assert!(
        current == block,
        "docs/PROTOCOL.md's examples are stale: run UPDATE_PROTOCOL_DOC=1 cargo test -p snapshots --test wire"
    );
}
