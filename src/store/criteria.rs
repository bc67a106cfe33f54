//! Search criteria as tantivy queries over row documents.
//!
//! Each criterion becomes the query that selects exactly the rows [`Criteria::rows`] selects
//! when reading logs, so `search` answers the same from the store as from `--log`: exact
//! addresses are terms, domains a term plus a regex for subdomains, wildcards a regex over
//! the terms (a list of patterns: any of them), subjects a prefix or phrase-prefix query over
//! the words, IP networks a range.

use std::ops::Bound;

use anyhow::Result;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, RangeQuery, RegexQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use super::schema::{date, fail_term, folder_term, ipv6, trace_key, Fields};
use crate::query::{words, AddressPattern, Criteria};

/// The query for the rows matching `c`. A subject phrase is looked up as its leading words in
/// order plus a word starting with its last one; `needs_subject_check` then says the caller
/// must confirm the phrase on each row found (the index cannot place a prefix next to a
/// phrase without bounding how many words the prefix expands to).
pub fn row_query(f: &Fields, c: &Criteria) -> Result<(Box<dyn Query>, bool)> {
    let needs_subject_check = c.subject.iter().any(|s| words(s).len() > 1);
    let mut must: Vec<Box<dyn Query>> = Vec::new();
    if !c.from.is_empty() {
        must.push(addresses(&c.from, [f.from, f.from_rev, f.from_domain])?);
    }
    if !c.to.is_empty() {
        must.push(addresses(&c.to, [f.to, f.to_rev, f.to_domain])?);
    }
    for s in &c.subject {
        must.push(subject(f.subject, &words(s))?);
    }
    if let Some(id) = &c.message_id {
        must.push(term(
            f.message_id,
            id.trim().trim_start_matches('<').trim_end_matches('>'),
        ));
    }
    if let Some(q) = &c.queue_id {
        must.push(term(f.queue_id, q));
    }
    if !c.statuses.is_empty() {
        must.push(any(c.statuses.iter().map(|s| term(f.status, s.as_str())).collect()));
    }
    if let Some(d) = c.direction {
        must.push(term(f.direction, d.as_str()));
    }
    if let Some(ip) = &c.client_ip {
        let net = ip.net();
        let range = RangeQuery::new(
            Bound::Included(Term::from_field_ip_addr(f.client_ip, ipv6(net.network()))),
            Bound::Included(Term::from_field_ip_addr(f.client_ip, ipv6(net.broadcast()))),
        );
        match net {
            // an IPv6 network never contains an IPv4 client, though its range may span the
            // IPv4-mapped block
            ipnet::IpNet::V6(_) => {
                let mapped = RangeQuery::new(
                    Bound::Included(Term::from_field_ip_addr(
                        f.client_ip,
                        std::net::Ipv4Addr::UNSPECIFIED.to_ipv6_mapped(),
                    )),
                    Bound::Included(Term::from_field_ip_addr(
                        f.client_ip,
                        std::net::Ipv4Addr::BROADCAST.to_ipv6_mapped(),
                    )),
                );
                must.push(Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(range) as Box<dyn Query>),
                    (Occur::MustNot, Box::new(mapped)),
                ])));
            }
            ipnet::IpNet::V4(_) => must.push(Box::new(range)),
        }
    }
    if let Some(h) = &c.host {
        must.push(term(f.host, &h.to_ascii_lowercase()));
    }
    let wants_facts = c.spam || c.virus || !c.auth_fail.is_empty() || c.folder.is_some();
    match f.facts {
        Some(facts) => {
            if c.spam {
                must.push(term(facts, "spam"));
            }
            if c.virus {
                must.push(term(facts, "virus"));
            }
            if !c.auth_fail.is_empty() {
                must.push(any(c.auth_fail.iter().map(|m| term(facts, fail_term(*m))).collect()));
            }
            if let Some(folder) = &c.folder {
                must.push(term(facts, &folder_term(folder)));
            }
        }
        // a day indexed before the facts existed has none of them
        None if wants_facts => must.push(Box::new(tantivy::query::EmptyQuery)),
        None => {}
    }
    // a message matches a time window when any of its activity falls inside it
    if let Some(since) = c.since {
        must.push(Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_date(f.last_time, date(since))),
            Bound::Unbounded,
        )));
    }
    if let Some(until) = c.until {
        must.push(Box::new(RangeQuery::new(
            Bound::Unbounded,
            Bound::Included(Term::from_field_date(f.time, date(until))),
        )));
    }
    let query: Box<dyn Query> = if must.is_empty() {
        Box::new(tantivy::query::AllQuery)
    } else {
        Box::new(BooleanQuery::new(must.into_iter().map(|q| (Occur::Must, q)).collect()))
    };
    Ok((query, needs_subject_check))
}

/// The row-0 documents (which hold the trace) whose queue id, Message-ID or trace id is `id`.
pub fn trace_query(f: &Fields, id: &str) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, first_rows(f)),
        (
            Occur::Must,
            any(vec![
                term(f.queue_id, id),
                term(f.message_id, id),
                Box::new(TermQuery::new(
                    Term::from_field_u64(f.trace_key, trace_key(id)),
                    IndexRecordOption::Basic,
                )),
            ]),
        ),
    ]))
}

/// The row-0 documents: one per trace (`rcpt` is a fast field only).
pub fn first_rows(f: &Fields) -> Box<dyn Query> {
    let zero = Term::from_field_u64(f.rcpt, 0);
    Box::new(RangeQuery::new(Bound::Included(zero.clone()), Bound::Included(zero)))
}

pub fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

fn any(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

/// Any of the address patterns `ps` (see [`address`]).
fn addresses(ps: &[AddressPattern], fields: [Field; 3]) -> Result<Box<dyn Query>> {
    match ps {
        [p] => address(p, fields),
        _ => Ok(any(ps.iter().map(|p| address(p, fields)).collect::<Result<_>>()?)),
    }
}

/// An address pattern over an address field, its reversed form and its domain suffixes.
fn address(p: &AddressPattern, [field, reversed, domains]: [Field; 3]) -> Result<Box<dyn Query>> {
    Ok(match p {
        AddressPattern::NullSender => term(field, ""),
        AddressPattern::Exact(e) => term(field, e),
        AddressPattern::Domain(d) => term(domains, d),
        AddressPattern::Wildcard(w) => {
            // walk the term dictionary from the longer literal end of the pattern: a regex
            // that starts with `.*` reads every term
            let head = w.split('*').next().unwrap_or("");
            let tail = w.rsplit('*').next().unwrap_or("");
            let (pattern, f) = if tail.len() > head.len() {
                (w.chars().rev().collect::<String>(), reversed)
            } else {
                (w.clone(), field)
            };
            let regex = pattern
                .split('*')
                .map(regex_syntax::escape)
                .collect::<Vec<_>>()
                .join(".*");
            let query = RegexQuery::from_pattern(&regex, f).map_err(|e| {
                anyhow::anyhow!(
                    "the pattern '{w}' is too complex for the index to look up ({e}): \
                     use fewer * or shorter parts between them"
                )
            })?;
            Box::new(query)
        }
    })
}

/// Words in order, the last as a prefix (see [`crate::query::phrase_prefix`]); for more than
/// one word, a superset to confirm row by row.
fn subject(field: Field, phrase: &[String]) -> Result<Box<dyn Query>> {
    let prefix = |word: &str| -> Result<Box<dyn Query>> {
        Ok(Box::new(RegexQuery::from_pattern(
            &format!("{}.*", regex_syntax::escape(word)),
            field,
        )?))
    };
    Ok(match phrase {
        [] => Box::new(tantivy::query::AllQuery),
        [word] => prefix(word)?,
        [head @ .., last] => {
            let lead: Box<dyn Query> = match head {
                [one] => Box::new(TermQuery::new(
                    Term::from_field_text(field, one),
                    IndexRecordOption::Basic,
                )),
                _ => Box::new(PhraseQuery::new(
                    head.iter().map(|w| Term::from_field_text(field, w)).collect(),
                )),
            };
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, lead),
                (Occur::Must, prefix(last)?),
            ]))
        }
    })
}
