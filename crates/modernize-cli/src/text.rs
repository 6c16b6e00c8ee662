//! What reaches the operator's terminal: control characters from client files shown escaped,
//! confirmations for destructive commands, passwords read without echo.

use std::fmt::{self, Display, Write as _};
use std::io::{BufRead, IsTerminal};

/// Displays its content with control characters escaped (`\u{1b}`, `\r`, `\u{7}` …), newlines and
/// tabs kept: headers and values from client files may carry terminal escape sequences (a
/// clipboard write, a screen clear) that must not act on the operator's terminal (issue 11).
pub struct Escaped<T>(pub T);

impl<T: Display> Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(EscapingWriter(f), "{}", self.0)
    }
}

struct EscapingWriter<'a, 'b>(&'a mut fmt::Formatter<'b>);

fn needs_escape(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

impl fmt::Write for EscapingWriter<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if !s.contains(needs_escape) {
            return self.0.write_str(s);
        }
        for c in s.chars() {
            if needs_escape(c) {
                write!(self.0, "{}", c.escape_default())?;
            } else {
                self.0.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// Displays a value given by a user or a file that belongs on one line (a name, an e-mail
/// address, a column's header) with every control character escaped, newlines and tabs too: a
/// name holding `\n` cannot forge a row of a listing. Honours width and alignment (`{:<32}`).
pub struct Inline<T>(pub T);

impl<T: Display> Display for Inline<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        if !text.contains(char::is_control) {
            return f.pad(&text);
        }
        let escaped: String =
            text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect();
        f.pad(&escaped)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("{action}: refused without confirmation; pass --yes to confirm")]
    NotConfirmed { action: String },
    #[error("{0}")]
    NoTerminal(String),
    #[error("the two passwords differ")]
    PasswordsDiffer,
    #[error("cannot read from the terminal: {0}")]
    Io(#[from] std::io::Error),
}

/// Goes on when `yes` was given, or when the operator types `yes` on a terminal after reading
/// `action` (what will be destroyed); refuses otherwise, before anything is done.
pub fn confirm(action: &str, yes: bool) -> Result<(), PromptError> {
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal() && std::io::stderr().is_terminal();
    decide(action, yes, interactive.then(|| stdin.lock()))
}

fn decide(action: &str, yes: bool, terminal: Option<impl BufRead>) -> Result<(), PromptError> {
    if yes {
        return Ok(());
    }
    let refused = || PromptError::NotConfirmed { action: action.to_owned() };
    let Some(mut terminal) = terminal else { return Err(refused()) };
    eprint!("{action}.\nType yes to go on: ");
    let mut answer = String::new();
    terminal.read_line(&mut answer)?;
    if answer.trim() == "yes" { Ok(()) } else { Err(refused()) }
}

/// A new password typed twice without echo on the terminal (`rpassword` reads `/dev/tty`).
pub fn ask_new_password() -> Result<String, PromptError> {
    if !std::io::stdin().is_terminal() {
        return Err(PromptError::NoTerminal(
            "--ask-password needs a terminal; in scripts set MODERNIZE_USER_PASSWORD instead".into(),
        ));
    }
    let first = rpassword::prompt_password("Password: ")?;
    let second = rpassword::prompt_password("Password again: ")?;
    if first != second {
        return Err(PromptError::PasswordsDiffer);
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_layout_kept() {
        let hostile = "\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}Owner\u{1b}[2J\r\u{9b}x";
        let shown = format!("{}", Escaped(format_args!("{hostile:<5}|\n\tnext")));
        assert_eq!(shown, "\\u{1b}]52;c;ZWNobyBwd25lZA==\\u{7}Owner\\u{1b}[2J\\r\\u{9b}x|\n\tnext");
        assert!(!shown.contains(|c: char| needs_escape(c)));
        assert_eq!(format!("{}", Escaped("plain, Jürgen")), "plain, Jürgen");
    }

    #[test]
    fn one_line_values_escape_newlines_and_tabs_and_keep_their_width() {
        assert_eq!(format!("{:<8}|", Inline("Acme")), "Acme    |");
        assert_eq!(format!("{}", Inline("Acme\nroot  admin\t\u{1b}[2J")), "Acme\\nroot  admin\\t\\u{1b}[2J");
        assert_eq!(format!("{:<8}|", Inline("a\nb")), "a\\nb    |");
    }

    #[test]
    fn destruction_needs_yes_or_a_typed_yes() {
        let refused = decide("drop everything", false, None::<&[u8]>).expect_err("refused");
        assert_eq!(refused.to_string(), "drop everything: refused without confirmation; pass --yes to confirm");
        assert!(decide("drop everything", true, None::<&[u8]>).is_ok());
        assert!(decide("drop everything", false, Some(&b"yes\n"[..])).is_ok());
        for answer in ["no\n", "y\n", ""] {
            assert!(decide("drop everything", false, Some(answer.as_bytes())).is_err(), "{answer:?}");
        }
    }
}
