//! The class gradebook: every learner's report in one table, for a teacher.
//!
//! A gradebook is made from JSON reports only (`grade --format json`, one per
//! learner), whether `grade --class` just wrote them or a CI collected them: one way
//! in, so a gradebook built from GitHub Classroom's reports and one graded here look
//! the same. Reports are untrusted (a learner's CI wrote them): each is read with a
//! size cap, a bad one becomes a row that says so, and every string from one is
//! escaped in every output (HTML, CSV, JSON).

use crate::service::report::visible_line;
use crate::text::html_escape as escape;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The largest report read.
pub const MAX_REPORT: u64 = 16 << 20;

/// One check of one learner, as the report says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub exercise: u32,
    pub name: String,
    pub status: String,
    pub message: String,
}

/// One exercise of one learner: checks passed of those graded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Score {
    pub passed: usize,
    pub total: usize,
}

/// One learner's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub learner: String,
    pub commit: Option<String>,
    /// `pass`, `fail` or `error`, or `unreadable` for a report that could not be read.
    pub status: String,
    pub exercises: BTreeMap<u32, Score>,
    pub checks: Vec<Check>,
    /// The report file, relative to the gradebook.
    pub report: String,
    /// Why the report could not be read.
    pub problem: Option<String>,
}

impl Row {
    pub fn passed(&self) -> usize {
        self.exercises.values().map(|s| s.passed).sum()
    }
    pub fn total(&self) -> usize {
        self.exercises.values().map(|s| s.total).sum()
    }
}

/// A pair of learners whose own code of one exercise is near-identical.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Similar {
    pub exercise: u32,
    pub learners: (String, String),
    /// 0 to 1 (see [`super::similarity`]).
    pub score: f64,
}

/// The whole class.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Gradebook {
    /// Every exercise any report graded, in order.
    pub exercises: Vec<u32>,
    pub rows: Vec<Row>,
    pub similar: Vec<Similar>,
    /// Said when similarity could not be looked at (reports carry no code).
    pub similarity_note: Option<String>,
}

impl Gradebook {
    /// The gradebook of every `*.json` report in `reports` (learner: the file's
    /// stem), with report links relative to `base`.
    pub fn from_reports(reports: &Path, base: &Path) -> std::io::Result<Gradebook> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(reports)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        let mut book = Gradebook::default();
        for file in files {
            let learner = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let link = file
                .strip_prefix(base)
                .unwrap_or(&file)
                .to_string_lossy()
                .into_owned();
            book.rows.push(read_report(&file, learner, link));
        }
        let mut exercises: Vec<u32> = book
            .rows
            .iter()
            .flat_map(|row| row.exercises.keys().copied())
            .collect();
        exercises.sort_unstable();
        exercises.dedup();
        book.exercises = exercises;
        Ok(book)
    }

    /// Writes `gradebook.html`, `gradebook.csv` and `gradebook.json` into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let written = [
            ("gradebook.html", self.html()),
            ("gradebook.csv", self.csv()),
            ("gradebook.json", self.json()),
        ];
        let mut paths = Vec::new();
        for (name, text) in written {
            let path = dir.join(name);
            std::fs::write(&path, text)?;
            paths.push(path);
        }
        Ok(paths)
    }

    /// One line per learner: learner, commit, checks passed and graded, then
    /// `passed/total` per exercise.
    pub fn csv(&self) -> String {
        let mut out = String::from("learner,commit,status,passed,total");
        for exercise in &self.exercises {
            let _ = write!(out, ",{}", exercise_name(*exercise));
        }
        out.push('\n');
        for row in &self.rows {
            let fields = [
                row.learner.clone(),
                row.commit.clone().unwrap_or_default(),
                row.status.clone(),
                row.passed().to_string(),
                row.total().to_string(),
            ];
            let cells = self.exercises.iter().map(|e| match row.exercises.get(e) {
                Some(score) => format!("{}/{}", score.passed, score.total),
                None => String::new(),
            });
            let line: Vec<String> = fields.into_iter().chain(cells).map(|f| csv_field(&f)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
        out
    }

    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// A page of its own (no network, no script from elsewhere): the learner ×
    /// exercise table (click a heading to sort), each cell a link to that exercise's
    /// checks below, each learner a link to their report; then the flagged pairs.
    pub fn html(&self) -> String {
        let mut out = String::from(HTML_HEAD);
        out.push_str("<h1>Gradebook</h1>\n<table id=\"book\">\n<thead><tr><th>learner</th><th>passed</th>");
        for exercise in &self.exercises {
            let _ = write!(out, "<th>{}</th>", escape(&exercise_name(*exercise)));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for (index, row) in self.rows.iter().enumerate() {
            let _ = write!(
                out,
                "<tr><td><a href=\"{}\">{}</a></td><td data-sort=\"{}\">{}/{}</td>",
                escape(&row.report),
                shown(&row.learner),
                row.passed(),
                row.passed(),
                row.total()
            );
            for exercise in &self.exercises {
                match row.exercises.get(exercise) {
                    Some(score) => {
                        let class = match (score.passed, score.total) {
                            (p, t) if p == t && t > 0 => "pass",
                            (0, _) => "fail",
                            _ => "part",
                        };
                        let _ = write!(
                            out,
                            "<td class=\"{class}\" data-sort=\"{}\"><a href=\"#l{index}-e{exercise}\">{}/{}</a></td>",
                            score.passed, score.passed, score.total
                        );
                    }
                    None => out.push_str("<td data-sort=\"-1\"></td>"),
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        self.html_similar(&mut out);
        self.html_details(&mut out);
        out.push_str(HTML_SCRIPT);
        out.push_str("</body>\n</html>\n");
        out
    }

    fn html_similar(&self, out: &mut String) {
        out.push_str("<h2>Near-identical code</h2>\n");
        if let Some(note) = &self.similarity_note {
            let _ = writeln!(out, "<p>{}</p>", shown(note));
        }
        if self.similar.is_empty() {
            out.push_str("<p>No pair flagged.</p>\n");
            return;
        }
        out.push_str(
            "<p>Pairs whose own code of an exercise is near-identical (the stub's lines removed): something to look at, not a verdict.</p>\n\
             <table><thead><tr><th>exercise</th><th>learner</th><th>learner</th><th>score</th></tr></thead><tbody>\n",
        );
        for pair in &self.similar {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td></tr>",
                escape(&exercise_name(pair.exercise)),
                shown(&pair.learners.0),
                shown(&pair.learners.1),
                pair.score
            );
        }
        out.push_str("</tbody></table>\n");
    }

    fn html_details(&self, out: &mut String) {
        out.push_str("<h2>Checks</h2>\n");
        for (index, row) in self.rows.iter().enumerate() {
            let _ = writeln!(out, "<h3>{}</h3>", shown(&row.learner));
            if let Some(problem) = &row.problem {
                let _ = writeln!(out, "<p class=\"fail\">{}</p>", shown(problem));
            }
            for exercise in row.exercises.keys() {
                let _ = writeln!(
                    out,
                    "<section id=\"l{index}-e{exercise}\"><h4>{}</h4><ul>",
                    escape(&exercise_name(*exercise))
                );
                for check in row.checks.iter().filter(|c| c.exercise == *exercise) {
                    let mark = if check.status == "pass" { "pass" } else { "fail" };
                    let _ = write!(
                        out,
                        "<li class=\"{mark}\">{} — {}",
                        shown(&check.name),
                        shown(&check.status)
                    );
                    if !check.message.is_empty() {
                        let message = crate::service::report::visible(&check.message);
                        let _ = write!(out, "<pre>{}</pre>", escape(&message));
                    }
                    out.push_str("</li>\n");
                }
                out.push_str("</ul></section>\n");
            }
        }
    }
}

/// `01-leveldb` for a known exercise, else its number.
fn exercise_name(number: u32) -> String {
    crate::course::COURSE
        .iter()
        .find(|e| e.number == number)
        .map(|e| e.dir_name())
        .unwrap_or_else(|| format!("{number:02}"))
}

/// A string from a report, on one line, for HTML.
fn shown(text: &str) -> String {
    escape(&visible_line(text))
}

/// A CSV field: quoted when it must be, and never read as a formula by a
/// spreadsheet (a learner named `=HYPERLINK(…)`).
fn csv_field(text: &str) -> String {
    let text = visible_line(text);
    let text = match text.starts_with(['=', '+', '-', '@']) {
        true => format!("'{text}"),
        false => text,
    };
    match text.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", text.replace('"', "\"\"")),
        false => text,
    }
}

/// One report as a row; a report that cannot be read is a row that says why.
fn read_report(file: &Path, learner: String, report: String) -> Row {
    let mut row = Row {
        learner,
        commit: None,
        status: "unreadable".into(),
        exercises: BTreeMap::new(),
        checks: Vec::new(),
        report,
        problem: None,
    };
    match parse_report(file) {
        Ok((commit, status, checks)) => {
            for check in &checks {
                let score = row.exercises.entry(check.exercise).or_default();
                score.total += 1;
                score.passed += usize::from(check.status == "pass");
            }
            row.commit = commit;
            row.status = status;
            row.checks = checks;
        }
        Err(problem) => row.problem = Some(format!("the report could not be read: {problem}")),
    }
    row
}

type Parsed = (Option<String>, String, Vec<Check>);

fn parse_report(file: &Path) -> Result<Parsed, String> {
    use std::io::Read as _;
    let meta = std::fs::symlink_metadata(file).map_err(|e| e.to_string())?;
    if !meta.is_file() || meta.len() > MAX_REPORT {
        return Err(format!(
            "not a regular file of at most {}",
            crate::runner::bytes(MAX_REPORT as usize)
        ));
    }
    let mut text = String::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_REPORT).read_to_string(&mut text))
        .map_err(|e| e.to_string())?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let text_of = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let status = text_of(&value["status"]).ok_or("no `status`: not a `grade --format json` report")?;
    let tests = value["tests"]
        .as_array()
        .ok_or("no `tests`: not a `grade --format json` report")?;
    let mut checks = Vec::new();
    for test in tests {
        let exercise = test["task_id"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or("a test without a `task_id`")?;
        let name = text_of(&test["name"]).unwrap_or_default();
        let name = name
            .rsplit_once(" / ")
            .map_or(name.clone(), |(_, check)| check.to_string());
        checks.push(Check {
            exercise,
            name,
            status: text_of(&test["status"]).unwrap_or_else(|| "error".into()),
            message: text_of(&test["message"]).unwrap_or_default(),
        });
    }
    Ok((text_of(&value["replicate"]["commit"]), status, checks))
}

const HTML_HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
<title>Gradebook</title>\n<style>\n\
body { font-family: system-ui, sans-serif; margin: 2em; }\n\
table { border-collapse: collapse; }\n\
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }\n\
th { cursor: pointer; background: #f4f4f4; }\n\
.pass { background: #dff5df; } .part { background: #fff4cc; } .fail { background: #fbe0e0; }\n\
pre { white-space: pre-wrap; margin: 0.2em 0; }\n\
</style>\n</head>\n<body>\n";

/// Sorting by a click on a column's heading: numbers by `data-sort`, text as text.
const HTML_SCRIPT: &str = "<script>\n\
document.querySelectorAll('#book th').forEach(function (th, column) {\n\
  th.addEventListener('click', function () {\n\
    var body = document.querySelector('#book tbody');\n\
    var rows = Array.prototype.slice.call(body.rows);\n\
    var down = th.dataset.order !== 'down';\n\
    th.dataset.order = down ? 'down' : 'up';\n\
    function key(row) { var cell = row.cells[column]; return cell.dataset.sort !== undefined ? Number(cell.dataset.sort) : cell.textContent; }\n\
    rows.sort(function (a, b) { var x = key(a), y = key(b); var c = x < y ? -1 : x > y ? 1 : 0; return down ? -c : c; });\n\
    rows.forEach(function (row) { body.appendChild(row); });\n\
  });\n\
});\n\
</script>\n";

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports come from learners' CI: a report with markup, escape sequences and a
    /// spreadsheet formula in it, and one that is not a report at all.
    #[test]
    fn reports_from_elsewhere_are_read_warily_and_shown_escaped() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let reports = dir.path().join("reports");
        std::fs::create_dir(&reports)?;
        let hostile = serde_json::json!({
            "version": 3,
            "status": "fail",
            "tests": [
                {"name": "01-leveldb / put-then-get", "status": "pass", "task_id": 1},
                {"name": "01-leveldb / <script>alert(1)</script>", "status": "fail", "task_id": 1,
                 "message": "\u{1b}[2Jgot\n7 of 7 checks passed"},
            ],
            "replicate": {"commit": "=HYPERLINK(\"http://x\")"},
        });
        std::fs::write(reports.join("mallory.json"), hostile.to_string())?;
        std::fs::write(reports.join("broken.json"), "{ not json")?;
        let book = Gradebook::from_reports(&reports, dir.path())?;
        assert_eq!(book.exercises, [1]);
        assert_eq!(book.rows[0].learner, "broken");
        assert_eq!(book.rows[0].status, "unreadable");
        assert!(
            book.rows[0]
                .problem
                .as_deref()
                .is_some_and(|p| p.contains("not JSON"))
        );
        assert_eq!(book.rows[1].exercises[&1], Score { passed: 1, total: 2 });
        let html = book.html();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(!html.contains('\u{1b}'));
        assert!(html.contains("\\x1b[2Jgot\n7 of 7"), "{html}");
        let csv = book.csv();
        assert_eq!(
            csv,
            "learner,commit,status,passed,total,01-leveldb\n\
             broken,,unreadable,0,0,\n\
             mallory,\"'=HYPERLINK(\"\"http://x\"\")\",fail,1,2,1/2\n"
        );
        Ok(())
    }
}
