//! The ClickHouse store, for sites with many MTAs (issue 17), in parts: so far the address of
//! a store ([`location`]) and how values and names are written into SQL text ([`sql`]). The
//! embedded store stays the default; the commands will reach either through one interface.

pub mod location;
pub mod sql;

pub use location::Location;
