//! An independent reader of VTK XML image data (`.vti`), written from the VTK file-format
//! documentation, not from the writer's code: the tests read back what Secretome writes with it.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

// ------------------------------------------------------------------ the independent reader

/// `key="value"` attributes of the first `<tag ...>` element in `xml` at or after `from`.
pub fn element(xml: &str, tag: &str, from: usize) -> Option<(usize, HashMap<String, String>)> {
    let start = from + xml[from..].find(&format!("<{tag} "))?;
    let end = start + xml[start..].find('>')?;
    let mut attrs = HashMap::new();
    let mut rest = &xml[start + tag.len() + 1..end];
    while let Some(eq) = rest.find("=\"") {
        let key = rest[..eq].trim().to_string();
        let after = &rest[eq + 2..];
        let close = after.find('"').unwrap();
        attrs.insert(key, unescape(&after[..close]));
        rest = &after[close + 1..];
    }
    Some((end, attrs))
}

pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

pub struct Vti {
    pub file: HashMap<String, String>,
    pub image: HashMap<String, String>,
    pub piece: HashMap<String, String>,
    pub arrays: Vec<HashMap<String, String>>,
    /// Appended data after the `_`.
    pub data: Vec<u8>,
}

pub fn read_vti(path: &Path) -> Vti {
    let bytes = std::fs::read(path).unwrap();
    let marker = b"<AppendedData encoding=\"raw\">";
    let p = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("no raw AppendedData");
    let xml = std::str::from_utf8(&bytes[..p]).unwrap();
    let underscore = p + bytes[p..].iter().position(|&b| b == b'_').unwrap();
    let (_, file) = element(xml, "VTKFile", 0).unwrap();
    let (_, image) = element(xml, "ImageData", 0).unwrap();
    let (_, piece) = element(xml, "Piece", 0).unwrap();
    let cell = xml.find("<CellData").unwrap();
    let cell_end = xml.find("</CellData>").unwrap();
    let mut arrays = Vec::new();
    let mut from = cell;
    while let Some((end, a)) = element(xml, "DataArray", from) {
        if end > cell_end {
            break;
        }
        arrays.push(a);
        from = end;
    }
    let tail = b"\n  </AppendedData>\n</VTKFile>\n";
    assert!(
        bytes.ends_with(tail),
        "file does not end with the closing tags"
    );
    Vti {
        file,
        image,
        piece,
        arrays,
        data: bytes[underscore + 1..bytes.len() - tail.len()].to_vec(),
    }
}

pub fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Raw bytes of the array at `offset`, and the number of compressed blocks (0 if plain).
pub fn array_bytes(v: &Vti, offset: usize) -> (Vec<u8>, u64) {
    assert_eq!(v.file["header_type"], "UInt64");
    let d = &v.data[offset..];
    match v.file.get("compressor").map(String::as_str) {
        None => {
            let n = u64_at(d, 0) as usize;
            (d[8..8 + n].to_vec(), 0)
        }
        Some("vtkZLibDataCompressor") => {
            let nblocks = u64_at(d, 0);
            let block = u64_at(d, 8) as usize;
            let last = u64_at(d, 16) as usize;
            let mut at = 24 + 8 * nblocks as usize;
            let mut out = Vec::new();
            for b in 0..nblocks as usize {
                let size = u64_at(d, 24 + 8 * b) as usize;
                let mut plain = Vec::new();
                flate2::read::ZlibDecoder::new(&d[at..at + size])
                    .read_to_end(&mut plain)
                    .unwrap();
                let want = if b + 1 == nblocks as usize && last != 0 {
                    last
                } else {
                    block
                };
                assert_eq!(plain.len(), want, "block {b} of {nblocks}");
                out.extend_from_slice(&plain);
                at += size;
            }
            (out, nblocks)
        }
        Some(other) => panic!("unknown compressor {other}"),
    }
}

/// The named array's values as bit patterns, its VTK type and its number of blocks.
pub fn read_array(v: &Vti, name: &str) -> (String, Vec<u64>, u64) {
    let a = v
        .arrays
        .iter()
        .find(|a| a["Name"] == name)
        .unwrap_or_else(|| panic!("no array {name}"));
    assert_eq!(a["format"], "appended");
    let (bytes, blocks) = array_bytes(v, a["offset"].parse().unwrap());
    let ty = a["type"].clone();
    let size = match ty.as_str() {
        "UInt8" => 1,
        "UInt16" => 2,
        "Int32" | "Float32" => 4,
        "Float64" => 8,
        t => panic!("unknown type {t}"),
    };
    assert_eq!(bytes.len() % size, 0);
    let bits = bytes
        .chunks_exact(size)
        .map(|c| {
            let mut w = [0u8; 8];
            w[..size].copy_from_slice(c);
            u64::from_le_bytes(w)
        })
        .collect();
    (ty, bits, blocks)
}
