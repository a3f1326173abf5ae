//! Parameter sweeps (`secretome sweep`): a base scenario and lists of values for any of its
//! keys; every combination is one member, run into its own directory, with one row per member
//! in `sweep.csv`.
//!
//! ```toml
//! base = "../assets/scenarios/intramyocardial.toml"   # relative to this file
//! [vary]
//! "depot[0].cells" = ["5e6", "2e7"]                    # first key varies slowest
//! "depot[0].start" = ["0 h", "24 h"]
//! "species.VEGF.tissue_half_life" = ["30 min", "90 min"]
//! ```
//!
//! A key is a path through the scenario file's tables (`depot[0]` is the first `[[depot]]`);
//! a value is whatever that key accepts in a scenario file, units included. Each member's
//! scenario is the base file with those keys set, checked exactly like a scenario file.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::base::atomic::write_atomic;
use crate::error::{Result, SimError};
use crate::scenario::Scenario;
use crate::SpeciesTable;

/// A sweep file, read.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The sweep file, as given (for messages).
    pub file: String,
    /// The base scenario file.
    pub base: PathBuf,
    base_table: toml::Table,
    /// Keys and their values, in file order.
    pub keys: Vec<(String, Vec<toml::Value>)>,
}

fn bad(file: &str, msg: String) -> SimError {
    SimError::Run(format!("{file}: {msg}"))
}

impl Sweep {
    pub fn load(path: &Path) -> Result<Sweep> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SimError::Io {
            path: file.clone(),
            message: e.to_string(),
        })?;
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| bad(&file, e.message().to_string()))?;
        for k in table.keys() {
            if k != "base" && k != "vary" {
                return Err(bad(
                    &file,
                    format!("unknown key `{k}`: expected `base` and a [vary] table"),
                ));
            }
        }
        let Some(toml::Value::String(base)) = table.get("base") else {
            return Err(bad(
                &file,
                "`base`: expected the base scenario's path (a string)".into(),
            ));
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let base = dir.join(base);
        let base_text = std::fs::read_to_string(&base).map_err(|e| SimError::Io {
            path: base.display().to_string(),
            message: format!("base scenario of {file}: {e}"),
        })?;
        let base_table: toml::Table = base_text.parse().map_err(|e: toml::de::Error| {
            bad(&base.display().to_string(), e.message().to_string())
        })?;
        let Some(toml::Value::Table(vary)) = table.get("vary") else {
            return Err(bad(
                &file,
                "[vary]: expected a table of keys, each with a list of values".into(),
            ));
        };
        if vary.is_empty() {
            return Err(bad(&file, "[vary]: expected at least one key".into()));
        }
        let mut keys = Vec::new();
        for (k, v) in vary {
            let toml::Value::Array(values) = v else {
                return Err(bad(
                    &file,
                    format!("[vary] `{k}`: expected a list of values"),
                ));
            };
            if values.is_empty() {
                return Err(bad(
                    &file,
                    format!("[vary] `{k}`: expected at least one value"),
                ));
            }
            keys.push((k.clone(), values.clone()));
        }
        let sweep = Sweep {
            file,
            base,
            base_table,
            keys,
        };
        // Every key must lead somewhere in a scenario: try the first member now.
        sweep.member(0)?;
        Ok(sweep)
    }

    /// Number of members: the product of the value counts.
    pub fn members(&self) -> usize {
        self.keys.iter().map(|(_, v)| v.len()).product()
    }

    /// Values of member `k` (key, value as written), the first key varying slowest.
    pub fn values(&self, k: usize) -> Vec<(String, toml::Value)> {
        let mut rest = k;
        let mut out = vec![];
        for (key, values) in self.keys.iter().rev() {
            out.push((key.clone(), values[rest % values.len()].clone()));
            rest /= values.len();
        }
        out.reverse();
        out
    }

    /// Member `k`'s scenario: the base with its values set, parsed and checked.
    pub fn member(&self, k: usize) -> Result<Scenario> {
        let n = self.members();
        if k >= n {
            return Err(bad(
                &self.file,
                format!("member {k}: the sweep has {n} members, 0 to {}", n - 1),
            ));
        }
        let mut table = self.base_table.clone();
        for (key, value) in self.values(k) {
            set(&mut table, &key, value)
                .map_err(|m| bad(&self.file, format!("[vary] `{key}`: {m}")))?;
        }
        let text = toml::to_string(&table).map_err(|e| bad(&self.file, e.to_string()))?;
        let name = format!("{} (sweep {} member {k})", self.base.display(), self.file);
        let dir = self.base.parent().unwrap_or(Path::new("."));
        let mut sc = Scenario::parse(&text, &name, dir, &SpeciesTable::default_table()?)?;
        sc.name = format!(
            "{} #{k}",
            self.base
                .file_stem()
                .map_or("member".into(), |s| s.to_string_lossy().into_owned())
        );
        Ok(sc)
    }
}

/// Sets `path` (`a.b[2].c`) in a TOML table, creating tables on the way.
fn set(table: &mut toml::Table, path: &str, value: toml::Value) -> std::result::Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut cur = table;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let (name, index) = match part.find('[') {
            Some(b) if part.ends_with(']') => {
                let idx: usize = part[b + 1..part.len() - 1]
                    .parse()
                    .map_err(|_| format!("`{part}`: expected name[index]"))?;
                (&part[..b], Some(idx))
            }
            _ => (*part, None),
        };
        if name.is_empty() {
            return Err(format!("`{path}`: an empty part"));
        }
        match index {
            None if last => {
                cur.insert(name.to_string(), value);
                return Ok(());
            }
            None => {
                let entry = cur
                    .entry(name.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                cur = match entry {
                    toml::Value::Table(t) => t,
                    _ => return Err(format!("`{name}` is not a table")),
                };
            }
            Some(idx) => {
                let Some(toml::Value::Array(items)) = cur.get_mut(name) else {
                    return Err(format!("the base scenario has no [[{name}]] list"));
                };
                let len = items.len();
                let Some(item) = items.get_mut(idx) else {
                    return Err(format!(
                        "the base scenario has {len} [[{name}]] tables, 0 to {}",
                        len.saturating_sub(1)
                    ));
                };
                if last {
                    *item = value;
                    return Ok(());
                }
                cur = match item {
                    toml::Value::Table(t) => t,
                    _ => return Err(format!("`{name}[{idx}]` is not a table")),
                };
            }
        }
    }
    Ok(())
}

/// Directory of member `k` inside the sweep's output directory.
pub fn member_dir(out: &Path, k: usize) -> PathBuf {
    out.join(format!("member_{k:04}"))
}

/// The readouts a sweep row keeps from a member's `summary.json` final readouts: plasma, cells,
/// and per tissue label (myocardium, border zone, infarct) the mean AUC and time above EC50.
fn key_readout(column: &str) -> bool {
    column.starts_with("plasma_")
        || column.starts_with("cells:")
        || (["myocardium:", "border_zone:", "infarct:"]
            .iter()
            .any(|r| column.starts_with(r))
            && (column.ends_with(":auc") || column.ends_with(":time_above_ec50")))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes member `k`'s row (`member_dir/sweep_row.csv`: a header line and a row) from its
/// finished run's summary.
pub fn write_member_row(sweep: &Sweep, out: &Path, k: usize) -> Result<()> {
    let dir = member_dir(out, k);
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|e| SimError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| SimError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let mut header = vec!["member".to_string(), "directory".to_string()];
    let mut row = vec![k.to_string(), format!("member_{k:04}")];
    for (key, v) in sweep.values(k) {
        header.push(key);
        row.push(value_text(&v));
    }
    let finals: BTreeMap<String, f64> = json["final_readouts"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(c, v)| Some((c.clone(), v.as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    for (c, v) in finals.iter().filter(|(c, _)| key_readout(c)) {
        header.push(c.clone());
        row.push(format!("{v:e}"));
    }
    header.push("ledger_closure_error".into());
    row.push(format!(
        "{:e}",
        json["ledger_closure_error"].as_f64().unwrap_or(f64::NAN)
    ));
    let pairs: Vec<(String, String)> = header.into_iter().zip(row).collect();
    let text = serde_json::to_string(&pairs).map_err(|e| SimError::Run(e.to_string()))?;
    write_atomic(&dir.join("sweep_row.json"), |w| {
        w.write_all(text.as_bytes())
    })
}

/// Assembles `sweep.csv` from the member rows present (members whose routes differ may have
/// different readouts: the columns are their union, blank where a member has none); returns
/// how many rows there were.
pub fn collect(sweep: &Sweep, out: &Path) -> Result<usize> {
    let mut columns: Vec<String> = Vec::new();
    let mut rows: Vec<BTreeMap<String, String>> = Vec::new();
    for k in 0..sweep.members() {
        let path = member_dir(out, k).join("sweep_row.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let pairs: Vec<(String, String)> =
            serde_json::from_str(&text).map_err(|e| SimError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
        for (c, _) in &pairs {
            if !columns.contains(c) {
                columns.push(c.clone());
            }
        }
        rows.push(pairs.into_iter().collect());
    }
    let header = columns
        .iter()
        .map(|c| csv_field(c))
        .collect::<Vec<_>>()
        .join(",");
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| csv_field(r.get(c).map_or("", String::as_str)))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    write_atomic(&out.join("sweep.csv"), |w| {
        writeln!(w, "{header}")?;
        for l in &lines {
            writeln!(w, "{l}")?;
        }
        Ok(())
    })?;
    Ok(rows.len())
}
