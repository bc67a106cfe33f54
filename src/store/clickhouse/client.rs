//! Queries to one ClickHouse server over its HTTP interface.
//!
//! Plain HTTP and text formats (`JSONEachRow`) work with ClickHouse 18.16 and with current
//! releases alike; the official `clickhouse` crate needs `with_validation(false)` against 18.16
//! and a binary format. The query goes in the request body, the database in the `database` URL
//! parameter (18.16 ignores the `X-ClickHouse-Database` header), the user and password in the
//! `X-ClickHouse-User`/`X-ClickHouse-Key` headers, never in the URL. A server's error (HTTP 4xx
//! or 5xx with `Code: N, e.displayText() = …` in the body) becomes an error that names the server
//! and quotes ClickHouse's text.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use super::Location;

/// How long a query may take before it is given up.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A connection to one server (a shard, or the server that fronts the cluster).
pub struct Client {
    agent: ureq::Agent,
    base: String,
    /// How the server is named in errors: `host:port`.
    name: String,
    user: String,
    password: Option<String>,
    database: String,
}

impl Client {
    /// A client of the server of `location`, with `password` for its user.
    pub fn new(location: &Location, password: Option<String>) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .build();
        let base = location.http_base();
        let name = base.trim_start_matches("http://").trim_end_matches('/').to_string();
        Client {
            agent: ureq::Agent::new_with_config(config),
            base,
            name,
            user: location.user.clone(),
            password,
            database: location.database.clone(),
        }
    }

    /// The password of the ClickHouse user: `MAILTRACE_CLICKHOUSE_PASSWORD`, else the first
    /// line of `file`, else none.
    pub fn password(file: Option<&std::path::Path>) -> Result<Option<String>> {
        if let Ok(p) = std::env::var("MAILTRACE_CLICKHOUSE_PASSWORD") {
            return Ok(Some(p));
        }
        match file {
            Some(f) => {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read the ClickHouse password file {}", f.display()))?;
                Ok(Some(text.lines().next().unwrap_or("").to_string()))
            }
            None => Ok(None),
        }
    }

    /// Runs `sql` (with `database` as the default database unless `in_database` is false, as
    /// for `CREATE DATABASE`) and returns what the server answered.
    pub fn run(&self, sql: &str, in_database: bool) -> Result<String> {
        self.query(sql.as_bytes(), in_database, &[])
    }

    /// Runs `body` (a query, or an `INSERT … FORMAT …` line followed by its data) with
    /// `settings` (ClickHouse setting names and values, as URL parameters; 18.16 has no other
    /// way) and returns the answer.
    pub fn query(&self, body: &[u8], in_database: bool, settings: &[(&str, &str)]) -> Result<String> {
        let mut text = String::new();
        self.each_line(body, in_database, settings, &mut |line| {
            text.push_str(line);
            text.push('\n');
            Ok(())
        })?;
        Ok(text)
    }

    /// Runs `body` and hands each line of the answer to `each` as it arrives (a long answer is
    /// never held whole).
    pub fn each_line(
        &self,
        body: &[u8],
        in_database: bool,
        settings: &[(&str, &str)],
        each: &mut dyn FnMut(&str) -> Result<()>,
    ) -> Result<()> {
        use std::io::BufRead;
        let mut url = self.base.clone();
        let mut sep = '?';
        if in_database {
            url.push_str("?database=");
            url.push_str(&self.database);
            sep = '&';
        }
        for (k, v) in settings {
            url.push(sep);
            url.push_str(k);
            url.push('=');
            url.push_str(v);
            sep = '&';
        }
        let mut request = self.agent.post(&url).header("X-ClickHouse-User", &self.user);
        if let Some(p) = &self.password {
            request = request.header("X-ClickHouse-Key", p);
        }
        let mut response = request
            .send(body)
            .map_err(|e| anyhow!("cannot reach ClickHouse at {}: {e}", self.name))?;
        let status = response.status();
        if !status.is_success() {
            let body = response
                .body_mut()
                .read_to_string()
                .with_context(|| format!("cannot read the answer of ClickHouse at {}", self.name))?;
            let text = body.trim();
            match status.as_u16() {
                401 | 403 => bail!(
                    "ClickHouse at {} refused user '{}' ({status}): {text}; set MAILTRACE_CLICKHOUSE_PASSWORD \
                     or --password-file",
                    self.name,
                    self.user
                ),
                _ => bail!("ClickHouse at {} answered {status}: {text}", self.name),
            }
        }
        let reader = std::io::BufReader::new(response.body_mut().with_config().limit(u64::MAX).reader());
        for line in reader.lines() {
            let line = line.with_context(|| format!("cannot read the answer of ClickHouse at {}", self.name))?;
            each(&line)?;
        }
        Ok(())
    }

    /// How the server is named in messages (`host:port`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The server's version, e.g. `18.16.1`.
    pub fn version(&self) -> Result<String> {
        Ok(self.run("SELECT version()", false)?.trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_comes_from_the_environment_or_the_first_line_of_a_file() {
        if std::env::var_os("MAILTRACE_CLICKHOUSE_PASSWORD").is_some() {
            eprintln!("skipping: MAILTRACE_CLICKHOUSE_PASSWORD is set in this environment");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\nignored\n").unwrap();
        assert_eq!(Client::password(Some(&file)).unwrap().as_deref(), Some("s3cret"));
        assert_eq!(Client::password(None).unwrap(), None);
        let missing = Client::password(Some(&dir.path().join("nope"))).unwrap_err();
        assert!(format!("{missing:#}").contains("cannot read the ClickHouse password file"));
    }
}
