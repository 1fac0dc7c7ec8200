//! GVariant text format (GLib "GVariant Text Format", `glib/gvariant-parser.c`),
//! as far as dconf keyfile values need it: booleans, integers with their
//! type, strings. dconf update parses keyfile values without a schema, so a
//! bare `300` is an `int32`; GSettings discards a value whose type differs
//! from the schema's (`g_settings_schema_key_type_check`). Keeping the type
//! lets the checks say when a setting is silently ignored.

/// The integer types of GVariant text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntType {
    /// `byte` (`y`).
    Byte,
    /// `int16` (`n`).
    Int16,
    /// `uint16` (`q`).
    Uint16,
    /// `int32` (`i`): the type of a bare number.
    Int32,
    /// `uint32` (`u`).
    Uint32,
    /// `int64` (`x`).
    Int64,
    /// `uint64` (`t`).
    Uint64,
    /// `handle` (`h`).
    Handle,
}

impl IntType {
    /// The keyword used in GVariant text.
    pub fn keyword(self) -> &'static str {
        match self {
            IntType::Byte => "byte",
            IntType::Int16 => "int16",
            IntType::Uint16 => "uint16",
            IntType::Int32 => "int32",
            IntType::Uint32 => "uint32",
            IntType::Int64 => "int64",
            IntType::Uint64 => "uint64",
            IntType::Handle => "handle",
        }
    }

    fn range(self) -> (i128, i128) {
        match self {
            IntType::Byte => (0, 255),
            IntType::Int16 => (i128::from(i16::MIN), i128::from(i16::MAX)),
            IntType::Uint16 => (0, i128::from(u16::MAX)),
            IntType::Int32 | IntType::Handle => (i128::from(i32::MIN), i128::from(i32::MAX)),
            IntType::Uint32 => (0, i128::from(u32::MAX)),
            IntType::Int64 => (i128::from(i64::MIN), i128::from(i64::MAX)),
            IntType::Uint64 => (0, i128::from(u64::MAX)),
        }
    }

    fn from_keyword(k: &str) -> Option<IntType> {
        Some(match k {
            "byte" | "@y" => IntType::Byte,
            "int16" | "@n" => IntType::Int16,
            "uint16" | "@q" => IntType::Uint16,
            "int32" | "@i" => IntType::Int32,
            "uint32" | "@u" => IntType::Uint32,
            "int64" | "@x" => IntType::Int64,
            "uint64" | "@t" => IntType::Uint64,
            "handle" | "@h" => IntType::Handle,
            _ => return None,
        })
    }
}

/// A value in GVariant text format, as far as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GVariant {
    /// `true` / `false` (or `boolean true`).
    Bool(bool),
    /// An integer with its type.
    Int {
        /// The type (`int32` for a bare number).
        ty: IntType,
        /// The value (within the type's range).
        value: i128,
    },
    /// A string (`'text'` or `"text"`), escapes resolved.
    Str(String),
    /// Any other value (double, array, tuple, …), kept as written.
    Other(String),
}

impl GVariant {
    /// The GVariant type keyword of the value, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            GVariant::Bool(_) => "boolean",
            GVariant::Int { ty, .. } => ty.keyword(),
            GVariant::Str(_) => "string",
            GVariant::Other(_) => "other",
        }
    }

    /// The value when it is a `uint32` (what the GNOME schemas use for delays).
    pub fn as_u32(&self) -> Option<u32> {
        match self {
            GVariant::Int {
                ty: IntType::Uint32,
                value,
            } => u32::try_from(*value).ok(),
            _ => None,
        }
    }

    /// The value when it is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            GVariant::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// Parses the GVariant text of a dconf keyfile value (GVariant text format,
/// `glib/gvariant-parser.c`): booleans, integers with an optional type
/// keyword (`uint32 300`) or `@u` annotation, and strings. Other valid forms
/// are returned as [`GVariant::Other`]; an error means dconf update would
/// skip the value.
pub fn parse_gvariant(text: &str) -> Result<GVariant, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty value".to_owned());
    }
    let (annot, rest) = match t.split_once(char::is_whitespace) {
        Some((w, r)) if is_type_annotation(w) => (Some(w), r.trim_start()),
        _ => (None, t),
    };
    match annot {
        Some("boolean" | "@b") => {
            return match rest {
                "true" => Ok(GVariant::Bool(true)),
                "false" => Ok(GVariant::Bool(false)),
                _ => Err(format!("{rest:?} is not a boolean")),
            };
        }
        Some("string" | "@s") => return parse_string(rest).map(GVariant::Str),
        Some(a) => {
            if let Some(ty) = IntType::from_keyword(a) {
                let v = parse_integer(rest)?;
                return check_range(ty, v);
            }
            // double, objectpath, signature, other @ annotations: kept as written.
            return Ok(GVariant::Other(t.to_owned()));
        }
        None => {}
    }
    match t {
        "true" => return Ok(GVariant::Bool(true)),
        "false" => return Ok(GVariant::Bool(false)),
        _ => {}
    }
    if t.starts_with('\'') || t.starts_with('"') {
        return parse_string(t).map(GVariant::Str);
    }
    if t.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
        if t.contains(['.', 'e', 'E']) && !t.starts_with("0x") && !t.starts_with("-0x") {
            // A floating-point number: a double.
            return Ok(GVariant::Other(t.to_owned()));
        }
        let v = parse_integer(t)?;
        // gvariant-parser.c: a number with no type context is an int32.
        return check_range(IntType::Int32, v);
    }
    if t.starts_with(['[', '(', '{', '<', '@']) || t == "nothing" || t.starts_with("just ") {
        return Ok(GVariant::Other(t.to_owned()));
    }
    Err(format!(
        "{t:?} is not GVariant text (a string must be quoted)"
    ))
}

fn is_type_annotation(w: &str) -> bool {
    matches!(
        w,
        "boolean"
            | "byte"
            | "int16"
            | "uint16"
            | "int32"
            | "uint32"
            | "handle"
            | "int64"
            | "uint64"
            | "double"
            | "string"
            | "objectpath"
            | "signature"
    ) || (w.starts_with('@') && w.len() > 1)
}

fn check_range(ty: IntType, v: i128) -> Result<GVariant, String> {
    let (lo, hi) = ty.range();
    if v < lo || v > hi {
        return Err(format!("{v} is out of range for {}", ty.keyword()));
    }
    Ok(GVariant::Int { ty, value: v })
}

/// An integer in GVariant text: decimal, `0x` hex or leading-`0` octal, with a sign.
fn parse_integer(s: &str) -> Result<i128, String> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let parsed = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i128::from_str_radix(h, 16)
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(digits.get(1..).unwrap_or(""), 8)
    } else {
        digits.parse::<i128>()
    };
    // Bound the magnitude first: i128 holds every GVariant integer.
    let v = parsed.map_err(|_| format!("{s:?} is not an integer"))?;
    Ok(if neg { -v } else { v })
}

/// A quoted GVariant string with its escapes resolved.
fn parse_string(s: &str) -> Result<String, String> {
    let mut chars = s.chars();
    let quote = match chars.next() {
        Some(q @ ('\'' | '"')) => q,
        _ => return Err(format!("{s:?} is not a quoted string")),
    };
    let mut out = String::new();
    let mut closed = false;
    while let Some(c) = chars.next() {
        if c == quote {
            closed = true;
            break;
        }
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => break,
            }
        } else {
            out.push(c);
        }
    }
    if !closed {
        return Err(format!("{s:?}: unterminated string"));
    }
    if !chars.as_str().trim().is_empty() {
        return Err(format!("{s:?}: text after the closing quote"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gvariant_values_keep_their_type() {
        assert_eq!(parse_gvariant("uint32 300").unwrap().as_u32(), Some(300));
        assert_eq!(parse_gvariant("@u 0x12c").unwrap().as_u32(), Some(300));
        let bare = parse_gvariant("300").unwrap();
        assert_eq!(bare.as_u32(), None);
        assert_eq!(bare.type_name(), "int32");
        assert_eq!(parse_gvariant("true").unwrap().as_bool(), Some(true));
        assert_eq!(
            parse_gvariant(" boolean false ").unwrap().as_bool(),
            Some(false)
        );
        assert_eq!(
            parse_gvariant("'it\\'s'").unwrap(),
            GVariant::Str("it's".to_owned())
        );
        assert!(matches!(
            parse_gvariant("[1, 2]").unwrap(),
            GVariant::Other(_)
        ));
        assert!(matches!(parse_gvariant("1.5").unwrap(), GVariant::Other(_)));
        assert!(parse_gvariant("uint32 -1").is_err());
        assert!(parse_gvariant("uint32 4294967296").is_err());
        assert!(parse_gvariant("3000000000").is_err()); // not an int32
        assert!(parse_gvariant("yes").is_err());
        assert!(parse_gvariant("'open").is_err());
        assert!(parse_gvariant("").is_err());
        assert!(parse_gvariant("999999999999999999999999999999999999999999").is_err());
    }
}
