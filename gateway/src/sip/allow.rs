//! What a browser may dial: the dial string it sends is turned into a SIP
//! URI built only from validated parts, and that URI must match one of the
//! operator's `--sip-allow` patterns.
//!
//! Building the URI ourselves (instead of passing the browser's text on)
//! is what makes the allow-list hold: the text can carry no URI
//! parameters, headers, second `@` or display name, so a pattern such as
//! `sip:*@pbx.example` cannot be matched by `sip:x@evil@pbx.example` or
//! smuggle a `;maddr=` to elsewhere.

use std::fmt;

/// Longest dial string, account or pattern, in bytes.
pub const MAX_LEN: usize = 256;

/// Why a dial string, URI or pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialError {
    /// Empty, or longer than [`MAX_LEN`].
    Length,
    /// Not `sip:`; `sips:` and `tel:` are not supported.
    Scheme,
    /// The user part has a character outside `A-Z a-z 0-9 . _ + - * # ! ~`.
    User,
    /// The host is not a domain name, IPv4 or bracketed IPv6 address.
    Host,
    /// The port is not 1..=65535.
    Port,
    /// The account has no user part.
    NoUser,
    /// The destination is not on the operator's allow-list.
    NotAllowed(String),
}

impl fmt::Display for DialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialError::Length => write!(f, "must be 1-{MAX_LEN} bytes"),
            DialError::Scheme => {
                write!(f, "only sip: URIs (no sips:, tel:, parameters or headers)")
            }
            DialError::User => write!(f, "the user part may hold only A-Z a-z 0-9 . _ + - * # ! ~"),
            DialError::Host => write!(f, "the host must be a domain name, IPv4 or [IPv6] address"),
            DialError::Port => write!(f, "the port must be 1..=65535"),
            DialError::NoUser => write!(f, "needs a user part (sip:user@host)"),
            DialError::NotAllowed(t) => write!(f, "{t} is not an allowed destination"),
        }
    }
}

impl std::error::Error for DialError {}

/// A SIP URI made of validated parts: `sip:[user@]host[:port]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipTarget {
    /// User part (a number or name), case kept.
    pub user: Option<String>,
    /// Host, lower-case; IPv6 with its brackets.
    pub host: String,
    /// Port, when given.
    pub port: Option<u16>,
}

impl fmt::Display for SipTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sip:")?;
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

fn valid_user(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 64
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-*#!~".contains(c))
}

fn valid_host(h: &str) -> bool {
    if let Some(inner) = h.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Whether `s` starts with `sip:` in any case (never slices inside a
/// multi-byte character).
fn has_sip_scheme(s: &str) -> bool {
    s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("sip:"))
}

/// Parses `sip:[user@]host[:port]` (nothing else: no parameters, headers
/// or display name).
pub fn parse_uri(s: &str) -> Result<SipTarget, DialError> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_LEN {
        return Err(DialError::Length);
    }
    let Some(rest) = s
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("sip:"))
        .map(|_| &s[4..])
    else {
        return Err(DialError::Scheme);
    };
    if rest.contains([';', '?', '<', '>', ',', ' ', '"']) {
        return Err(DialError::Scheme);
    }
    let (user, hostport) = match rest.split_once('@') {
        Some((u, hp)) => {
            if !valid_user(u) {
                return Err(DialError::User);
            }
            (Some(u.to_string()), hp)
        }
        None => (None, rest),
    };
    let (host, port) = if hostport.starts_with('[') {
        match hostport.split_once(']') {
            Some((h, "")) => (format!("{h}]"), None),
            Some((h, p)) => (
                format!("{h}]"),
                Some(p.strip_prefix(':').ok_or(DialError::Host)?),
            ),
            None => return Err(DialError::Host),
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hostport.to_string(), None),
        }
    };
    let host = host.to_ascii_lowercase();
    if !valid_host(&host) {
        return Err(DialError::Host);
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.chars().all(|c| c.is_ascii_digit()) => Some(n),
            _ => return Err(DialError::Port),
        },
    };
    Ok(SipTarget { user, host, port })
}

/// Parses the account (address of record); it must have a user part.
pub fn parse_account(s: &str) -> Result<SipTarget, DialError> {
    let t = parse_uri(s)?;
    if t.user.is_none() {
        return Err(DialError::NoUser);
    }
    Ok(t)
}

/// Turns what the browser dialled into a target: a `sip:` URI as is, or a
/// bare number / user name at the account's domain.
pub fn resolve_dial(dial: &str, account: &SipTarget) -> Result<SipTarget, DialError> {
    let d = dial.trim();
    if has_sip_scheme(d) {
        return parse_uri(d);
    }
    if d.contains(':') {
        return Err(DialError::Scheme);
    }
    if d.is_empty() || d.len() > MAX_LEN {
        return Err(DialError::Length);
    }
    if !valid_user(d) {
        return Err(DialError::User);
    }
    Ok(SipTarget {
        user: Some(d.to_string()),
        host: account.host.clone(),
        port: account.port,
    })
}

/// One allow-list pattern over the target's `sip:user@host[:port]` text:
/// `*` matches any run of characters, `?` exactly one; letters match
/// regardless of case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    /// Checks a pattern: `sip:`, 1..=[`MAX_LEN`] bytes, no spaces.
    pub fn parse(p: &str) -> Result<Pattern, DialError> {
        let p = p.trim();
        if p.is_empty() || p.len() > MAX_LEN || p.contains(char::is_whitespace) {
            return Err(DialError::Length);
        }
        if !has_sip_scheme(p) {
            return Err(DialError::Scheme);
        }
        Ok(Pattern(p.to_ascii_lowercase()))
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        glob(self.0.as_bytes(), text.to_ascii_lowercase().as_bytes())
    }
}

/// Iterative glob with backtracking to the last `*` (linear in practice,
/// never recursive, so a hostile dial string cannot blow the stack).
fn glob(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The operator's allow-list; empty allows nothing.
#[derive(Clone, Debug, Default)]
pub struct AllowList(Vec<Pattern>);

impl AllowList {
    /// Parses every pattern.
    pub fn parse(patterns: &[String]) -> Result<AllowList, DialError> {
        patterns
            .iter()
            .map(|p| Pattern::parse(p))
            .collect::<Result<Vec<_>, _>>()
            .map(AllowList)
    }

    /// Whether a pattern matches `text` (e.g. a caller's From URI).
    pub fn allows_text(&self, text: &str) -> bool {
        self.0.iter().any(|p| p.matches(text))
    }

    /// The target, if a pattern allows it, else [`DialError::NotAllowed`].
    pub fn check(&self, target: SipTarget) -> Result<SipTarget, DialError> {
        let text = target.to_string();
        if self.0.iter().any(|p| p.matches(&text)) {
            Ok(target)
        } else {
            Err(DialError::NotAllowed(text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> SipTarget {
        parse_account("sip:voxlet@PBX.example:5070").unwrap()
    }

    #[test]
    fn uris_parse_only_from_validated_parts() {
        let t = parse_uri("SIP:1000@Pbx.Example:5062").unwrap();
        assert_eq!(t.to_string(), "sip:1000@pbx.example:5062");
        assert_eq!(parse_uri("sip:[::1]:5060").unwrap().host, "[::1]");
        assert_eq!(parse_uri("sip:127.0.0.1").unwrap().port, None);
        for (bad, want) in [
            ("", DialError::Length),
            ("sips:a@b", DialError::Scheme),
            ("tel:+123", DialError::Scheme),
            ("sip:a@b;maddr=evil", DialError::Scheme),
            ("sip:a@b?Route=evil", DialError::Scheme),
            ("sip:a@evil@pbx.example", DialError::Host),
            ("sip:a b@pbx", DialError::Scheme),
            ("sip:a%40b@pbx", DialError::User),
            ("sip:a@pbx:0", DialError::Port),
            ("sip:a@pbx:70000", DialError::Port),
            ("sip:a@pbx:+5", DialError::Port),
            ("sip:a@-pbx", DialError::Host),
            ("sip:a@[zz]", DialError::Host),
        ] {
            assert_eq!(parse_uri(bad), Err(want), "{bad:?}");
        }
        assert_eq!(parse_uri(&"sip:".repeat(100)), Err(DialError::Length));
        assert_eq!(parse_account("sip:pbx.example"), Err(DialError::NoUser));
    }

    #[test]
    fn numbers_go_to_the_account_domain() {
        let a = account();
        assert_eq!(
            resolve_dial(" 1001 ", &a).unwrap().to_string(),
            "sip:1001@pbx.example:5070"
        );
        assert_eq!(
            resolve_dial("sip:bob@127.0.0.1:5062", &a)
                .unwrap()
                .to_string(),
            "sip:bob@127.0.0.1:5062"
        );
        assert_eq!(resolve_dial("tel:1001", &a), Err(DialError::Scheme));
        assert_eq!(resolve_dial("10 01", &a), Err(DialError::User));
        assert_eq!(resolve_dial("", &a), Err(DialError::Length));
    }

    #[test]
    fn patterns() {
        let p = |s: &str| Pattern::parse(s).unwrap();
        assert!(p("sip:1???@pbx.example").matches("sip:1001@PBX.example"));
        assert!(!p("sip:1???@pbx.example").matches("sip:10011@pbx.example"));
        assert!(p("sip:*@127.0.0.1:*").matches("sip:bob@127.0.0.1:5062"));
        assert!(!p("sip:*@127.0.0.1:*").matches("sip:bob@127.0.0.1"));
        assert!(p("sip:*").matches("sip:anything@anywhere"));
        assert!(!p("sip:*@pbx.example").matches("sip:a@pbx.example.evil.com"));
        assert!(p("sip:*a*b*c").matches("sip:xxaxxbxxc"));
        assert!(!p("sip:*a*b*c").matches("sip:xxaxxcxxb"));
        assert!(Pattern::parse("1000").is_err());
        assert!(Pattern::parse("sip:a b").is_err());
        // A long hostile text against many stars ends quickly.
        let long = format!("sip:{}b", "a".repeat(200));
        assert!(!p("sip:*a*a*a*a*a*a*a*a*c").matches(&long));
    }

    /// Any text, including multi-byte characters where a prefix is cut,
    /// gives a value or a typed error, never a panic.
    #[test]
    fn hostile_text_never_panics() {
        let alphabet: Vec<char> = "sSiIpP:@;?<>*.[]0123456789-éü€\u{0}\u{10FFFF} %#+"
            .chars()
            .collect();
        let mut rng = voxlet_support::rng::Rng::new(17);
        let a = account();
        let list = AllowList::parse(&["sip:*@*".into(), "sip:1?*".into()]).unwrap();
        for _ in 0..20_000 {
            let n = (rng.next_u64() % 24) as usize;
            let text: String = (0..n)
                .map(|_| alphabet[(rng.next_u64() % alphabet.len() as u64) as usize])
                .collect();
            let _ = parse_uri(&text);
            let _ = Pattern::parse(&text).map(|p| p.matches(&text));
            if let Ok(t) = resolve_dial(&text, &a) {
                let _ = list.check(t);
            }
        }
        assert_eq!(resolve_dial("abcé1", &a), Err(DialError::User));
        assert_eq!(resolve_dial("sipé", &a), Err(DialError::User));
        assert_eq!(Pattern::parse("siéé"), Err(DialError::Scheme));
    }

    #[test]
    fn allow_list_decides() {
        let list = AllowList::parse(&["sip:1???@pbx.example:5070".into()]).unwrap();
        let a = account();
        assert!(list.check(resolve_dial("1001", &a).unwrap()).is_ok());
        assert_eq!(
            list.check(resolve_dial("9001", &a).unwrap()),
            Err(DialError::NotAllowed("sip:9001@pbx.example:5070".into()))
        );
        assert!(list
            .check(resolve_dial("sip:1001@evil.example:5070", &a).unwrap())
            .is_err());
        assert!(AllowList::default()
            .check(resolve_dial("1001", &a).unwrap())
            .is_err());
    }
}
