//! Where a ClickHouse store is: `clickhouse://[USER@]HOST[:HTTP_PORT]/DATABASE[?cluster=NAME]`.
//!
//! The password is never part of the address, because addresses appear in process lists, shell
//! histories and logs. It comes from `MAILTRACE_CLICKHOUSE_PASSWORD` or from a file
//! (`--password-file`). An address that carries one is refused, with a message that says where
//! the password goes instead.

use std::fmt;

use super::sql::identifier;

/// The scheme of a ClickHouse store address.
pub const SCHEME: &str = "clickhouse://";

/// ClickHouse's default HTTP port.
pub const DEFAULT_PORT: u16 = 8123;

/// A parsed `clickhouse://` address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The user, `default` when the address names none.
    pub user: String,
    /// A host name, an IPv4 address, or an IPv6 address without its brackets.
    pub host: String,
    pub port: u16,
    pub database: String,
    /// The `remote_servers` cluster the tables are spread over (`?cluster=NAME`).
    pub cluster: Option<String>,
}

impl Location {
    /// Whether `text` is meant as a ClickHouse address (a directory otherwise).
    pub fn is_clickhouse(text: &str) -> bool {
        text.get(..SCHEME.len()).is_some_and(|s| s.eq_ignore_ascii_case(SCHEME))
    }

    /// Parses an address; the error says what is wrong and what is expected.
    pub fn parse(text: &str) -> Result<Location, String> {
        let expected = "expected clickhouse://[USER@]HOST[:HTTP_PORT]/DATABASE[?cluster=NAME]";
        if !Location::is_clickhouse(text) {
            return Err(format!("'{text}' is not a ClickHouse address: {expected}"));
        }
        let rest = &text[SCHEME.len()..];
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let Some((authority, path)) = rest.split_once('/') else {
            return Err(format!("'{text}' names no database: {expected}"));
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((user, hostport)) => {
                if user.contains(':') {
                    return Err(
                        "a ClickHouse address must not hold a password (it would show in process lists \
                         and logs): set MAILTRACE_CLICKHOUSE_PASSWORD or use --password-file"
                            .to_string(),
                    );
                }
                if user.is_empty() {
                    return Err(format!("'{text}' has an empty user name before '@': {expected}"));
                }
                (user, hostport)
            }
            None => ("default", authority),
        };
        if !user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return Err(format!(
                "'{user}' is not a ClickHouse user name mailtrace accepts (letters, digits, '_', '-', '.')"
            ));
        }
        let (host, port) = host_port(hostport).map_err(|e| format!("'{text}': {e}; {expected}"))?;
        let database = identifier(path)
            .map_err(|e| format!("'{text}': the database {e}; {expected}"))?
            .to_string();
        let mut cluster = None;
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("cluster", name)) => {
                    let name = identifier(name).map_err(|e| format!("'{text}': the cluster {e}"))?;
                    cluster = Some(name.to_string());
                }
                _ => {
                    return Err(format!(
                        "'{text}': unknown parameter '{pair}' (the only one is cluster=NAME)"
                    ))
                }
            }
        }
        Ok(Location {
            user: user.to_string(),
            host: host.to_string(),
            port,
            database,
            cluster,
        })
    }

    /// The base URL of the HTTP interface, `http://host:port/`.
    pub fn http_base(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}/", self.host, self.port)
        } else {
            format!("http://{}:{}/", self.host, self.port)
        }
    }
}

impl fmt::Display for Location {
    /// The address as given, without a password (there never is one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{SCHEME}{}@{host}:{}/{}", self.user, self.port, self.database)?;
        if let Some(c) = &self.cluster {
            write!(f, "?cluster={c}")?;
        }
        Ok(())
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn host_port(text: &str) -> Result<(&str, u16), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or("an IPv6 address lacks its closing ']'")?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("'{v6}' is not an IPv6 address"));
        }
        match after {
            "" => (v6, None),
            p => (
                v6,
                Some(p.strip_prefix(':').ok_or("expected ':' and a port after ']'")?),
            ),
        }
    } else {
        match text.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err("the host is empty".to_string());
    }
    let plain = host.contains(':')
        || host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !plain {
        return Err(format!("'{host}' is not a host name or address"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("'{p}' is not a port"))?,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let l = Location::parse("clickhouse://mt@ch1:8123/mail?cluster=logs").unwrap();
        assert_eq!(
            l,
            Location {
                user: "mt".into(),
                host: "ch1".into(),
                port: 8123,
                database: "mail".into(),
                cluster: Some("logs".into()),
            }
        );
        assert_eq!(l.to_string(), "clickhouse://mt@ch1:8123/mail?cluster=logs");
        assert_eq!(l.http_base(), "http://ch1:8123/");
        let d = Location::parse("ClickHouse://10.0.0.5/mail").unwrap();
        assert_eq!((d.user.as_str(), d.port, d.cluster), ("default", 8123, None));
        let v6 = Location::parse("clickhouse://[::1]:28121/mail").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 28121));
        assert_eq!(v6.http_base(), "http://[::1]:28121/");
        assert!(Location::is_clickhouse("CLICKHOUSE://x/y"));
        assert!(!Location::is_clickhouse("/var/lib/mailtrace"));
    }

    #[test]
    fn bad_addresses_say_why() {
        let err = |t: &str| Location::parse(t).unwrap_err();
        assert!(err("clickhouse://mt:secret@ch1/mail").contains("MAILTRACE_CLICKHOUSE_PASSWORD"));
        assert!(err("clickhouse://ch1:8123").contains("names no database"));
        assert!(err("clickhouse://ch1:99999/mail").contains("is not a port"));
        assert!(err("clickhouse://ch1:0/mail").contains("is not a port"));
        assert!(err("clickhouse://ch1/mail?cluster=x&user=y").contains("unknown parameter 'user=y'"));
        assert!(err("clickhouse://ch1/ma-il").contains("the database"));
        assert!(err("clickhouse://ch1/mail?cluster=a;b").contains("the cluster"));
        assert!(err("clickhouse://@ch1/mail").contains("empty user"));
        assert!(err("clickhouse://a%27b@ch1/mail").contains("user name"));
        assert!(err("clickhouse://[::1/mail").contains("']'"));
        assert!(err("clickhouse://[zz]/mail").contains("not an IPv6"));
        assert!(err("clickhouse://h/o/st/mail").contains("the database"));
        assert!(err("clickhouse:///mail").contains("host is empty"));
        assert!(err("/var/lib/mailtrace").contains("not a ClickHouse address"));
    }
}
