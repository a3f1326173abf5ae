//! VTK XML image data (`.vti`) writer, and ParaView collections (`.pvd`) of such files.
//!
//! A `.vti` file holds the voxel grid as VTK `ImageData`: each voxel is a cell, so the arrays
//! are `CellData`, the extent counts points (`0 nx 0 ny 0 nz`), `Origin` is the outer corner of
//! voxel (0, 0, 0) in mm and `Spacing` the voxel edge in mm. Arrays are stored as raw binary
//! little-endian in one `AppendedData` block (header type UInt64), optionally zlib-compressed in
//! VTK's block layout. ParaView, VTK's Python bindings (`vtkXMLImageDataReader`), PyVista and
//! R packages built on VTK read these files.

use std::io::Write;
use std::path::Path;

use flate2::write::ZlibEncoder;
use flate2::Compression;

use crate::base::atomic::write_atomic;
use crate::{Result, SimError};

/// Uncompressed size of one compressed block, bytes (a multiple of every element size).
const BLOCK: usize = 1 << 20;

/// The values of one array, one per voxel, index `(z * ny + y) * nx + x` (x fastest).
#[derive(Clone, Copy, Debug)]
pub enum VtiData<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    I32(&'a [i32]),
    F32(&'a [f32]),
    F64(&'a [f64]),
}

/// A named cell array of a `.vti` file.
#[derive(Clone, Copy, Debug)]
pub struct VtiArray<'a> {
    /// Array name as ParaView shows it (any text; escaped in the XML).
    pub name: &'a str,
    pub data: VtiData<'a>,
}

impl VtiData<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            VtiData::U8(s) => s.len(),
            VtiData::U16(s) => s.len(),
            VtiData::I32(s) => s.len(),
            VtiData::F32(s) => s.len(),
            VtiData::F64(s) => s.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// VTK's name of the element type.
    fn vtk_type(&self) -> &'static str {
        match self {
            VtiData::U8(_) => "UInt8",
            VtiData::U16(_) => "UInt16",
            VtiData::I32(_) => "Int32",
            VtiData::F32(_) => "Float32",
            VtiData::F64(_) => "Float64",
        }
    }

    /// Bytes per value.
    fn elem_size(&self) -> usize {
        match self {
            VtiData::U8(_) => 1,
            VtiData::U16(_) => 2,
            VtiData::I32(_) | VtiData::F32(_) => 4,
            VtiData::F64(_) => 8,
        }
    }

    /// Smallest and largest finite value; `None` if there is none.
    fn range(&self) -> Option<(f64, f64)> {
        fn fold(it: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
            it.filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
                None => Some((v, v)),
                Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
            })
        }
        match self {
            VtiData::U8(s) => fold(s.iter().map(|&v| f64::from(v))),
            VtiData::U16(s) => fold(s.iter().map(|&v| f64::from(v))),
            VtiData::I32(s) => fold(s.iter().map(|&v| f64::from(v))),
            VtiData::F32(s) => fold(s.iter().map(|&v| f64::from(v))),
            VtiData::F64(s) => fold(s.iter().copied()),
        }
    }

    /// Little-endian bytes of values `start..end`: borrowed on a little-endian machine,
    /// converted into `scratch` otherwise.
    fn le_bytes<'s>(&'s self, start: usize, end: usize, scratch: &'s mut Vec<u8>) -> &'s [u8] {
        #[cfg(target_endian = "little")]
        {
            let _ = scratch;
            match self {
                VtiData::U8(s) => &s[start..end],
                VtiData::U16(s) => bytemuck::cast_slice(&s[start..end]),
                VtiData::I32(s) => bytemuck::cast_slice(&s[start..end]),
                VtiData::F32(s) => bytemuck::cast_slice(&s[start..end]),
                VtiData::F64(s) => bytemuck::cast_slice(&s[start..end]),
            }
        }
        #[cfg(not(target_endian = "little"))]
        {
            scratch.clear();
            match self {
                VtiData::U8(s) => scratch.extend_from_slice(&s[start..end]),
                VtiData::U16(s) => s[start..end]
                    .iter()
                    .for_each(|v| scratch.extend_from_slice(&v.to_le_bytes())),
                VtiData::I32(s) => s[start..end]
                    .iter()
                    .for_each(|v| scratch.extend_from_slice(&v.to_le_bytes())),
                VtiData::F32(s) => s[start..end]
                    .iter()
                    .for_each(|v| scratch.extend_from_slice(&v.to_le_bytes())),
                VtiData::F64(s) => s[start..end]
                    .iter()
                    .for_each(|v| scratch.extend_from_slice(&v.to_le_bytes())),
            }
            scratch
        }
    }
}

/// Escapes text for an XML attribute value.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

fn bad(path: &Path, message: String) -> SimError {
    SimError::Io {
        path: path.display().to_string(),
        message,
    }
}

/// One array in VTK's compressed layout: UInt64 header `[number of blocks, uncompressed block
/// size, uncompressed size of the last block if partial (else 0), compressed size of each
/// block…]`, then the zlib streams of the blocks one after the other.
fn compress_array(data: &VtiData) -> std::io::Result<Vec<u8>> {
    let es = data.elem_size();
    let per_block = BLOCK / es;
    let n = data.len();
    let total = n * es;
    let nblocks = total.div_ceil(BLOCK);
    let mut sizes = Vec::with_capacity(nblocks);
    let mut body = Vec::new();
    let mut scratch = Vec::new();
    for b in 0..nblocks {
        let (start, end) = (b * per_block, ((b + 1) * per_block).min(n));
        let before = body.len();
        let mut enc = ZlibEncoder::new(body, Compression::fast());
        enc.write_all(data.le_bytes(start, end, &mut scratch))?;
        body = enc.finish()?;
        sizes.push((body.len() - before) as u64);
    }
    let mut out = Vec::with_capacity(8 * (3 + nblocks) + body.len());
    for h in [nblocks as u64, BLOCK as u64, (total % BLOCK) as u64]
        .into_iter()
        .chain(sizes)
    {
        out.extend_from_slice(&h.to_le_bytes());
    }
    out.extend_from_slice(&body);
    Ok(out)
}

/// Writes a voxel grid of `dims = [nx, ny, nz]` cells to a VTK XML image data file.
///
/// * `origin`: outer corner of voxel (0, 0, 0), mm; `spacing`: voxel edge, mm.
/// * `arrays`: cell data, each of `nx * ny * nz` values ordered x fastest, then y, then z
///   (index `(z * ny + y) * nx + x`); each gets `RangeMin`/`RangeMax` (finite values only).
///   The first array is marked as the active scalars.
/// * `compress`: zlib (level 1, for speed) in blocks of 1 MiB, as `vtkZLibDataCompressor`.
///
/// The file is written atomically (temporary file in the same folder, then rename). Errors
/// (`SimError::Io` naming the file): a zero dimension, a non-finite origin, a spacing that is not
/// positive, an array of the wrong length, an empty or repeated array name, or an IO failure.
pub fn write_vti(
    path: &Path,
    dims: [usize; 3],
    origin: [f64; 3],
    spacing: f64,
    arrays: &[VtiArray],
    compress: bool,
) -> Result<()> {
    let [nx, ny, nz] = dims;
    if dims.iter().any(|&d| d == 0 || d >= i32::MAX as usize) {
        return Err(bad(
            path,
            format!(
                "grid of {nx} × {ny} × {nz} voxels; expected 1 to {} along each axis",
                i32::MAX - 1
            ),
        ));
    }
    let cells = nx
        .checked_mul(ny)
        .and_then(|v| v.checked_mul(nz))
        .ok_or_else(|| {
            bad(
                path,
                format!("grid of {nx} × {ny} × {nz} voxels is too large to address"),
            )
        })?;
    if origin.iter().any(|o| !o.is_finite()) {
        return Err(bad(
            path,
            format!(
                "origin ({}, {}, {}) mm; expected finite numbers",
                origin[0], origin[1], origin[2]
            ),
        ));
    }
    if !(spacing.is_finite() && spacing > 0.0) {
        return Err(bad(
            path,
            format!("voxel spacing {spacing} mm; expected a positive number"),
        ));
    }
    for (i, a) in arrays.iter().enumerate() {
        if a.name.trim().is_empty() {
            return Err(bad(
                path,
                format!("array {i} has an empty name; expected a name"),
            ));
        }
        if arrays[..i].iter().any(|b| b.name == a.name) {
            return Err(bad(
                path,
                format!(
                    "array name '{}' is used twice; expected distinct names",
                    a.name
                ),
            ));
        }
        if a.data.len() != cells {
            return Err(bad(
                path,
                format!(
                    "array '{}' has {} values; expected {cells} ({nx} × {ny} × {nz} voxels)",
                    a.name,
                    a.data.len()
                ),
            ));
        }
    }

    // Encoded arrays (compressed) or their sizes (raw), and their offsets after the '_'.
    let encoded: Vec<Vec<u8>> = if compress {
        arrays
            .iter()
            .map(|a| compress_array(&a.data))
            .collect::<std::io::Result<_>>()
            .map_err(|e| bad(path, format!("cannot compress: {e}")))?
    } else {
        Vec::new()
    };
    let mut offsets = Vec::with_capacity(arrays.len());
    let mut offset = 0u64;
    for (i, a) in arrays.iter().enumerate() {
        offsets.push(offset);
        offset += match encoded.get(i) {
            Some(e) => e.len() as u64,
            None => 8 + (a.data.len() * a.data.elem_size()) as u64,
        };
    }

    let mut xml = String::new();
    xml.push_str("<?xml version=\"1.0\"?>\n");
    xml.push_str(
        "<VTKFile type=\"ImageData\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\"",
    );
    if compress {
        xml.push_str(" compressor=\"vtkZLibDataCompressor\"");
    }
    xml.push_str(">\n");
    let extent = format!("0 {nx} 0 {ny} 0 {nz}");
    xml.push_str(&format!(
        "  <ImageData WholeExtent=\"{extent}\" Origin=\"{} {} {}\" Spacing=\"{spacing} {spacing} {spacing}\">\n",
        origin[0], origin[1], origin[2]
    ));
    xml.push_str(&format!("    <Piece Extent=\"{extent}\">\n"));
    xml.push_str("      <PointData>\n      </PointData>\n");
    match arrays.first() {
        Some(a) => xml.push_str(&format!(
            "      <CellData Scalars=\"{}\">\n",
            xml_escape(a.name)
        )),
        None => xml.push_str("      <CellData>\n"),
    }
    for (a, off) in arrays.iter().zip(&offsets) {
        xml.push_str(&format!(
            "        <DataArray type=\"{}\" Name=\"{}\" NumberOfComponents=\"1\" format=\"appended\" offset=\"{off}\"",
            a.data.vtk_type(),
            xml_escape(a.name)
        ));
        if let Some((lo, hi)) = a.data.range() {
            xml.push_str(&format!(" RangeMin=\"{lo}\" RangeMax=\"{hi}\""));
        }
        xml.push_str("/>\n");
    }
    xml.push_str("      </CellData>\n    </Piece>\n  </ImageData>\n");
    xml.push_str("  <AppendedData encoding=\"raw\">\n   _");

    write_atomic(path, |w| {
        w.write_all(xml.as_bytes())?;
        let mut scratch = Vec::new();
        for (i, a) in arrays.iter().enumerate() {
            match encoded.get(i) {
                Some(e) => w.write_all(e)?,
                None => {
                    let n = a.data.len();
                    w.write_all(&((n * a.data.elem_size()) as u64).to_le_bytes())?;
                    let per = BLOCK / a.data.elem_size();
                    let mut start = 0;
                    while start < n {
                        let end = (start + per).min(n);
                        w.write_all(a.data.le_bytes(start, end, &mut scratch))?;
                        start = end;
                    }
                }
            }
        }
        w.write_all(b"\n  </AppendedData>\n</VTKFile>\n")
    })
}

/// Writes a ParaView collection (`.pvd`) listing time steps: `(time, file)` with `file`
/// relative to the `.pvd` file's folder (usually `.vti` files written beside it) and `time` in
/// the unit the caller reports (the simulator uses hours). Written atomically.
pub fn write_pvd(path: &Path, entries: &[(f64, String)]) -> Result<()> {
    if let Some((t, f)) = entries.iter().find(|(t, _)| !t.is_finite()) {
        return Err(bad(
            path,
            format!("time {t} for '{f}'; expected a finite number"),
        ));
    }
    if let Some((_, f)) = entries.iter().find(|(_, f)| f.trim().is_empty()) {
        return Err(bad(
            path,
            format!("empty file name '{f}'; expected a file name"),
        ));
    }
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"0.1\" byte_order=\"LittleEndian\">\n  <Collection>\n",
    );
    for (t, f) in entries {
        xml.push_str(&format!(
            "    <DataSet timestep=\"{t}\" group=\"\" part=\"0\" file=\"{}\"/>\n",
            xml_escape(f)
        ));
    }
    xml.push_str("  </Collection>\n</VTKFile>\n");
    write_atomic(path, |w| w.write_all(xml.as_bytes()))
}
