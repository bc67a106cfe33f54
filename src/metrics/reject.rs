//! Reject reasons, in the classes admins alert on: a blocklist (RBL/DNSBL), an unknown
//! recipient, relaying denied, greylisting, spam, a virus, another policy; `other` for the
//! rest. Decided from the reply text and the filter's verdict, by the phrases Postfix, Exim,
//! postscreen and the usual policy services write.

use crate::trace::{Recipient, Trace};

/// The reason class of a rejected recipient (a label value).
pub fn reason(r: &Recipient, t: &Trace) -> &'static str {
    let spam = t
        .spam_verdict
        .as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("spam"));
    classify(r.response.as_deref().unwrap_or(""), t.virus.is_some(), spam)
}

/// The reason class of a reject with reply text `reply`, when a virus was found or the
/// filter said spam.
pub fn classify(reply: &str, virus: bool, spam: bool) -> &'static str {
    let reply = reply.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| reply.contains(w));
    if virus || has(&["virus", "infected", "malware"]) {
        "virus"
    } else if has(&["greylist", "graylist", "try again later", "postgrey"]) {
        "greylist"
    } else if has(&[
        "blocked using",
        "dnsbl",
        "rbl",
        "blacklist",
        "blocklist",
        "listed at",
        "listed in",
        "spamhaus",
        "spamcop",
    ]) {
        "rbl"
    } else if has(&[
        "user unknown",
        "unknown user",
        "no such user",
        "unknown in",
        "mailbox unavailable",
        "does not exist",
        "5.1.1",
        "address rejected: undeliverable",
        "unrouteable address",
    ]) {
        "unknown_user"
    } else if has(&[
        "relay access denied",
        "relay not permitted",
        "relaying denied",
        "relay denied",
    ]) {
        "relay_denied"
    } else if spam || has(&["spam"]) {
        "spam"
    } else if has(&[
        "policy",
        "helo command rejected",
        "sender address rejected",
        "client host rejected",
        "recipient address rejected",
        "access denied",
        "spf",
        "dmarc",
        "5.7.",
    ]) {
        "policy"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_fall_into_their_classes() {
        let t = Trace::new("h:Q:1".into(), "h", chrono::Utc::now());
        let class = |reply: &str| {
            let mut r = Recipient::new("a@b.example");
            r.response = Some(reply.into());
            reason(&r, &t)
        };
        assert_eq!(
            class("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"),
            "rbl"
        );
        assert_eq!(
            class("550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in virtual mailbox table"),
            "unknown_user"
        );
        assert_eq!(class("554 5.7.1 <oscar@qq.com>: Relay access denied"), "relay_denied");
        assert_eq!(class("450 4.2.0 <m@example.com>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/example.com.html"), "greylist");
        assert_eq!(class("554 5.7.1 Rejected: message looks like spam"), "spam");
        assert_eq!(
            class("550 5.7.0 Message contains a virus (Eicar-Test-Signature)"),
            "virus"
        );
        assert_eq!(
            class("504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname"),
            "policy"
        );
        assert_eq!(class("550 5.7.23 SPF fail"), "policy");
        assert_eq!(class("452 4.3.1 Insufficient system storage"), "other");
    }
}
