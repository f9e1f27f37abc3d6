//! Messages between servers: the publish/subscribe seam.
//!
//! A node publishes what other servers may need ([`Output::Publish`]) and
//! subscribes to the topics it wants ([`Output::Subscribe`]); the driver carries
//! messages between nodes and hands each one in with
//! [`Node::handle_bus`](crate::node::Node::handle_bus). With one server the
//! driver loops a node's publications back to it; the scale-out issue maps
//! topics onto Redis. This module owns only the types: no delivery, no state.
//!
//! [`Output::Publish`]: crate::node::Output::Publish
//! [`Output::Subscribe`]: crate::node::Output::Subscribe

use crate::ids::AccountId;
use crate::protocol::NoticeLevel;
use std::collections::{BTreeMap, BTreeSet};

/// What a message is about; subscriptions are by topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// Accounts coming online and going offline (the cross-server directory).
    Presence,
    /// Operator announcements for every player on every server.
    Announcements,
}

impl Topic {
    /// A short stable name, for channel names and metrics labels.
    pub fn label(self) -> &'static str {
        match self {
            Topic::Presence => "presence",
            Topic::Announcements => "announcements",
        }
    }
}

/// One message on the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusMessage {
    /// An account's player came online on, or left, the publishing server.
    Presence { account: AccountId, online: bool },
    /// Text for every connected player.
    Announcement { level: NoticeLevel, text: String },
}

impl BusMessage {
    pub fn topic(&self) -> Topic {
        match self {
            BusMessage::Presence { .. } => Topic::Presence,
            BusMessage::Announcement { .. } => Topic::Announcements,
        }
    }
}

/// The bus of a server that is alone: what a node publishes on a topic it
/// subscribed to comes back to it; the rest is only counted.
#[derive(Debug, Default)]
pub struct LoopbackBus {
    subscribed: BTreeSet<Topic>,
    /// Messages published, by topic.
    pub published: BTreeMap<Topic, u64>,
}

impl LoopbackBus {
    pub fn subscribe(&mut self, topic: Topic) {
        self.subscribed.insert(topic);
    }

    /// Takes a publication; returns it if the node is to be handed it back.
    pub fn publish(&mut self, message: BusMessage) -> Option<BusMessage> {
        *self.published.entry(message.topic()).or_default() += 1;
        self.subscribed
            .contains(&message.topic())
            .then_some(message)
    }
}
