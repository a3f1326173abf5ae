//! What a run writes at each output time: fields (`.vti`, `.npy`), exposure, the rows of
//! `stats.csv` and the report's pictures.

use super::*;

/// The output times' step numbers: every output interval, and the end.
pub fn output_steps(sc: &Scenario) -> Vec<u64> {
    OutputSteps::of(sc).list()
}

/// The output times' step numbers of [`output_steps`], without listing them: a run of 10⁹
/// hours has 10⁹ of them, more than memory holds.
#[derive(Clone, Copy, Debug)]
pub(super) struct OutputSteps {
    /// Steps between outputs (≥ 1).
    pub every: u64,
    /// The last step (the end; ≥ 1).
    pub total: u64,
}

impl OutputSteps {
    pub fn of(sc: &Scenario) -> Self {
        OutputSteps {
            total: (sc.duration_s / sc.dt_s).round().max(1.0) as u64,
            every: (sc.output_interval_s / sc.dt_s).round().max(1.0) as u64,
        }
    }

    /// Every output step, in order.
    pub fn list(&self) -> Vec<u64> {
        let mut out: Vec<u64> = (0..=self.total).step_by(self.every as usize).collect();
        if out.last() != Some(&self.total) {
            out.push(self.total);
        }
        out
    }

    /// The first output step after `step` (the end when none is before it).
    pub fn next_after(&self, step: u64) -> u64 {
        (step / self.every)
            .saturating_add(1)
            .saturating_mul(self.every)
            .min(self.total)
    }

    /// Whether `step` is an output step.
    pub fn contains(&self, step: u64) -> bool {
        step == self.total || (step < self.total && step.is_multiple_of(self.every))
    }
}

pub(super) fn write_csv_units(path: &Path, c: &Columns) -> Result<()> {
    write_atomic(path, |w| {
        writeln!(w, "column,unit,meaning")?;
        for (name, unit, meaning) in &c.names {
            writeln!(w, "{name},{unit},\"{}\"", meaning.replace('"', "'"))?;
        }
        Ok(())
    })
}

pub(super) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| io_err(path, e))?;
    write_atomic(path, |w| w.write_all(text.as_bytes()))
}

/// One field as a NumPy `.npy` file: float32, shape (nz, ny, nx) in C order, so that
/// `a[z, y, x]` is voxel (x, y, z).
pub(super) fn write_npy(path: &Path, dims: [usize; 3], values: &[f32]) -> Result<()> {
    let [nx, ny, nz] = dims;
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({nz}, {ny}, {nx}), }}");
    // Magic (6) + version (2) + header length (2) + header, padded to 64 bytes with a newline.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat(total.next_multiple_of(64) - total));
    header.push('\n');
    write_atomic(path, |w| {
        w.write_all(b"\x93NUMPY\x01\x00")?;
        w.write_all(&(header.len() as u16).to_le_bytes())?;
        w.write_all(header.as_bytes())?;
        w.write_all(bytemuck::cast_slice(values))
    })
}

impl<'a> Runner<'a> {
    /// Writes the fields, exposure, stats row and checkpoint of the current step.
    pub(super) fn output(&mut self) -> Result<()> {
        let p = &self.built.problem;
        // Every level's voxels; the uniform files hold the cell averages on the problem's grid.
        let all = self.sim.read_fields()?;
        let n_all = p.voxel_count();
        let t = self.sim.time();
        // A broken state stops the run before anything of it is written.
        for (s, id) in self.species.iter().enumerate() {
            let f = &all[s * n_all..(s + 1) * n_all];
            let scale = f.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            // Below -1e-12 ng/mL only: a field of denormals (a species absent there) is not broken.
            if let Some(v) = f
                .iter()
                .position(|c| !c.is_finite() || (*c < -1e-3 * scale && *c < -1e-12))
            {
                return Err(SimError::Run(format!(
                    "{id} is {} at voxel {} (index {v}) at t = {:.4} h: the run stopped; the outputs up to t = {:.4} h are valid",
                    f[v],
                    p.voxel_name(v),
                    t / 3600.0,
                    self.outputs.last().map_or(0.0, |o| o.0) / 3600.0
                )));
            }
        }
        let n = p.grid.voxel_count();
        let fields = p.on_coarse_grid(&all);
        let k = self.outputs.len();
        let name = format!("fields/fields_{k:04}.vti");
        let labels: Vec<u8> = p.coarse_labels().iter().map(|&l| l as u8).collect();
        let segments = if p.segments.is_empty() {
            vec![0u8; n]
        } else {
            p.segments[..n].to_vec()
        };
        let mut arrays: Vec<VtiArray> = self
            .species
            .iter()
            .enumerate()
            .map(|(s, id)| VtiArray {
                name: id,
                data: VtiData::F32(&fields[s * n..(s + 1) * n]),
            })
            .collect();
        // Every file carries the geometry, so that ParaView can threshold by label or segment.
        let geometry = [
            VtiArray {
                name: "label",
                data: VtiData::U8(&labels),
            },
            VtiArray {
                name: "aha_segment",
                data: VtiData::U8(&segments),
            },
        ];
        arrays.extend(geometry);
        let g = &p.grid;
        write_vti(
            &self.dir.join(&name),
            g.dims,
            g.origin,
            g.spacing,
            &arrays,
            true,
        )?;
        if self.opts.npy {
            let dir = self.dir.join("npy");
            std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
            for (s, id) in self.species.iter().enumerate() {
                write_npy(
                    &dir.join(format!("{id}_{k:04}.npy")),
                    g.dims,
                    &fields[s * n..(s + 1) * n],
                )?;
            }
        }
        if p.levels.is_some() {
            // The levels themselves, for ParaView (overlapping AMR).
            let named: Vec<(&str, &[f32])> = self
                .species
                .iter()
                .enumerate()
                .map(|(s, id)| (id.as_str(), &all[s * n_all..(s + 1) * n_all]))
                .collect();
            crate::output::amr::write_levels_vthb(
                &self.dir.join(format!("fields/levels_{k:04}.vthb")),
                p,
                &named,
                true,
            )?;
        }
        if p.exposure {
            let mut e = self.sim.exposure()?;
            if p.levels.is_some() {
                e.auc = p.on_coarse_grid(&e.auc);
                e.above = p.on_coarse_grid(&e.above);
                e.occupancy = p.on_coarse_grid(&e.occupancy);
            }
            // AUC in ng·h/mL and time above EC50 in h.
            let hours = |v: &[f32], s: usize| -> Vec<f32> {
                v[s * n..(s + 1) * n].iter().map(|x| x / 3600.0).collect()
            };
            let auc: Vec<Vec<f32>> = (0..self.species.len()).map(|s| hours(&e.auc, s)).collect();
            let above: Vec<Vec<f32>> = (0..self.species.len())
                .map(|s| hours(&e.above, s))
                .collect();
            let occupied: Vec<Vec<f32>> = (0..self.species.len())
                .map(|s| hours(&e.occupancy, s))
                .collect();
            let names: Vec<[String; 3]> = self
                .species
                .iter()
                .map(|id| {
                    [
                        format!("{id}_AUC"),
                        format!("{id}_time_above_EC50"),
                        format!("{id}_occupancy_AUC"),
                    ]
                })
                .collect();
            let mut arrays: Vec<VtiArray> = Vec::new();
            for (s, [a, b, o]) in names.iter().enumerate() {
                arrays.push(VtiArray {
                    name: a,
                    data: VtiData::F32(&auc[s]),
                });
                arrays.push(VtiArray {
                    name: b,
                    data: VtiData::F32(&above[s]),
                });
                arrays.push(VtiArray {
                    name: o,
                    data: VtiData::F32(&occupied[s]),
                });
            }
            arrays.extend(geometry);
            write_vti(
                &self.dir.join("exposure.vti"),
                g.dims,
                g.origin,
                g.spacing,
                &arrays,
                true,
            )?;
        }
        self.outputs.push((t, name));
        write_pvd(&self.dir.join("fields.pvd"), &self.outputs)?;
        let row = self.row()?;
        self.rows.push(row);
        self.write_stats()?;
        self.checkpoint()
    }

    /// The pictures of `report/` (see `output::report`) at the last output.
    pub(super) fn report(&self) -> Result<()> {
        let dir = self.dir.join("report");
        std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        let p = &self.built.problem;
        let n = p.grid.voxel_count();
        let fields = p.on_coarse_grid(&self.sim.read_fields()?);
        let t_h = self.sim.time() / 3600.0;
        // The geometry as before refinement (covered voxels are `outside` at level 0).
        let grid = crate::base::Grid {
            labels: p.coarse_labels(),
            ..p.grid.clone()
        };
        for (s, id) in self.species.iter().enumerate() {
            report::slices(
                &dir.join(format!("slices_{id}.png")),
                &grid,
                self.built.anatomy.as_ref(),
                &fields[s * n..(s + 1) * n],
                id,
                t_h,
            )?;
        }
        if self.built.anatomy.is_some() && p.exposure {
            let stats = self.sim.region_stats()?;
            let t = self.sim.time().max(f64::MIN_POSITIVE);
            let per_segment = |f: &dyn Fn(&crate::sim::SpeciesStats) -> f64| -> Vec<Vec<f64>> {
                (0..self.species.len())
                    .map(|s| {
                        (1..=17u8)
                            .map(|seg| {
                                stats
                                    .iter()
                                    .find(|r| r.region == Region::Segment(seg))
                                    .map_or(0.0, |r| f(&r.species[s]))
                            })
                            .collect()
                    })
                    .collect()
            };
            report::bullseye(
                &dir.join("bullseye_auc.png"),
                &self.species,
                &per_segment(&|st| st.auc / 3600.0),
                report::BULLSEYE_AUC,
            )?;
            report::bullseye(
                &dir.join("bullseye_occupancy.png"),
                &self.species,
                &per_segment(&|st| st.occupancy_auc / t),
                report::BULLSEYE_OCCUPANCY,
            )?;
        }
        // Time courses from the stats rows.
        let names: Vec<&str> = self.columns.names.iter().map(|c| c.0.as_str()).collect();
        let table: Vec<Vec<f64>> = self
            .rows
            .iter()
            .map(|r| {
                r.split(',')
                    .map(|v| v.parse().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let column = |name: &str| -> Option<Vec<f64>> {
            let i = names.iter().position(|n| *n == name)?;
            Some(table.iter().map(|r| r[i]).collect())
        };
        let times = column("time_h").unwrap_or_default();
        let plasma: Vec<(String, Vec<f64>)> = self
            .species
            .iter()
            .filter_map(|id| Some((id.clone(), column(&format!("plasma_{id}"))?)))
            .collect();
        let baselines: Vec<f64> = plasma
            .iter()
            .map(|(id, _)| {
                p.species
                    .species
                    .iter()
                    .find(|s| &s.id == id)
                    .map_or(0.0, |s| s.baseline_plasma.value)
            })
            .collect();
        report::plasma(&dir.join("plasma.png"), &times, &plasma, &baselines)?;
        let panels: Vec<(String, report::Series)> = self
            .species
            .iter()
            .map(|id| {
                let series = ["myocardium", "border_zone", "infarct"]
                    .iter()
                    .filter_map(|r| Some((r.to_string(), column(&format!("{r}:{id}:mean"))?)))
                    .collect();
                (id.clone(), series)
            })
            .collect();
        report::regional_means(&dir.join("regional_means.png"), &times, &panels)
    }

    /// The readouts now, in the order of `columns`.
    pub(super) fn values(&self) -> Result<Vec<f64>> {
        let p = &self.built.problem;
        let t = self.sim.time();
        let mut v = vec![t / 3600.0];
        let (plasma, remote_cells) = self.sim.plasma_state()?;
        let table = &p.species.species;
        v.extend(plasma.iter().map(|l| l.concentration));
        v.extend(
            plasma
                .iter()
                .zip(table)
                .map(|(l, sp)| sp.plasma_fold(l.concentration)),
        );
        let cells = self.sim.depot_cells()?;
        for (d, c) in p.depots.iter().zip(&cells) {
            if !d.cell_free {
                v.push(*c);
            }
        }
        for (r, c) in p.compartment.remote.iter().zip(&remote_cells) {
            if !r.secretion.is_empty() && r.k_death > 0.0 {
                v.push(*c);
            }
        }
        let stats: Vec<RegionStat> = self.sim.region_stats()?;
        for r in &stats {
            let blood =
                matches!(r.region, Region::Label(l) if l.kind() == crate::base::LabelKind::Blood);
            for (st, sp) in r.species.iter().zip(table) {
                v.extend([
                    st.mean,
                    st.max,
                    st.auc / 3600.0,
                    st.time_above / 3600.0,
                    st.fraction_above,
                    if blood {
                        sp.plasma_fold(st.mean)
                    } else {
                        sp.tissue_fold(st.mean)
                    },
                    st.occupancy,
                    st.occupancy_auc / 3600.0,
                ]);
            }
        }
        let heart = self.sim.ledger()?;
        for (s, (h, pl)) in heart.species.iter().zip(&plasma).enumerate() {
            v.extend([
                h.secreted + pl.remote_secreted,
                h.degraded,
                h.taken_up,
                h.net_exchange(),
                pl.cleared,
                pl.remote_lost,
                h.in_tissue,
                pl.in_plasma,
                pl.at_remote_sites,
                body_closure(h, pl, self.initial_total[s]),
            ]);
        }
        Ok(v)
    }

    pub(super) fn row(&self) -> Result<String> {
        let v = self.values()?;
        if v.len() != self.columns.names.len() {
            return Err(SimError::Run(format!(
                "internal: {} readouts for {} columns",
                v.len(),
                self.columns.names.len()
            )));
        }
        let mut line = String::new();
        for (i, x) in v.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let _ = write!(line, "{x:e}");
        }
        Ok(line)
    }

    pub(super) fn write_stats(&self) -> Result<()> {
        let header: Vec<&str> = self.columns.names.iter().map(|c| c.0.as_str()).collect();
        let rows = &self.rows;
        write_atomic(&self.dir.join("stats.csv"), |w| {
            writeln!(w, "{}", header.join(","))?;
            for r in rows {
                writeln!(w, "{r}")?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::OutputSteps;

    /// The run finds its outputs by arithmetic; the steps are those of the list.
    #[test]
    fn output_steps_without_a_list_are_those_of_the_list() {
        for every in 1..8 {
            for total in 1..40 {
                let o = OutputSteps { every, total };
                let list = o.list();
                for now in 0..total {
                    let next = list.iter().copied().find(|&s| s > now);
                    assert_eq!(Some(o.next_after(now)), next, "{every} {total} {now}");
                }
                for s in 0..=total + 2 {
                    assert_eq!(o.contains(s), list.contains(&s), "{every} {total} {s}");
                }
            }
        }
        let huge = OutputSteps {
            every: 60,
            total: 60_000_000_000,
        };
        assert_eq!(huge.next_after(59_999_999_990), 60_000_000_000);
        assert!(huge.contains(120) && !huge.contains(121));
    }
}
