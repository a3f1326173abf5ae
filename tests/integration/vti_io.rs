//! The `.vti` writer against an independent reader written here: its own XML scanning and its
//! own decoding of VTK's appended raw data, plain or zlib-compressed in blocks. Values must come
//! back bit for bit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use secretome::output::vti::{write_pvd, write_vti, VtiArray, VtiData};

/// A fresh, empty folder for one test.
fn dir(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("vti_io-{test}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// xorshift64: deterministic values without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// In [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

use crate::common::vti_reader::{element, read_array, read_vti, u64_at};

// ------------------------------------------------------------------ tests

#[test]
fn small_grid_round_trips_bit_for_bit() {
    let d = dir("small");
    let dims = [5, 4, 3];
    let n: usize = 60;
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let labels: Vec<u8> = (0..n).map(|i| (i * 7 % 11) as u8).collect();
    let words: Vec<u16> = (0..n).map(|i| (i * 1000) as u16).collect();
    let index: Vec<i32> = (0..n as i32).map(|i| i - 30).collect();
    let conc: Vec<f32> = (0..n)
        .map(|_| ((rng.unit() - 0.3) * 1e3f64.powf(rng.unit() * 4.0 - 2.0)) as f32)
        .collect();
    let exact: Vec<f64> = (0..n).map(|_| rng.unit() * 1e-9 - 3e-10).collect();
    let name = "VEGF <ng/mL> & \"free\"";
    let arrays = [
        VtiArray {
            name: "label",
            data: VtiData::U8(&labels),
        },
        VtiArray {
            name: "words",
            data: VtiData::U16(&words),
        },
        VtiArray {
            name: "index",
            data: VtiData::I32(&index),
        },
        VtiArray {
            name,
            data: VtiData::F32(&conc),
        },
        VtiArray {
            name: "exact",
            data: VtiData::F64(&exact),
        },
    ];
    let origin = [-1.5, 0.1, 1.0 / 3.0];
    for compress in [false, true] {
        let path = d.join(format!("small-{compress}.vti"));
        write_vti(&path, dims, origin, 0.25, &arrays, compress).unwrap();
        let v = read_vti(&path);
        assert_eq!(v.file["type"], "ImageData");
        assert_eq!(v.file["version"], "1.0");
        assert_eq!(v.file["byte_order"], "LittleEndian");
        assert_eq!(v.file.contains_key("compressor"), compress);
        assert_eq!(v.image["WholeExtent"], "0 5 0 4 0 3");
        assert_eq!(v.piece["Extent"], "0 5 0 4 0 3");
        let o: Vec<f64> = v.image["Origin"]
            .split(' ')
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(o, origin);
        assert_eq!(v.image["Spacing"], "0.25 0.25 0.25");
        assert_eq!(v.arrays.len(), 5);

        let (ty, bits, _) = read_array(&v, "label");
        assert_eq!(ty, "UInt8");
        assert_eq!(
            bits,
            labels.iter().map(|&x| u64::from(x)).collect::<Vec<_>>()
        );
        let (ty, bits, _) = read_array(&v, "words");
        assert_eq!(ty, "UInt16");
        assert_eq!(
            bits,
            words.iter().map(|&x| u64::from(x)).collect::<Vec<_>>()
        );
        let (ty, bits, _) = read_array(&v, "index");
        assert_eq!(ty, "Int32");
        assert_eq!(
            bits,
            index
                .iter()
                .map(|&x| u64::from(x as u32))
                .collect::<Vec<_>>()
        );
        let (ty, bits, _) = read_array(&v, name);
        assert_eq!(ty, "Float32");
        assert_eq!(
            bits,
            conc.iter()
                .map(|x| u64::from(x.to_bits()))
                .collect::<Vec<_>>()
        );
        let (ty, bits, blocks) = read_array(&v, "exact");
        assert_eq!(ty, "Float64");
        assert_eq!(bits, exact.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        assert_eq!(blocks, u64::from(compress));

        // Ranges, read as numbers.
        let range = |name: &str| {
            let a = v.arrays.iter().find(|a| a["Name"] == name).unwrap();
            (
                a["RangeMin"].parse::<f64>().unwrap(),
                a["RangeMax"].parse::<f64>().unwrap(),
            )
        };
        assert_eq!(range("label"), (0.0, 10.0));
        assert_eq!(range("index"), (-30.0, 29.0));
        let lo = conc.iter().fold(f32::INFINITY, |a, &b| a.min(b));
        let hi = conc.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        assert_eq!(range(name), (f64::from(lo), f64::from(hi)));
        let lo = exact.iter().fold(f64::INFINITY, |a, &b| a.min(b));
        let hi = exact.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        assert_eq!(range("exact"), (lo, hi));
    }
}

#[test]
fn large_arrays_use_several_compressed_blocks() {
    let d = dir("large");
    let mut rng = Rng(0x0bad_cafe_f00d_d00d);
    // 80 × 70 × 75 = 420 000 cells: 3.4 MB of f64 = 3 full 1-MiB blocks and a partial one.
    let dims = [80, 70, 75];
    let n = 80 * 70 * 75;
    let field: Vec<f64> = (0..n)
        .map(|i| (i as f64 * 1e-3).sin() * rng.unit())
        .collect();
    let noise: Vec<f32> = (0..n).map(|_| rng.unit() as f32).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i / 1000 % 5) as u8).collect();
    let arrays = [
        VtiArray {
            name: "field",
            data: VtiData::F64(&field),
        },
        VtiArray {
            name: "noise",
            data: VtiData::F32(&noise),
        },
        VtiArray {
            name: "labels",
            data: VtiData::U8(&labels),
        },
    ];
    for compress in [true, false] {
        let path = d.join(format!("large-{compress}.vti"));
        write_vti(&path, dims, [0.0; 3], 0.1, &arrays, compress).unwrap();
        let v = read_vti(&path);
        let (_, bits, blocks) = read_array(&v, "field");
        assert_eq!(bits, field.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        let (_, nbits, nblocks) = read_array(&v, "noise");
        assert_eq!(
            nbits,
            noise
                .iter()
                .map(|x| u64::from(x.to_bits()))
                .collect::<Vec<_>>()
        );
        let (_, lbits, _) = read_array(&v, "labels");
        assert_eq!(
            lbits,
            labels.iter().map(|&x| u64::from(x)).collect::<Vec<_>>()
        );
        if compress {
            assert_eq!(blocks, 4);
            assert_eq!(nblocks, 2);
            // The labels compress well, so the file is smaller than the raw one.
            let raw = std::fs::metadata(d.join("large-false.vti"))
                .map(|m| m.len())
                .unwrap_or(u64::MAX);
            let packed = std::fs::metadata(&path).unwrap().len();
            assert!(packed < raw, "{packed} vs {raw}");
        } else {
            assert_eq!(blocks, 0);
        }
    }
}

#[test]
fn block_multiple_has_zero_partial_size() {
    let d = dir("multiple");
    // 2 MiB of f64 exactly: two full blocks and a zero last-block size, as VTK expects.
    let dims = [128, 64, 32];
    let values: Vec<f64> = (0..128 * 64 * 32).map(|i| i as f64).collect();
    let path = d.join("m.vti");
    let arrays = [VtiArray {
        name: "i",
        data: VtiData::F64(&values),
    }];
    write_vti(&path, dims, [0.0; 3], 1.0, &arrays, true).unwrap();
    let v = read_vti(&path);
    let off: usize = v.arrays[0]["offset"].parse().unwrap();
    assert_eq!(u64_at(&v.data, off), 2);
    assert_eq!(u64_at(&v.data, off + 8), 1 << 20);
    assert_eq!(u64_at(&v.data, off + 16), 0);
    let (_, bits, _) = read_array(&v, "i");
    assert_eq!(bits, values.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
}

#[test]
fn nan_is_left_out_of_the_range() {
    let d = dir("nan");
    let values = [f32::NAN, 2.0, -1.0, f32::INFINITY];
    let path = d.join("nan.vti");
    let arrays = [VtiArray {
        name: "c",
        data: VtiData::F32(&values),
    }];
    write_vti(&path, [4, 1, 1], [0.0; 3], 1.0, &arrays, false).unwrap();
    let v = read_vti(&path);
    assert_eq!(v.arrays[0]["RangeMin"], "-1");
    assert_eq!(v.arrays[0]["RangeMax"], "2");
    let (_, bits, _) = read_array(&v, "c");
    assert_eq!(
        bits,
        values
            .iter()
            .map(|x| u64::from(x.to_bits()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn bad_arguments_are_one_line_errors_naming_the_file_and_array() {
    let d = dir("errors");
    let path = d.join("bad.vti");
    let good = vec![0u8; 60];
    let short = vec![0.0f32; 59];
    let err = |arrays: &[VtiArray], dims: [usize; 3], spacing: f64| {
        let e = write_vti(&path, dims, [0.0; 3], spacing, arrays, true)
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        e
    };
    let arrays = [
        VtiArray {
            name: "label",
            data: VtiData::U8(&good),
        },
        VtiArray {
            name: "VEGF",
            data: VtiData::F32(&short),
        },
    ];
    let e = err(&arrays, [5, 4, 3], 0.1);
    assert!(
        e.contains("array 'VEGF' has 59 values; expected 60 (5 × 4 × 3 voxels)"),
        "{e}"
    );
    let e = err(&arrays[..1], [5, 0, 3], 0.1);
    assert!(e.contains("5 × 0 × 3"), "{e}");
    let e = err(&arrays[..1], [5, 4, 3], 0.0);
    assert!(e.contains("spacing 0"), "{e}");
    let twice = [arrays[0], arrays[0]];
    let e = err(&twice, [5, 4, 3], 0.1);
    assert!(e.contains("'label' is used twice"), "{e}");
    assert!(!path.exists(), "nothing is written on error");
    // Nothing left behind either.
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);

    let e = write_vti(
        &d.join("missing").join("x.vti"),
        [1, 1, 1],
        [0.0; 3],
        1.0,
        &[],
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("missing") && !e.contains('\n'), "{e}");
}

#[test]
fn rewriting_replaces_the_file_atomically() {
    let d = dir("atomic");
    let path = d.join("a.vti");
    let one = [1u8; 8];
    let two = [2u8; 8];
    for values in [&one, &two] {
        let arrays = [VtiArray {
            name: "x",
            data: VtiData::U8(values),
        }];
        write_vti(&path, [2, 2, 2], [0.0; 3], 1.0, &arrays, true).unwrap();
    }
    let (_, bits, _) = read_array(&read_vti(&path), "x");
    assert_eq!(bits, vec![2; 8]);
    let names: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["a.vti"]);
}

#[test]
fn pvd_lists_the_time_steps() {
    let d = dir("pvd");
    let path = d.join("run.pvd");
    let entries = vec![
        (0.0, "run_0000.vti".to_string()),
        (0.5, "run_0001.vti".to_string()),
        (1.25, "a&b.vti".to_string()),
    ];
    write_pvd(&path, &entries).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("<VTKFile type=\"Collection\""));
    let mut from = 0;
    let mut got = Vec::new();
    while let Some((end, a)) = element(&text, "DataSet", from) {
        got.push((a["timestep"].parse::<f64>().unwrap(), a["file"].clone()));
        from = end;
    }
    assert_eq!(got, entries);
    let e = write_pvd(&path, &[(f64::NAN, "x.vti".to_string())])
        .unwrap_err()
        .to_string();
    assert!(e.contains("run.pvd") && e.contains("time NaN"), "{e}");
}
