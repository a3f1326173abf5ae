//! Reading the TOML tree: where each key is in the file, quantities with their units, and
//! one-line errors that name the file, line, key and what was expected.

use super::*;

pub(super) type Val<'a> = Spanned<DeValue<'a>>;

/// The document being read: file name and text (for positions), the species table.
pub(super) struct Doc<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
    pub(super) species: &'a SpeciesTable,
}

impl Doc<'_> {
    pub(super) fn err(&self, span: Option<Range<usize>>, key: &str, expected: &str) -> SimError {
        let at = span.map(|s| InputError::line_col(self.text, s.start));
        InputError::new(self.file, at, key, expected).into()
    }

    pub(super) fn ids(&self) -> String {
        self.species
            .species
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A quantity a key holds: its dimension, the unit of a bare number, a noun and an example for
/// messages.
#[derive(Clone, Copy)]
pub(super) struct Q {
    pub(super) dim: Dimension,
    pub(super) unit: &'static str,
    pub(super) noun: &'static str,
    pub(super) example: &'static str,
}

pub(super) const LENGTH: Q = Q {
    dim: Dimension::LENGTH,
    unit: "mm",
    noun: "a length",
    example: "\"3 mm\"",
};
pub(super) const HOURS: Q = Q {
    dim: Dimension::TIME,
    unit: "h",
    noun: "a time",
    example: "\"12 h\"",
};
pub(super) const SECONDS: Q = Q {
    dim: Dimension::TIME,
    unit: "s",
    noun: "a time",
    example: "\"60 s\"",
};
pub(super) const RATE: Q = Q {
    dim: Dimension::RATE,
    unit: "1/h",
    noun: "a rate",
    example: "\"0.1 1/h\"",
};
pub(super) const CELLS: Q = Q {
    dim: Dimension::CELLS,
    unit: "cells",
    noun: "a cell count",
    example: "\"2e7\"",
};
pub(super) const FRACTION: Q = Q {
    dim: Dimension::NONE,
    unit: "1",
    noun: "a fraction",
    example: "0.15 or \"15 %\"",
};
pub(super) const NUMBER: Q = Q {
    dim: Dimension::NONE,
    unit: "1",
    noun: "a number",
    example: "1",
};
pub(super) const CONCENTRATION: Q = Q {
    dim: Dimension::CONCENTRATION,
    unit: "ng/mL",
    noun: "a concentration",
    example: "\"1 ng/mL\"",
};
pub(super) const MASS: Q = Q {
    dim: Dimension::MASS,
    unit: "ng",
    noun: "an amount",
    example: "\"50 ng\"",
};
pub(super) const VOLUME: Q = Q {
    dim: Dimension::VOLUME,
    unit: "mL",
    noun: "a volume",
    example: "\"3000 mL\"",
};

pub(super) fn article(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A TOML number as f64 (integers and floats; digit separators allowed).
pub(super) fn number(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Integer(i) => {
            let s = i.as_str().replace('_', "");
            i64::from_str_radix(&s, i.radix()).ok().map(|n| n as f64)
        }
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        _ => None,
    }
}

/// Formats a value for messages with its internal unit.
pub(super) fn shown(v: f64, unit: &str) -> String {
    if unit.is_empty() {
        format!("{v}")
    } else {
        format!("{v} {unit}")
    }
}

/// A table being read: its key path (`depot[0]`), where it is, its entries (`None` when the
/// file leaves it out: every key takes its default).
pub(super) struct Tbl<'a> {
    pub(super) doc: &'a Doc<'a>,
    pub(super) path: String,
    pub(super) span: Option<Range<usize>>,
    pub(super) map: Option<&'a DeTable<'a>>,
}

impl<'a> Tbl<'a> {
    pub(super) fn key(&self, k: &str) -> String {
        if self.path.is_empty() {
            k.to_string()
        } else {
            format!("{}.{k}", self.path)
        }
    }

    pub(super) fn get(&self, k: &str) -> Option<&'a Val<'a>> {
        self.map.and_then(|m| m.get(k))
    }

    pub(super) fn has(&self, k: &str) -> bool {
        self.get(k).is_some()
    }

    /// Where a key's value is, or the table when the key is absent.
    pub(super) fn loc(&self, k: &str) -> Option<Range<usize>> {
        self.get(k).map(|v| v.span()).or_else(|| self.span.clone())
    }

    pub(super) fn at(&self, k: &str) -> Option<(usize, usize)> {
        self.loc(k)
            .map(|s| InputError::line_col(self.doc.text, s.start))
    }

    /// An error about key `k` of this table.
    pub(super) fn err(&self, k: &str, expected: &str) -> SimError {
        self.doc.err(self.loc(k), &self.key(k), expected)
    }

    pub(super) fn ensure(&self, ok: bool, k: &str, expected: &str) -> Result<()> {
        if ok {
            Ok(())
        } else {
            Err(self.err(k, expected))
        }
    }

    pub(super) fn type_err(&self, k: &str, v: &Val<'_>, expected: &str) -> SimError {
        self.err(k, &format!("{expected}, got {}", article(v.get_ref())))
    }

    /// Refuses keys not in `keys`, naming the key and listing the valid ones.
    pub(super) fn allow(&self, keys: &[&str], what: &str) -> Result<()> {
        let Some(map) = self.map else { return Ok(()) };
        for (k, _) in map.iter() {
            let name: &str = k.get_ref();
            if !keys.contains(&name) {
                return Err(self.doc.err(
                    Some(k.span()),
                    &self.key(name),
                    &format!(
                        "a key of {what}, one of: {} (`{name}` is unknown)",
                        keys.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A sub-table; an absent one reads as empty (all defaults).
    pub(super) fn table(&self, k: &str) -> Result<Tbl<'a>> {
        match self.get(k) {
            None => Ok(Tbl {
                doc: self.doc,
                path: self.key(k),
                span: self.span.clone(),
                map: None,
            }),
            Some(v) => match v.get_ref() {
                DeValue::Table(t) => Ok(Tbl {
                    doc: self.doc,
                    path: self.key(k),
                    span: Some(v.span()),
                    map: Some(t),
                }),
                _ => Err(self.type_err(k, v, &format!("a table [{}]", self.key(k)))),
            },
        }
    }

    /// An array of tables (`[[depot]]`); `None` when absent.
    pub(super) fn tables(&self, k: &str) -> Result<Option<Vec<Tbl<'a>>>> {
        let Some(v) = self.get(k) else {
            return Ok(None);
        };
        let expected = format!("an array of tables [[{}]]", self.key(k));
        let DeValue::Array(items) = v.get_ref() else {
            return Err(self.type_err(k, v, &expected));
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let DeValue::Table(t) = item.get_ref() else {
                return Err(self.doc.err(
                    Some(item.span()),
                    &format!("{}[{i}]", self.key(k)),
                    &format!("{expected}, got {}", article(item.get_ref())),
                ));
            };
            out.push(Tbl {
                doc: self.doc,
                path: format!("{}[{i}]", self.key(k)),
                span: Some(item.span()),
                map: Some(t),
            });
        }
        Ok(Some(out))
    }

    pub(super) fn string(&self, k: &str, expected: &str) -> Result<Option<&'a str>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Ok(Some(s.as_ref())),
                _ => Err(self.type_err(k, v, expected)),
            },
        }
    }

    pub(super) fn boolean(&self, k: &str) -> Result<Option<bool>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Boolean(b) => Ok(Some(*b)),
                _ => Err(self.type_err(k, v, "true or false")),
            },
        }
    }

    pub(super) fn quantity(&self, k: &str, q: Q) -> Result<Option<f64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => read_quantity(self.doc, v, &self.key(k), q).map(Some),
        }
    }

    pub(super) fn integer(&self, k: &str, expected: &str) -> Result<Option<i64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Integer(_) => match number(v.get_ref()) {
                    Some(n) => Ok(Some(n as i64)),
                    None => Err(self.err(k, expected)),
                },
                _ => Err(self.type_err(k, v, expected)),
            },
        }
    }

    /// `[x, y, z]` in mm (numbers or length strings).
    pub(super) fn point(&self, k: &str) -> Result<Option<[f64; 3]>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => read_point(self.doc, v, &self.key(k)).map(Some),
        }
    }

    /// A list of AHA segments 1–17 (at least one).
    pub(super) fn segments(&self, k: &str) -> Result<Option<Vec<u8>>> {
        let Some(v) = self.get(k) else {
            return Ok(None);
        };
        let expected = "a list of AHA segments 1–17 such as [7, 8, 13, 14]";
        let DeValue::Array(items) = v.get_ref() else {
            return Err(self.type_err(k, v, expected));
        };
        if items.is_empty() {
            return Err(self.err(k, &format!("{expected}, got an empty list")));
        }
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let key = format!("{}[{i}]", self.key(k));
            out.push(read_segment(self.doc, item, &key)?);
        }
        Ok(Some(out))
    }

    /// A table of species id → quantity, checked against the species table; every species in
    /// table order, `default` for those not given. `None` when absent.
    pub(super) fn per_species(
        &self,
        k: &str,
        q: Q,
        default: impl Fn(&str) -> f64,
    ) -> Result<Option<Vec<(String, f64)>>> {
        let Some(v) = self.get(k) else {
            return Ok(None);
        };
        let DeValue::Table(t) = v.get_ref() else {
            return Err(self.type_err(
                k,
                v,
                &format!(
                    "a table of species id → {} such as {{ VEGF = {} }}",
                    q.noun, q.example
                ),
            ));
        };
        let mut given: Vec<(&str, f64)> = Vec::new();
        for (id, val) in t.iter() {
            let id: &str = id.get_ref();
            let key = format!("{}.{id}", self.key(k));
            if self.doc.species.index_of(id).is_none() {
                return Err(self.doc.err(
                    Some(val.span()),
                    &key,
                    &format!(
                        "a species id of the species table: {} (`{id}` is unknown)",
                        self.doc.ids()
                    ),
                ));
            }
            given.push((id, read_quantity(self.doc, val, &key, q)?));
        }
        Ok(Some(
            self.doc
                .species
                .species
                .iter()
                .map(|s| {
                    let v = given
                        .iter()
                        .find(|g| g.0 == s.id)
                        .map_or_else(|| default(&s.id), |g| g.1);
                    (s.id.clone(), v)
                })
                .collect(),
        ))
    }

    /// A rate given either as a rate (`rate_key`, 1/h) or as a half-life (`half_life_key`, h);
    /// returns 1/s.
    pub(super) fn rate_or_half_life(
        &self,
        rate_key: &str,
        half_life_key: &str,
    ) -> Result<Option<f64>> {
        let rate = self.quantity(rate_key, RATE)?;
        let hl = self.quantity(half_life_key, HOURS)?;
        match (rate, hl) {
            (Some(_), Some(_)) => Err(self.err(
                half_life_key,
                &format!("either {rate_key} or {half_life_key}, not both"),
            )),
            (Some(r), None) => {
                self.ensure(
                    r > 0.0,
                    rate_key,
                    &format!("a positive rate, got {}", shown(r, "1/s")),
                )?;
                Ok(Some(r))
            }
            (None, Some(t)) => {
                self.ensure(
                    t > 0.0,
                    half_life_key,
                    &format!("a positive half-life, got {}", shown(t, "s")),
                )?;
                Ok(Some(LN2 / t))
            }
            (None, None) => Ok(None),
        }
    }

    /// A fraction in 0..=1 (`positive`: in (0, 1]).
    pub(super) fn fraction(&self, k: &str, positive: bool) -> Result<Option<f64>> {
        let Some(f) = self.quantity(k, FRACTION)? else {
            return Ok(None);
        };
        let ok = if positive {
            f > 0.0 && f <= 1.0
        } else {
            (0.0..=1.0).contains(&f)
        };
        let range = if positive {
            "0 < f ≤ 1"
        } else {
            "0 ≤ f ≤ 1"
        };
        self.ensure(ok, k, &format!("a fraction {range}, got {f}"))?;
        Ok(Some(f))
    }
}

pub(super) fn read_quantity(doc: &Doc<'_>, v: &Val<'_>, key: &str, q: Q) -> Result<f64> {
    let span = Some(v.span());
    let what = format!(
        "{} such as {} (a bare number is in {})",
        q.noun, q.example, q.unit
    );
    let value = match v.get_ref() {
        DeValue::String(s) => parse_quantity(s, q.dim, q.unit).map_err(|e| {
            let why = match &e {
                UnitError::WrongDimension { got, .. } => format!("wrong unit: {got}"),
                UnitError::UnknownUnit { unit, .. } => format!("unknown unit `{unit}`"),
                UnitError::NoNumber(_) => "not a number followed by a unit".into(),
                UnitError::NotFinite(_) => "not finite".into(),
            };
            doc.err(span.clone(), key, &format!("{what}, got \"{s}\" ({why})"))
        })?,
        DeValue::Integer(_) | DeValue::Float(_) => {
            let n = number(v.get_ref())
                .ok_or_else(|| doc.err(span.clone(), key, &format!("{what}, got a bad number")))?;
            let unit = parse_quantity("1", q.dim, q.unit).unwrap_or(1.0);
            n * unit
        }
        other => {
            return Err(doc.err(span, key, &format!("{what}, got {}", article(other))));
        }
    };
    if !value.is_finite() {
        return Err(doc.err(
            span,
            key,
            &format!("{what}, got a value that is not finite"),
        ));
    }
    Ok(value)
}

pub(super) fn read_point(doc: &Doc<'_>, v: &Val<'_>, key: &str) -> Result<[f64; 3]> {
    let expected = "a point [x, y, z] of 3 numbers in mm";
    let DeValue::Array(items) = v.get_ref() else {
        return Err(doc.err(
            Some(v.span()),
            key,
            &format!("{expected}, got {}", article(v.get_ref())),
        ));
    };
    if items.len() != 3 {
        return Err(doc.err(
            Some(v.span()),
            key,
            &format!("{expected}, got {} numbers", items.len()),
        ));
    }
    let mut p = [0.0; 3];
    for (i, item) in items.iter().enumerate() {
        p[i] = read_quantity(doc, item, &format!("{key}[{i}]"), LENGTH)?;
    }
    Ok(p)
}

pub(super) fn read_segment(doc: &Doc<'_>, v: &Val<'_>, key: &str) -> Result<u8> {
    let expected = "an AHA segment 1–17";
    match v.get_ref() {
        DeValue::Integer(_) => match number(v.get_ref()) {
            Some(n) if (1.0..=17.0).contains(&n) => Ok(n as u8),
            Some(n) => Err(doc.err(Some(v.span()), key, &format!("{expected}, got {n}"))),
            None => Err(doc.err(Some(v.span()), key, expected)),
        },
        other => Err(doc.err(
            Some(v.span()),
            key,
            &format!("{expected}, got {}", article(other)),
        )),
    }
}
