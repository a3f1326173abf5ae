//! Regional maxima against volume-robust statistics on levels (issue 17, docs/levels.md): reads
//! a refined run's `fields/levels_NNNN.vthb` images back (the problem rebuilt from the
//! scenario gives which cells are leaves) and prints, per region and species, the maximum and
//! the concentration exceeded in the hottest 0.1 mm³, 1 mm³ and 1 % of the region's volume.
//! `cargo run --release --example hot_volume -- SCENARIO.toml FINEST_MM RUN_DIR/fields/levels_0001.vthb`
use std::io::Read;
use std::path::Path;

use flate2::read::ZlibDecoder;
use secretome::problem::build::build;
use secretome::scenario::Scenario;

/// The Float32 array `name` of a `.vti` written by `output::vti` (appended, zlib blocks).
fn read_f32(file: &Path, name: &str) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(file)?;
    let text = String::from_utf8_lossy(&bytes);
    let key = format!("Name=\"{name}\"");
    let at = text
        .find(&key)
        .ok_or(format!("{}: no array {name}", file.display()))?;
    let tail = &text[at..];
    let off_at = tail.find("offset=\"").ok_or("no offset")? + 8;
    let offset: usize =
        tail[off_at..tail[off_at..].find('"').ok_or("bad offset")? + off_at].parse()?;
    let marker = b"<AppendedData encoding=\"raw\">";
    let start = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .ok_or("no appended data")?;
    let base = start
        + marker.len()
        + bytes[start + marker.len()..]
            .iter()
            .position(|&b| b == b'_')
            .ok_or("no _")?
        + 1;
    let p = &bytes[base + offset..];
    let u64_at =
        |i: usize| u64::from_le_bytes(p[8 * i..8 * i + 8].try_into().unwrap_or([0; 8])) as usize;
    let nblocks = u64_at(0);
    let mut body = 8 * (3 + nblocks);
    let mut raw = Vec::new();
    for b in 0..nblocks {
        let size = u64_at(3 + b);
        ZlibDecoder::new(&p[body..body + size]).read_to_end(&mut raw)?;
        body += size;
    }
    Ok(raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, finest, vthb] = &args[..] else {
        return Err("usage: hot_volume SCENARIO.toml FINEST_MM LEVELS.vthb".into());
    };
    let mut sc = Scenario::load(Path::new(file))?;
    sc.grid_finest_mm = Some(finest.parse()?);
    let p = build(&sc)?.problem;
    let stem = Path::new(vthb).with_extension("");
    let name = stem
        .file_name()
        .ok_or("no stem")?
        .to_string_lossy()
        .into_owned();
    let grids = p.level_grids();
    let species: Vec<String> = p.species.species.iter().map(|s| s.id.clone()).collect();
    // (label, volume mm³, values per species) of every tissue leaf.
    let mut leaves: Vec<(u8, f64, Vec<f32>)> = Vec::new();
    let mut index_in_level = vec![0usize; p.finest_level() + 1];
    for (k, g) in grids.iter().enumerate() {
        let level = p.grid_level(k);
        let image = stem.join(format!("{name}_{level}_{}.vti", index_in_level[level]));
        index_in_level[level] += 1;
        let values: Vec<Vec<f32>> = species
            .iter()
            .map(|s| read_f32(&image, s))
            .collect::<Result<_, _>>()?;
        let vol = g.spacing.powi(3);
        for (i, l) in g.labels.iter().enumerate() {
            if l.is_tissue() {
                leaves.push((*l as u8, vol, values.iter().map(|v| v[i]).collect()));
            }
        }
    }
    println!("{} tissue leaves", leaves.len());
    let mut labels: Vec<u8> = leaves.iter().map(|l| l.0).collect();
    labels.sort_unstable();
    labels.dedup();
    for label in labels {
        let mine: Vec<&(u8, f64, Vec<f32>)> = leaves.iter().filter(|l| l.0 == label).collect();
        let total: f64 = mine.iter().map(|l| l.1).sum();
        for (s, sp) in species.iter().enumerate() {
            let mut v: Vec<(f32, f64)> = mine.iter().map(|l| (l.2[s], l.1)).collect();
            v.sort_by(|a, b| b.0.total_cmp(&a.0));
            let hottest = |volume: f64| {
                let mut acc = 0.0;
                for &(c, w) in &v {
                    acc += w;
                    if acc >= volume {
                        return c;
                    }
                }
                v.last().map_or(0.0, |x| x.0)
            };
            println!(
                "label {label} ({total:.0} mm³) {sp}: max {:.4e}, hottest 0.1 mm³ {:.4e}, 1 mm³ {:.4e}, 1 % {:.4e}",
                v[0].0,
                hottest(0.1),
                hottest(1.0),
                hottest(0.01 * total)
            );
        }
    }
    Ok(())
}
