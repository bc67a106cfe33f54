//! The delivery path of a message across servers: one trace per server (a *leg*), linked.
//!
//! Host A's successful hand-off of a recipient to host B (a relay whose reply names B's queue
//! id: Postfix `queued as ID`, Exim `id=ID`) is joined to B's arrival of that queue id, when
//! the relay names B or B's arrival names A as its client, within minutes. When the reply
//! names no id, the same Message-ID arriving on B from A within minutes joins them; the
//! Message-ID alone never does. Hosts are named as their logs name them; [`Hosts`] maps other
//! names and addresses of a host (from the config) to that name.
//!
//! - [`leg`]: what linking needs of one trace, as numbers (hashed ids, names kept once), and
//!   the reading of relays and replies;
//! - [`hosts`]: which log host a relay or a client is;
//! - [`link`]: the joins over a set of legs, each leg's previous and next hops, and where each
//!   recipient's path ends.
//!
//! - [`stored`]: the legs around some messages of a store, looked up round by round.
//! - [`end_to_end`]: rows of whole paths, one per original message and final recipient.
//!
//! Linking is done when rows are made, over the legs at hand: with `--log`, every leg of the
//! files read; from a store, the legs its look-ups find around the rows read.

pub mod end_to_end;
pub mod hosts;
pub mod leg;
pub mod link;
pub mod stored;

pub use hosts::Hosts;
pub use leg::{key, Leg, LegSet};
pub use link::{Final, Legs, OnPath};
