//! mailtrace: Message Trace for self-hosted mail servers.
//!
//! Data flows one way: [`source`] reads lines → [`syslog`] splits the envelope → [`parse`]
//! turns each line into an [`event::Event`] → [`trace::Assembler`] folds events into
//! [`trace::Trace`]s → [`store`] indexes them (or, with `--log`, they are searched as they
//! come) → [`path`] links the legs of a message across servers → [`query`] selects rows →
//! [`output`] prints them, or [`web`] serves them to a browser.

pub mod app;
pub mod config;
pub mod event;
pub mod metrics;
pub mod output;
pub mod parse;
pub mod path;
pub mod query;
pub mod report;
pub mod scan;
pub mod source;
pub mod store;
pub mod syslog;
pub mod trace;
pub mod web;
