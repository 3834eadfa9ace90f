//! RFC 4180 CSV for every table fastbfp writes (`layers.csv`, `compare.csv`, `sweep.csv`,
//! `merged.csv`, the training CSVs): fields with a comma, quote or line break are quoted by the
//! `csv` crate, so names from user files (layers, points, archs) never corrupt a row.

/// A CSV table being built in memory.
pub struct CsvTable {
    w: csv::Writer<Vec<u8>>,
}

impl CsvTable {
    /// A table with this header row.
    pub fn new<I, S>(header: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        // `flexible`: rows are built by this crate with the header's width; writing into a
        // `Vec` cannot fail, so no error path remains.
        let mut t = CsvTable { w: csv::WriterBuilder::new().flexible(true).from_writer(Vec::new()) };
        t.row(header);
        t
    }

    /// Appends one row.
    pub fn row<I, S>(&mut self, fields: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        // Infallible for an in-memory writer with flexible rows (see `new`).
        let _ = self.w.write_record(fields);
    }

    /// The table's text.
    pub fn finish(self) -> String {
        let bytes = self.w.into_inner().unwrap_or_else(|e| e.into_inner().get_ref().clone());
        String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn awkward_names_are_quoted_and_read_back() {
        let mut t = CsvTable::new(["name", "value"]);
        let names = ["plain", "with,comma", "with \"quote\"", "two\nlines", ""];
        for (i, n) in names.iter().enumerate() {
            t.row([n.to_string(), i.to_string()]);
        }
        let text = t.finish();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let back: Vec<(String, String)> =
            r.records().map(|rec| rec.map(|rec| (rec[0].to_string(), rec[1].to_string())).unwrap()).collect();
        assert_eq!(back.len(), names.len());
        for (i, n) in names.iter().enumerate() {
            assert_eq!(back[i], (n.to_string(), i.to_string()));
        }
    }
}
