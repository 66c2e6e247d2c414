//! Readers of each file format: NDJSON and CSV in the native schema, and a
//! DVCQG array or envelope streamed one element at a time.

use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{ImportError, ImportSpec, RecordAt};
use crate::dvcqg;
use crate::error::FieldError;
use crate::native::{self, Raw, Record};
use crate::wire::ElementSeed;

/// Where a reader hands each record it reads.
type Sink<'a> = dyn FnMut(RecordAt) -> Result<(), ImportError> + 'a;

/// Reads one native JSON record per line.
pub(super) fn read_ndjson(
    reader: impl BufRead,
    path: &Path,
    spec: &ImportSpec<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let mut number = 0;
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line.map_err(|cause| ImportError::Io {
            path: path.to_path_buf(),
            cause,
        })?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        number += 1;
        let parsed = native::ndjson_line(&line).and_then(|e| native::from_element(&e, spec.tree));
        sink(RecordAt {
            number,
            line: Some(i as u64 + 1),
            parsed,
        })?;
    }
    Ok(())
}

/// A CSV row, read by the native field names of its header.
struct CsvRecord<'a> {
    header: &'a csv::StringRecord,
    row: &'a csv::StringRecord,
}

impl Record for CsvRecord<'_> {
    fn get(&self, field: &str) -> Raw<'_> {
        match self
            .header
            .iter()
            .position(|h| h == field)
            .and_then(|i| self.row.get(i))
        {
            None | Some("") => Raw::Missing,
            Some(value) => Raw::Text(value),
        }
    }

    fn unknown_field(&self) -> Option<&str> {
        None // the header is checked once, before the first row
    }

    fn duplicate_field(&self) -> Option<&str> {
        None // likewise
    }
}

/// Reads CSV with a header of native field names.
pub(super) fn read_csv(
    reader: impl Read,
    path: &Path,
    spec: &ImportSpec<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let format_error = |message: String| ImportError::Format {
        path: path.to_path_buf(),
        message,
    };
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = csv
        .headers()
        .map_err(|e| format_error(format!("cannot read the CSV header: {e}")))?
        .clone();
    if let Some(unknown) = header.iter().find(|h| !native::FIELDS.contains(h)) {
        return Err(format_error(format!(
            "line 1: unknown column {unknown:?} (columns: {})",
            native::FIELDS.join(", ")
        )));
    }
    let mut row = csv::StringRecord::new();
    let mut number = 0;
    loop {
        let line = csv.position().line();
        let parsed = match csv.read_record(&mut row) {
            Ok(false) => return Ok(()),
            Ok(true) => native::from_record(
                &CsvRecord {
                    header: &header,
                    row: &row,
                },
                spec.tree,
            ),
            Err(e) if e.is_io_error() => return Err(format_error(e.to_string())),
            Err(e) => Err(FieldError::new(
                None,
                "(record)",
                format!("unreadable CSV row: {e}"),
            )),
        };
        number += 1;
        sink(RecordAt {
            number,
            line: Some(line),
            parsed,
        })?;
    }
}

/// Reads a DVCQG array, or an envelope whose `madonvi` comes before `data`.
pub(super) fn read_dvcqg(
    reader: impl Read,
    path: &Path,
    spec: &ImportSpec<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let cx = dvcqg::Context {
        tree: spec.tree,
        calendar: spec.calendar,
        status_map: spec.status_map,
    };
    let mut stopped: Option<ImportError> = None;
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let mut state = DvcqgStream {
        cx: &cx,
        sink,
        stopped: &mut stopped,
        unit: None,
        number: 0,
    };
    let parsed = de::Deserializer::deserialize_any(&mut deserializer, &mut state)
        .and_then(|()| deserializer.end());
    if let Some(e) = stopped {
        return Err(e);
    }
    parsed.map_err(|e| ImportError::Format {
        path: path.to_path_buf(),
        message: format!("not a DVCQG JSON array or envelope: {e}"),
    })
}

/// Streams the elements of a DVCQG array (or an envelope's `data`) to the
/// sink one at a time.
struct DvcqgStream<'a, 'b> {
    cx: &'a dvcqg::Context<'a>,
    sink: &'a mut Sink<'b>,
    stopped: &'a mut Option<ImportError>,
    unit: Option<String>,
    number: u64,
}

impl<'de> Visitor<'de> for &mut DvcqgStream<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of DVCQG records or an envelope with `data`")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element_seed(ElementSeed(&dvcqg::DOSSIER))? {
            self.number += 1;
            let parsed = dvcqg::dossier(&value, self.unit.as_deref(), self.cx);
            let record = RecordAt {
                number: self.number,
                line: None,
                parsed,
            };
            if let Err(e) = (self.sink)(record) {
                *self.stopped = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "data" => map.next_value_seed(&mut *self)?,
                "madonvi" => self.unit = map.next_value::<Option<String>>()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for &mut DvcqgStream<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}
