//! The ClickHouse store, for sites with many MTAs: the same traces in a ClickHouse cluster,
//! behind the same [`crate::store::backend::Backend`] as the embedded store.
//!
//! - [`location`]: the `clickhouse://` address of a store (a password in it is refused);
//! - [`sql`]: the one function that writes a value into SQL text (18.16 has no query
//!   parameters), and the check of names;
//! - [`client`]: queries to one server over HTTP (user and password in headers, errors that
//!   name the server and quote ClickHouse's text, answers read line by line);
//! - [`schema`]: the tables (`store init`, `store init --print`);
//! - [`encode`]: traces and lines as `JSONEachRow` rows;
//! - [`keys`]: the look-up keys of a message and of criteria (the inverted index);
//! - [`filter`]: criteria as SQL;
//! - [`sink`]: a writer session's inserts;
//! - [`store`]: the [`Backend`](crate::store::backend::Backend): searches, traces, replay,
//!   info, retention.

pub mod client;
pub mod encode;
pub mod filter;
pub mod keys;
pub mod location;
pub mod schema;
pub mod sink;
pub mod sql;
pub mod store;

pub use client::Client;
pub use location::Location;
pub use store::ClickHouse;
