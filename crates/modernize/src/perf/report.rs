//! What the benchmarks of `scripts/bench` share to report a run: their options, the machine's
//! load, the commit measured, and the table each rewrites in docs/benchmarks.md between its
//! `<!-- NAME-benchmark:begin -->` and `<!-- NAME-benchmark:end -->` markers.

use std::path::Path;
use std::process::Command;

/// Removes `name VALUE` from `args` and returns the value (None when `name` is absent).
pub fn take_option(args: &mut Vec<String>, name: &str) -> Result<Option<String>, String> {
    match args.iter().position(|a| a == name) {
        Some(i) if i + 1 < args.len() => {
            let value = args.remove(i + 1);
            args.remove(i);
            Ok(Some(value))
        }
        Some(_) => Err(format!("{name} needs a value")),
        None => Ok(None),
    }
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg gives them (the machine is shared:
/// every figure depends on them).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// A count or rate as the tables print it, rounded, in groups of three digits: 1234567.8 →
/// "1,234,568".
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.abs());
    let mut out = String::from(if value <= -0.5 { "-" } else { "" });
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The commit measured: `BENCH_COMMIT` when set (`scripts/bench` sets it before it builds, so
/// that a commit made while the suite runs is not taken for the build's), else `git rev-parse
/// --short HEAD`, marked when tracked files outside docs/ differ from it (the benchmarks rewrite
/// docs/benchmarks.md as they go); None outside a checkout.
pub fn commit() -> Option<String> {
    if let Some(commit) = std::env::var("BENCH_COMMIT").ok().filter(|c| !c.trim().is_empty()) {
        return Some(commit);
    }
    let output = Command::new("git").args(["rev-parse", "--short", "HEAD"]).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let hash = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    let clean = Command::new("git")
        .args(["diff", "--quiet", "HEAD", "--", ":(top)", ":(top,exclude)docs"])
        .status()
        .is_ok_and(|status| status.success());
    Some(if clean { hash } else { format!("{hash} with uncommitted changes") })
}

/// What a table says of its run: when it started (UTC), the commit, the load average before and
/// after, and the command that reproduces it.
pub struct Run {
    started: String,
    commit: Option<String>,
    load_before: String,
    command: String,
}

impl Run {
    /// Notes the time, commit and load now, before anything is measured.
    pub fn start(command: String) -> Self {
        Self {
            started: chrono::Utc::now().format("%Y-%m-%d %H:%M").to_string(),
            commit: commit(),
            load_before: load_average(),
            command,
        }
    }

    /// "Run of … (UTC) on commit …, load average … before, … after: `command`", the load after
    /// read now.
    pub fn describe(&self) -> String {
        let commit = self.commit.as_deref().map_or_else(|| "an unknown commit".to_owned(), |c| format!("commit {c}"));
        format!(
            "Run of {} (UTC) on {commit}, load average (1, 5, 15 min) {} before, {} after: `{}`",
            self.started,
            self.load_before,
            load_average(),
            self.command
        )
    }
}

/// Replaces what lies between the `name` benchmark's markers in the file at `path` by `table`;
/// the markers stay, and the file must have them.
pub fn replace_table(path: &Path, name: &str, table: &str) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let updated = with_table(&text, name, table).ok_or_else(|| {
        let (begin, end) = markers(name);
        std::io::Error::other(format!("{} has no {begin} … {end} markers", path.display()))
    })?;
    std::fs::write(path, updated)
}

fn markers(name: &str) -> (String, String) {
    (format!("<!-- {name}-benchmark:begin -->"), format!("<!-- {name}-benchmark:end -->"))
}

/// `text` with `table` between the `name` markers, a blank line on either side; None without
/// both markers in order.
fn with_table(text: &str, name: &str, table: &str) -> Option<String> {
    let (begin, end) = markers(name);
    let from = text.find(&begin)? + begin.len();
    let to = from + text[from..].find(&end)?;
    Some(format!("{}\n\n{}\n\n{}", &text[..from], table.trim(), &text[to..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# Title\n\n<!-- a-benchmark:begin -->\n\nold a\n\n<!-- a-benchmark:end -->\n\nprose\n\n\
                       <!-- b-benchmark:begin -->\nold b\n<!-- b-benchmark:end -->\n";

    #[test]
    fn only_the_named_table_is_replaced() {
        let updated = with_table(DOC, "b", "\nnew b\n| x |\n").expect("markers present");
        assert_eq!(
            updated,
            "# Title\n\n<!-- a-benchmark:begin -->\n\nold a\n\n<!-- a-benchmark:end -->\n\nprose\n\n\
             <!-- b-benchmark:begin -->\n\nnew b\n| x |\n\n<!-- b-benchmark:end -->\n"
        );
        // Writing the same table again changes nothing.
        assert_eq!(with_table(&updated, "b", "new b\n| x |").as_deref(), Some(updated.as_str()));
    }

    #[test]
    fn missing_or_misordered_markers_are_refused() {
        assert_eq!(with_table(DOC, "c", "t"), None);
        assert_eq!(with_table("<!-- a-benchmark:end --> <!-- a-benchmark:begin -->", "a", "t"), None);
    }

    #[test]
    fn the_file_is_rewritten_in_place() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("benchmarks.md");
        std::fs::write(&path, DOC)?;
        replace_table(&path, "a", "new a")?;
        assert!(std::fs::read_to_string(&path)?.contains("begin -->\n\nnew a\n\n<!-- a-benchmark:end"));
        assert_eq!(replace_table(&path, "c", "t").map_err(|e| e.kind()), Err(std::io::ErrorKind::Other));
        Ok(())
    }

    #[test]
    fn numbers_are_grouped_by_three_digits() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1_000.0), "1,000");
        assert_eq!(thousands(1_234_567.8), "1,234,568");
        assert_eq!(thousands(-20_490.0), "-20,490");
    }

    #[test]
    fn an_option_and_its_value_are_taken_out() {
        let mut args: Vec<String> = ["--write", "f.md", "100", "--rounds"].map(String::from).into();
        assert_eq!(take_option(&mut args, "--write"), Ok(Some("f.md".into())));
        assert_eq!(take_option(&mut args, "--baseline"), Ok(None));
        assert!(take_option(&mut args, "--rounds").is_err());
        assert_eq!(args, ["100", "--rounds"]);
    }
}
