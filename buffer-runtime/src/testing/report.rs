//! The report: one line per check ([`Check`]), and the [`Report`] that collects them in the
//! order they ran and prints them.

use std::fmt;

/// What one check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The provider did what the rules ask.
    Pass,
    /// The provider broke a rule; the detail says which.
    Fail,
    /// Nothing to judge (an optional consumer is missing, or a choice the rules leave open).
    Note,
}

/// One line of a [`Report`].
#[derive(Clone, Debug)]
pub struct Check {
    /// Pass, fail or note.
    pub outcome: Outcome,
    /// What was tried, e.g. `PyBUF_STRIDES|PyBUF_FORMAT` or `consumer hashlib`.
    pub name: String,
    /// What happened, and for a failure the rule it breaks.
    pub detail: String,
}

/// The result of [`check_provider`](super::check_provider): every check, in the order it ran.
#[derive(Clone, Debug)]
pub struct Report {
    subject: String,
    checks: Vec<Check>,
}

impl Report {
    /// Whether no check failed.
    pub fn is_ok(&self) -> bool {
        self.failures().next().is_none()
    }

    /// Every check, in the order it ran.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// The failed checks only.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome == Outcome::Fail)
    }

    /// Panics with the whole report if any check failed.
    #[track_caller]
    pub fn assert_ok(&self) {
        if !self.is_ok() {
            panic!("buffer provider is not conformant\n{self}");
        }
    }

    /// An empty report on `subject` (the object's type name).
    pub(super) fn new(subject: String) -> Report {
        Report {
            subject,
            checks: Vec::new(),
        }
    }

    pub(super) fn push(
        &mut self,
        outcome: Outcome,
        name: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.checks.push(Check {
            outcome,
            name: name.into(),
            detail: detail.into(),
        });
    }

    pub(super) fn judge(
        &mut self,
        name: impl Into<String>,
        problems: Vec<String>,
        ok_detail: impl Into<String>,
    ) {
        if problems.is_empty() {
            self.push(Outcome::Pass, name, ok_detail);
        } else {
            self.push(Outcome::Fail, name, problems.join("; "));
        }
    }
}

/// A header with the counts, then one line per check: `ok`, `FAIL` or `note`.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |o| self.checks.iter().filter(|c| c.outcome == o).count();
        writeln!(
            f,
            "buffer conformance of {}: {} passed, {} failed, {} notes",
            self.subject,
            count(Outcome::Pass),
            count(Outcome::Fail),
            count(Outcome::Note)
        )?;
        let width = self
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(0)
            .min(44);
        for c in &self.checks {
            let tag = match c.outcome {
                Outcome::Pass => "ok  ",
                Outcome::Fail => "FAIL",
                Outcome::Note => "note",
            };
            writeln!(f, "  {tag}  {:width$}  {}", c.name, c.detail)?;
        }
        Ok(())
    }
}

/// The first few distinct reasons, and how many more there are.
pub(super) fn summary(reasons: &[String]) -> String {
    let mut distinct: Vec<&String> = Vec::new();
    for r in reasons {
        if !distinct.contains(&r) {
            distinct.push(r);
        }
    }
    let shown: Vec<&str> = distinct.iter().take(3).map(|s| s.as_str()).collect();
    match distinct.len() {
        n if n > 3 => format!("{} and {} more", shown.join("; "), n - 3),
        _ => shown.join("; "),
    }
}
