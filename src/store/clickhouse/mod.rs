//! The ClickHouse store, for sites with many MTAs (issue 17), in parts: so far the address of
//! a store ([`location`]), how values and names are written into SQL text ([`sql`]) and the
//! HTTP client of one server ([`client`]). The embedded store stays the default; the commands
//! will reach either through one interface.

pub mod client;
pub mod location;
pub mod sql;

pub use client::Client;
pub use location::Location;
