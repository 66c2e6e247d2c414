//! Errors found in reference data files (unit trees, procedure catalogs),
//! each pinned to a file, a line and, where it applies, a field.

use std::fmt;

/// One problem in a reference data file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ReferenceError {
    /// The file (or other named input) the problem is in.
    pub file: String,
    /// 1-based line number; 0 when the problem concerns the file as a whole.
    pub line: u64,
    /// The column the problem is in, when there is one.
    pub field: Option<String>,
    /// What is wrong, in words an administrator can act on.
    pub message: String,
}

impl ReferenceError {
    /// A problem at `file:line`, in `field` when given.
    pub fn new(file: &str, line: u64, field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            line,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in a set of reference files, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ReferenceErrors(pub Vec<ReferenceError>);

impl fmt::Display for ReferenceErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(
            f,
            "{count} problem{} in reference data",
            if count == 1 { "" } else { "s" }
        )?;
        for error in &self.0 {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}

/// Reads a CSV with a header row from `input`, checks that the header holds
/// `required` columns, and yields each record with its 1-based line number.
///
/// Lines starting with `#` are comments. Problems are appended to `errors`;
/// records that cannot be read are skipped after being reported.
pub(crate) fn read_csv(
    file: &str,
    input: impl std::io::Read,
    required: &[&str],
    errors: &mut Vec<ReferenceError>,
) -> Vec<(u64, CsvRow)> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            errors.push(ReferenceError::new(
                file,
                1,
                None,
                format!("cannot read the header: {e}"),
            ));
            return Vec::new();
        }
    };
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        errors.push(ReferenceError::new(
            file,
            1,
            None,
            format!(
                "header lacks column{} {} (expected {})",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                required.join(",")
            ),
        ));
        return Vec::new();
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line);
                let values = header
                    .iter()
                    .cloned()
                    .zip(record.iter().map(str::to_owned))
                    .collect();
                rows.push((line, CsvRow { values }));
            }
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                errors.push(ReferenceError::new(file, line, None, csv_error_message(&e)));
            }
        }
    }
    rows
}

fn csv_error_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("has {len} fields, the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_owned(),
        _ => e.to_string(),
    }
}

/// One CSV record as (column, value) pairs.
pub(crate) struct CsvRow {
    values: Vec<(String, String)>,
}

impl CsvRow {
    /// The trimmed value of `column`; empty when the column is absent.
    pub(crate) fn get(&self, column: &str) -> &str {
        self.values
            .iter()
            .find(|(c, _)| c == column)
            .map_or("", |(_, v)| v.as_str())
    }
}
