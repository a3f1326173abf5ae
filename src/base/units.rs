//! Physical quantities written as text: `"12 min"`, `"3.5e-5 mm^2/s"`, `"1.2 ng/1e6 cells/day"`.
//!
//! A quantity is a number followed by a unit expression. The expression is a product of unit
//! symbols (each with an optional integer power `^n`), separated by `*`, `·` or spaces, with `/`
//! dividing by the next factor; a bare number inside the expression (the `1e6` of
//! `ng/1e6 cells/day`) is a scale factor. Every value is converted to the simulator's internal
//! units: length mm, time s, mass ng, volume mL (= 1000 mm³), cell count cells.

use std::fmt;

/// Exponents of the base dimensions: length, time, mass, cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dimension(pub [i32; 4]);

impl Dimension {
    pub const NONE: Dimension = Dimension([0, 0, 0, 0]);
    pub const LENGTH: Dimension = Dimension([1, 0, 0, 0]);
    pub const TIME: Dimension = Dimension([0, 1, 0, 0]);
    pub const RATE: Dimension = Dimension([0, -1, 0, 0]);
    pub const DIFFUSIVITY: Dimension = Dimension([2, -1, 0, 0]);
    pub const CONCENTRATION: Dimension = Dimension([-3, 0, 1, 0]);
    pub const CONCENTRATION_RATE: Dimension = Dimension([-3, -1, 1, 0]);
    pub const MASS: Dimension = Dimension([0, 0, 1, 0]);
    pub const VOLUME: Dimension = Dimension([3, 0, 0, 0]);
    pub const CELLS: Dimension = Dimension([0, 0, 0, 1]);
    /// Secretion per cell: mass per cell per time.
    pub const SECRETION: Dimension = Dimension([0, -1, 1, -1]);
    /// Plasma clearance: volume per time.
    pub const FLOW: Dimension = Dimension([3, -1, 0, 0]);

    fn add(self, o: Dimension, sign: i32) -> Dimension {
        let mut d = self.0;
        for (a, b) in d.iter_mut().zip(o.0) {
            *a += sign * b;
        }
        Dimension(d)
    }

    /// The unit this dimension is stored in, for messages.
    pub fn internal_unit(self) -> String {
        match self {
            Dimension::NONE => "(dimensionless)".into(),
            Dimension::LENGTH => "mm".into(),
            Dimension::TIME => "s".into(),
            Dimension::RATE => "1/s".into(),
            Dimension::DIFFUSIVITY => "mm^2/s".into(),
            Dimension::CONCENTRATION => "ng/mL".into(),
            Dimension::CONCENTRATION_RATE => "ng/mL/s".into(),
            Dimension::MASS => "ng".into(),
            Dimension::VOLUME => "mL".into(),
            Dimension::CELLS => "cells".into(),
            Dimension::SECRETION => "ng/cell/s".into(),
            Dimension::FLOW => "mL/s".into(),
            Dimension(e) => format!("mm^{} s^{} ng^{} cells^{}", e[0], e[1], e[2], e[3]),
        }
    }
}

/// One known unit symbol: its dimension and its size in internal units.
struct UnitDef {
    names: &'static [&'static str],
    dim: Dimension,
    scale: f64,
}

const UNITS: &[UnitDef] = &[
    UnitDef {
        names: &["nm"],
        dim: Dimension::LENGTH,
        scale: 1e-6,
    },
    UnitDef {
        names: &["um", "µm", "μm", "micron"],
        dim: Dimension::LENGTH,
        scale: 1e-3,
    },
    UnitDef {
        names: &["mm"],
        dim: Dimension::LENGTH,
        scale: 1.0,
    },
    UnitDef {
        names: &["cm"],
        dim: Dimension::LENGTH,
        scale: 10.0,
    },
    UnitDef {
        names: &["m"],
        dim: Dimension::LENGTH,
        scale: 1000.0,
    },
    UnitDef {
        names: &["ms"],
        dim: Dimension::TIME,
        scale: 1e-3,
    },
    UnitDef {
        names: &["s", "sec"],
        dim: Dimension::TIME,
        scale: 1.0,
    },
    UnitDef {
        names: &["min"],
        dim: Dimension::TIME,
        scale: 60.0,
    },
    UnitDef {
        names: &["h", "hr", "hour", "hours"],
        dim: Dimension::TIME,
        scale: 3600.0,
    },
    UnitDef {
        names: &["d", "day", "days"],
        dim: Dimension::TIME,
        scale: 86400.0,
    },
    UnitDef {
        names: &["wk", "week", "weeks"],
        dim: Dimension::TIME,
        scale: 604800.0,
    },
    UnitDef {
        names: &["pg"],
        dim: Dimension::MASS,
        scale: 1e-3,
    },
    UnitDef {
        names: &["ng"],
        dim: Dimension::MASS,
        scale: 1.0,
    },
    UnitDef {
        names: &["ug", "µg", "μg"],
        dim: Dimension::MASS,
        scale: 1e3,
    },
    UnitDef {
        names: &["mg"],
        dim: Dimension::MASS,
        scale: 1e6,
    },
    UnitDef {
        names: &["g"],
        dim: Dimension::MASS,
        scale: 1e9,
    },
    UnitDef {
        names: &["uL", "µL", "μL", "ul"],
        dim: Dimension::VOLUME,
        scale: 1.0,
    },
    UnitDef {
        names: &["mL", "ml"],
        dim: Dimension::VOLUME,
        scale: 1e3,
    },
    UnitDef {
        names: &["L", "l"],
        dim: Dimension::VOLUME,
        scale: 1e6,
    },
    UnitDef {
        names: &["cell", "cells"],
        dim: Dimension::CELLS,
        scale: 1.0,
    },
    UnitDef {
        names: &["1"],
        dim: Dimension::NONE,
        scale: 1.0,
    },
    UnitDef {
        names: &["%"],
        dim: Dimension::NONE,
        scale: 0.01,
    },
];

/// Why a quantity string could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    #[error("'{0}' is not a number followed by a unit")]
    NoNumber(String),
    #[error("unknown unit '{unit}' in '{text}'")]
    UnknownUnit { unit: String, text: String },
    #[error("'{text}' has the wrong unit: expected {expected} (e.g. {example}), got {got}")]
    WrongDimension {
        text: String,
        expected: String,
        example: String,
        got: String,
    },
    #[error("'{0}' is not finite")]
    NotFinite(String),
}

/// Amounts of volume are counted in mm³ internally; mL is 1000 mm³.
/// `Dimension::VOLUME` is length³, so a `mL` factor contributes [3,0,0,0] with scale 1000.
fn lookup(sym: &str) -> Option<(Dimension, f64)> {
    UNITS
        .iter()
        .find(|u| u.names.contains(&sym))
        .map(|u| (u.dim, u.scale))
}

/// Parses a unit expression (no leading number) into its dimension and scale.
fn parse_unit_expr(expr: &str, text: &str) -> Result<(Dimension, f64), UnitError> {
    let mut dim = Dimension::NONE;
    let mut scale = 1.0;
    let mut sign = 1;
    let mut token = String::new();
    let flush = |token: &mut String, sign: i32, dim: &mut Dimension, scale: &mut f64| {
        if token.is_empty() {
            return Ok(());
        }
        let (sym, pow) = match token.split_once('^') {
            Some((s, p)) => (
                s.to_string(),
                p.parse::<i32>().map_err(|_| UnitError::UnknownUnit {
                    unit: token.clone(),
                    text: text.to_string(),
                })?,
            ),
            None => match token.strip_suffix('²') {
                Some(s) => (s.to_string(), 2),
                None => match token.strip_suffix('³') {
                    Some(s) => (s.to_string(), 3),
                    None => (token.clone(), 1),
                },
            },
        };
        let (d, sc) = if let Ok(number) = sym.parse::<f64>() {
            (Dimension::NONE, number)
        } else {
            lookup(&sym).ok_or_else(|| UnitError::UnknownUnit {
                unit: sym.clone(),
                text: text.to_string(),
            })?
        };
        let mut dp = Dimension::NONE;
        for _ in 0..pow.abs() {
            dp = dp.add(d, 1);
        }
        let p = sign * pow.signum();
        *dim = dim.add(dp, p);
        *scale *= sc.powi(pow.abs() * p);
        token.clear();
        Ok(())
    };
    for ch in expr.chars() {
        match ch {
            '/' => {
                flush(&mut token, sign, &mut dim, &mut scale)?;
                sign = -1;
            }
            '*' | '·' | ' ' => {
                flush(&mut token, sign, &mut dim, &mut scale)?;
            }
            _ => token.push(ch),
        }
    }
    flush(&mut token, sign, &mut dim, &mut scale)?;
    Ok((dim, scale))
}

/// Splits `"3.5e-5 mm^2/s"` into the number and the unit expression.
fn split_number(text: &str) -> Result<(f64, &str), UnitError> {
    let t = text.trim();
    let mut end = 0;
    let bytes = t.as_bytes();
    let mut prev = b' ';
    for (i, &b) in bytes.iter().enumerate() {
        let ok = b.is_ascii_digit()
            || b == b'.'
            || ((b == b'-' || b == b'+') && (i == 0 || prev == b'e' || prev == b'E'))
            || ((b == b'e' || b == b'E') && i > 0 && prev.is_ascii_digit());
        if !ok {
            break;
        }
        // An 'e' not followed by a digit or sign belongs to the unit, not the number.
        if (b == b'e' || b == b'E')
            && !bytes
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_digit() || *n == b'-' || *n == b'+')
        {
            break;
        }
        end = i + 1;
        prev = b;
    }
    let number: f64 = t[..end]
        .parse()
        .map_err(|_| UnitError::NoNumber(text.to_string()))?;
    Ok((number, t[end..].trim()))
}

/// Reads `text` as a quantity of dimension `expected`, returned in internal units.
/// A bare number is read in `default_unit` (a unit expression such as `"min"`).
pub fn parse_quantity(
    text: &str,
    expected: Dimension,
    default_unit: &str,
) -> Result<f64, UnitError> {
    let (number, unit) = split_number(text)?;
    let unit = if unit.is_empty() { default_unit } else { unit };
    let (dim, scale) = parse_unit_expr(unit, text)?;
    // Volume units are stored as mm³ multiples; fold mm³ → mL where concentrations are involved
    // is not needed: both sides use length³ consistently (1 mL = 1000 mm³).
    if dim != expected {
        return Err(UnitError::WrongDimension {
            text: text.to_string(),
            expected: expected.internal_unit(),
            example: format!("\"1 {default_unit}\""),
            got: if dim == Dimension::NONE {
                "a plain number".into()
            } else {
                unit.to_string()
            },
        });
    }
    let v = number * scale;
    if !v.is_finite() {
        return Err(UnitError::NotFinite(text.to_string()));
    }
    Ok(v * internal_factor(expected))
}

/// Concentrations and other volume-bearing quantities are stored per mL, not per mm³:
/// this factor converts the length³ scale (mm³) of the parsed value into the internal unit.
fn internal_factor(dim: Dimension) -> f64 {
    // Each length³ in the numerator is counted in mm³ by the parser; internal volume is mL.
    let vol_pow = dim.0[0].div_euclid(3);
    let rem = dim.0[0].rem_euclid(3);
    if rem == 0 && dim.0[0] != 0 && !matches!(dim, Dimension::LENGTH | Dimension::DIFFUSIVITY) {
        1000f64.powi(-vol_pow)
    } else {
        1.0
    }
}

/// A value with its dimension, written back in internal units (for messages and summaries).
pub struct Shown(pub f64, pub Dimension);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.1.internal_unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        ((a - b) / b).abs() < 1e-12
    }

    #[test]
    fn reads_the_units_of_the_species_table() {
        assert!(close(
            parse_quantity("12 min", Dimension::TIME, "s").unwrap(),
            720.0
        ));
        assert!(close(
            parse_quantity("2 d", Dimension::TIME, "s").unwrap(),
            172800.0
        ));
        assert!(close(
            parse_quantity("3.5e-5 mm^2/s", Dimension::DIFFUSIVITY, "mm^2/s").unwrap(),
            3.5e-5
        ));
        assert!(close(
            parse_quantity("6000 um^2/min", Dimension::DIFFUSIVITY, "mm^2/s").unwrap(),
            6000e-6 / 60.0
        ));
        assert!(close(
            parse_quantity("2 ng/mL", Dimension::CONCENTRATION, "ng/mL").unwrap(),
            2.0
        ));
        assert!(close(
            parse_quantity("2 ug/L", Dimension::CONCENTRATION, "ng/mL").unwrap(),
            2.0
        ));
        assert!(close(
            parse_quantity("0.2 ng/mL/s", Dimension::CONCENTRATION_RATE, "ng/mL/s").unwrap(),
            0.2
        ));
        assert!(close(
            parse_quantity("1.2 ng/1e6 cells/day", Dimension::SECRETION, "ng/cell/s").unwrap(),
            1.2 / 1e6 / 86400.0
        ));
        assert!(close(
            parse_quantity("3000 mL", Dimension::VOLUME, "mL").unwrap(),
            3000.0
        ));
        assert!(close(
            parse_quantity("0.01 1/min", Dimension::RATE, "1/s").unwrap(),
            0.01 / 60.0
        ));
        assert!(close(
            parse_quantity("2e7", Dimension::CELLS, "cells").unwrap(),
            2e7
        ));
        assert!(close(
            parse_quantity("45", Dimension::TIME, "min").unwrap(),
            2700.0
        ));
    }

    #[test]
    fn refuses_wrong_or_unknown_units() {
        assert!(matches!(
            parse_quantity("12 mm", Dimension::TIME, "s"),
            Err(UnitError::WrongDimension { .. })
        ));
        assert!(matches!(
            parse_quantity("12 parsecs", Dimension::TIME, "s"),
            Err(UnitError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_quantity("twelve min", Dimension::TIME, "s"),
            Err(UnitError::NoNumber(_))
        ));
    }
}
